"""pending photo: a flag instead of a ".pending" suffix on the kind

A 1-inch photo waiting for its owner's confirmation was stored as kind "id_photo.pending". It
is now kind "id_photo" with pending = true, and uniqueness is per (application, kind, pending).

Revision ID: 0007_pending_photo
Revises: 0006_jobs
Create Date: 2026-12-01 15:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = '0007_pending_photo'
down_revision = '0006_jobs'
branch_labels = None
depends_on = None

SUFFIX = ".pending"


def upgrade():
    with op.batch_alter_table('materials') as batch:
        batch.add_column(sa.Column('pending', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.drop_constraint('uq_material_kind', type_='unique')
        batch.create_unique_constraint('uq_material_kind_pending',
                                       ['application_id', 'kind', 'pending'])
    op.execute(sa.text(
        "UPDATE materials SET pending = true, kind = substr(kind, 1, length(kind) - :n) "
        "WHERE kind LIKE :pattern").bindparams(n=len(SUFFIX), pattern="%" + SUFFIX))


def downgrade():
    op.execute(sa.text("UPDATE materials SET kind = kind || :suffix WHERE pending")
               .bindparams(suffix=SUFFIX))
    with op.batch_alter_table('materials') as batch:
        batch.drop_constraint('uq_material_kind_pending', type_='unique')
        batch.create_unique_constraint('uq_material_kind', ['application_id', 'kind'])
        batch.drop_column('pending')
