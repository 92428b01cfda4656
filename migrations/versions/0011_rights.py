"""rights: a person's requests to their finance bureau to delete or correct a submitted record
(个人信息保护法 Art. 46–47); an index for the copy of a person's data (stored files of purpose
"copy"), whose list of who viewed the ID number and photos reads the audit log by subject

Revision ID: 0011_rights
Revises: 0010_prechecks
Create Date: 2026-12-02 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = '0011_rights'
down_revision = '0010_prechecks'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'rights_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('details', sa.Text(), nullable=False),
        sa.Column('jurisdiction_code', sa.String(length=6), nullable=False),
        sa.Column('prefecture_code', sa.String(length=6), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('answer', sa.Text(), nullable=False),
        sa.Column('answered_by', sa.Integer(), nullable=True),
        sa.Column('answered_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id']),
        sa.ForeignKeyConstraint(['answered_by'], ['accounts.id']),
        sa.ForeignKeyConstraint(['jurisdiction_code'], ['regions.code']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_rights_requests_account_id', 'rights_requests', ['account_id'])
    op.create_index('ix_rights_requests_jurisdiction', 'rights_requests',
                    ['jurisdiction_code', 'status', 'created_at'])
    op.create_index('ix_rights_requests_prefecture', 'rights_requests',
                    ['prefecture_code', 'status', 'created_at'])
    op.create_index('ix_audit_entries_subject_action', 'audit_entries', ['subject', 'action'])


def downgrade():
    op.drop_index('ix_audit_entries_subject_action', table_name='audit_entries')
    op.drop_table('rights_requests')
