"""wechat: bindings of an applicant's WeChat (openid found by a keyed digest, kept sealed) and
the single-use states of WeChat's web authorisation

Revision ID: 0012_wechat
Revises: 0011_rights
Create Date: 2026-12-02 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = '0012_wechat'
down_revision = '0011_rights'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'wechat_bindings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('appid', sa.String(length=32), nullable=False),
        sa.Column('openid_digest', sa.String(length=64), nullable=False),
        sa.Column('openid_sealed', sa.String(length=300), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_login_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('account_id'),
        sa.UniqueConstraint('appid', 'openid_digest', name='uq_wechat_bindings_appid_openid'),
    )
    op.create_table(
        'wechat_states',
        sa.Column('state_hash', sa.String(length=64), nullable=False),
        sa.Column('intent', sa.String(length=8), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=True),
        sa.Column('next_url', sa.String(length=300), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('spent_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ),
        sa.PrimaryKeyConstraint('state_hash'),
    )
    op.create_index('ix_wechat_states_created_at', 'wechat_states', ['created_at'])


def downgrade():
    op.drop_table('wechat_states')
    op.drop_table('wechat_bindings')
