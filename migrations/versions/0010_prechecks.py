"""prechecks: the machine pre-check's result per material, and the reviewers' doubt filter

material_prechecks holds one result per material (the picture's SHA-256 beside it), removed with
its material. applications.precheck_doubt says that one of those results is a mismatch; three
partial indexes, one per jurisdiction level like the list's own, hold only the applications
with a doubt, so the filter 机器核对有疑点 pages and counts by range scans.

Revision ID: 0010_prechecks
Revises: 0009_archive_section
Create Date: 2026-12-02 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = '0010_prechecks'
down_revision = '0009_archive_section'
branch_labels = None
depends_on = None

# Written as each planner matches them against the filter's SQL (SQLite compares "= 1").
DOUBT = sa.text("precheck_doubt")
DOUBT_IN_PROVINCE = sa.text("precheck_doubt AND jurisdiction_code IS NOT NULL")
SQLITE_DOUBT = sa.text("precheck_doubt = 1")
SQLITE_DOUBT_IN_PROVINCE = sa.text("precheck_doubt = 1 AND jurisdiction_code IS NOT NULL")


def upgrade():
    op.create_table(
        'material_prechecks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('material_id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('result', sa.JSON(), nullable=False),
        sa.Column('confidence', sa.Float(), nullable=True),
        sa.Column('duration_ms', sa.Integer(), nullable=False),
        sa.Column('engine', sa.String(length=200), nullable=False),
        sa.Column('checked_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['application_id'], ['applications.id']),
        sa.ForeignKeyConstraint(['material_id'], ['materials.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('material_id'),
    )
    op.create_index('ix_material_prechecks_application_id', 'material_prechecks',
                    ['application_id'])
    # A plain ADD COLUMN (no batch copy of the table on SQLite, which would have to carry its
    # partial indexes across).
    op.add_column('applications', sa.Column('precheck_doubt', sa.Boolean(), nullable=False,
                                            server_default=sa.false()))
    op.create_index('ix_applications_doubt_jurisdiction', 'applications',
                    ['jurisdiction_code', 'status', 'submitted_at', 'id'],
                    postgresql_where=DOUBT, sqlite_where=SQLITE_DOUBT)
    op.create_index('ix_applications_doubt_prefecture', 'applications',
                    ['prefecture_code', 'status', 'submitted_at', 'id'],
                    postgresql_where=DOUBT, sqlite_where=SQLITE_DOUBT)
    op.create_index('ix_applications_doubt_province', 'applications',
                    ['status', 'submitted_at', 'id'],
                    postgresql_where=DOUBT_IN_PROVINCE,
                    sqlite_where=SQLITE_DOUBT_IN_PROVINCE)


def downgrade():
    op.drop_index('ix_applications_doubt_province', table_name='applications')
    op.drop_index('ix_applications_doubt_prefecture', table_name='applications')
    op.drop_index('ix_applications_doubt_jurisdiction', table_name='applications')
    op.drop_column('applications', 'precheck_doubt')
    op.drop_index('ix_material_prechecks_application_id', table_name='material_prechecks')
    op.drop_table('material_prechecks')
