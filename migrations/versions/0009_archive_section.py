"""archive section: a section filled in from the archive of existing accountants, not yet
checked and saved by the person

Revision ID: 0009_archive_section
Revises: 0008_login_lock
Create Date: 2026-12-01 19:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = '0009_archive_section'
down_revision = '0008_login_lock'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('application_sections') as batch:
        batch.add_column(sa.Column('from_archive', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('application_sections') as batch:
        batch.drop_column('from_archive')
