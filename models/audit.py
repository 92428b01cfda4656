from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from models.base import utcnow


class AuditEntry(db.Model):
    """One row of the append-only audit log; `row_hash` chains it to the row before."""

    __tablename__ = "audit_entries"
    # A person's copy of their data lists who viewed their ID number and photos: those rows by
    # their (masked) subject, without reading the whole log.
    __table_args__ = (sa.Index("ix_audit_entries_subject_action", "subject", "action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(sa.String(80))
    action: Mapped[str] = mapped_column(sa.String(40), index=True)
    subject: Mapped[str] = mapped_column(sa.String(120), default="")
    ip: Mapped[str] = mapped_column(sa.String(45), default="")
    details: Mapped[str] = mapped_column(sa.Text, default="")
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    row_hash: Mapped[str] = mapped_column(sa.String(64))


# The guards the migrations install (each migration keeps its own frozen copy); tests that empty
# the table between runs put them back from here.
APPEND_ONLY_SQLITE = [
    "CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries "
    "BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END",
    "CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries "
    "BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END",
]
