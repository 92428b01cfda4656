"""appeals (账号申诉): a person's claim to an account whose ID number someone else registered,
or whose bound phone they lost, with its proof photos; at most one open appeal per ID number
and kind (a partial unique index)

Revision ID: 0013_appeals
Revises: 0012_wechat
Create Date: 2026-12-01 17:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = '0013_appeals'
down_revision = '0012_wechat'
branch_labels = None
depends_on = None

OPEN = "status = 'open'"


def upgrade():
    op.create_table(
        'appeals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('id_type', sa.String(length=20), nullable=False),
        sa.Column('id_number', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('phone', sa.String(length=11), nullable=False),
        sa.Column('statement', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=True),
        sa.Column('jurisdiction_code', sa.String(length=6), nullable=True),
        sa.Column('prefecture_code', sa.String(length=6), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('decided_by', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ),
        sa.ForeignKeyConstraint(['decided_by'], ['accounts.id'], ),
        sa.ForeignKeyConstraint(['jurisdiction_code'], ['regions.code'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_appeals_account_id', 'appeals', ['account_id'])
    op.create_index('uq_appeals_open_id_kind', 'appeals', ['id_number', 'kind'], unique=True,
                    postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))
    op.create_index('ix_appeals_jurisdiction', 'appeals',
                    ['jurisdiction_code', 'status', 'created_at'])
    op.create_index('ix_appeals_prefecture', 'appeals', ['prefecture_code', 'status', 'created_at'])
    op.create_index('ix_appeals_status_created', 'appeals', ['status', 'created_at'])
    op.create_table(
        'appeal_photos',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('appeal_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size_bytes', sa.Integer(), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('thumbnail', sa.LargeBinary(), nullable=False),
        sa.Column('notes', sa.Text(), nullable=False),
        sa.Column('uploaded_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('appeal_id', 'kind', name='uq_appeal_photos_kind'),
    )
    op.create_index('ix_appeal_photos_appeal_id', 'appeal_photos', ['appeal_id'])


def downgrade():
    op.drop_table('appeal_photos')
    op.drop_table('appeals')
