"""login lock: one rule for every ID number — a window start on accounts, and a table of counts
for ID numbers without an account (keyed by an HMAC of the number)

Revision ID: 0008_login_lock
Revises: 0007_pending_photo
Create Date: 2026-12-01 16:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = '0008_login_lock'
down_revision = '0007_pending_photo'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('accounts') as batch:
        batch.add_column(sa.Column('failure_window_started_at', sa.DateTime(), nullable=True))
    op.create_table(
        'login_failures',
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('window_started_at', sa.DateTime(), nullable=True),
        sa.Column('locked_until', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('key_hash'),
    )
    op.create_index('ix_login_failures_locked_until', 'login_failures', ['locked_until'])


def downgrade():
    op.drop_table('login_failures')
    with op.batch_alter_table('accounts') as batch:
        batch.drop_column('failure_window_started_at')
