"""province queue: a partial index for the province reviewer's list and its capped count

The province reviewer's scope is `jurisdiction_code IS NOT NULL`. ix_applications_status_submitted
(status, submitted_at, id) orders the list but cannot answer that condition, so the capped count
(up to 10,001 rows) had to read the table: PostgreSQL chose a sequential scan, which is cheap only
while pending rows are spread evenly through the heap. In a real table the old rows are decided
and the pending ones sit at the end; with 500,000 rows ordered that way the count took 38 ms.
This partial index carries the condition in its predicate, so the list is a plain index scan and
the count an index-only scan (2 ms) whatever the physical order.

Revision ID: 0005_province_queue
Revises: 0004_review
Create Date: 2026-11-26 23:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_province_queue'
down_revision = '0004_review'
branch_labels = None
depends_on = None

PREDICATE = sa.text("jurisdiction_code IS NOT NULL")


def upgrade():
    op.create_index('ix_applications_province_queue', 'applications',
                    ['status', 'submitted_at', 'id'], unique=False,
                    postgresql_where=PREDICATE, sqlite_where=PREDICATE)


def downgrade():
    op.drop_index('ix_applications_province_queue', table_name='applications')
