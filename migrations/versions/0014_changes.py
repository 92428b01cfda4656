"""changes (信息变更): an account's record in versions. applications gains its kind (首次采集 /
信息变更), the approved version a change starts from, and the parts it changes; an account may
now have several applications, at most one open and one approved (two partial unique indexes
replace the unique account_id). A picture copied from the record into a change is `carried`.

Revision ID: 0014_changes
Revises: 0012_wechat
Create Date: 2026-12-01 16:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = '0014_changes'
down_revision = '0013_appeals'
branch_labels = None
depends_on = None

OPEN = "status IN ('draft', 'pending', 'rejected')"
RECORD = "status = 'approved'"


def _drop_unique_account_id():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint('applications_account_id_key', 'applications', type_='unique')
        return
    # SQLite: the constraint has no name; batch mode rebuilds the table, naming it first.
    with op.batch_alter_table(
            'applications',
            naming_convention={"uq": "uq_%(table_name)s_%(column_0_name)s"}) as batch:
        batch.drop_constraint('uq_applications_account_id', type_='unique')


def upgrade():
    with op.batch_alter_table('applications') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=8), nullable=False,
                                   server_default='first'))
        batch.add_column(sa.Column('base_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('change_parts', sa.JSON(), nullable=True))
        batch.create_foreign_key('fk_applications_base_id', 'applications', ['base_id'], ['id'])
    _drop_unique_account_id()
    op.create_index('ix_applications_account_id', 'applications', ['account_id'])
    op.create_index('uq_applications_one_open', 'applications', ['account_id'], unique=True,
                    postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))
    op.create_index('uq_applications_one_record', 'applications', ['account_id'], unique=True,
                    postgresql_where=sa.text(RECORD), sqlite_where=sa.text(RECORD))
    with op.batch_alter_table('materials') as batch:
        batch.add_column(sa.Column('carried', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('materials') as batch:
        batch.drop_column('carried')
    op.drop_index('uq_applications_one_record', table_name='applications')
    op.drop_index('uq_applications_one_open', table_name='applications')
    op.drop_index('ix_applications_account_id', table_name='applications')
    # the name each database gave the original constraint (SQLite: the one upgrade drops)
    name = 'applications_account_id_key' if op.get_bind().dialect.name == "postgresql" \
        else 'uq_applications_account_id'
    with op.batch_alter_table('applications') as batch:
        batch.drop_constraint('fk_applications_base_id', type_='foreignkey')
        batch.drop_column('change_parts')
        batch.drop_column('base_id')
        batch.drop_column('kind')
        batch.create_unique_constraint(name, ['account_id'])
