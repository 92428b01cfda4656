from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from models.base import utcnow


class ArchiveRecord(db.Model):
    """A qualification of an existing accountant (原有会计人员), imported from the archive."""

    __tablename__ = "archive_records"
    __table_args__ = (sa.UniqueConstraint("id_number", "level", name="uq_archive_id_level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    id_number: Mapped[str] = mapped_column(sa.String(32), index=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    level: Mapped[str] = mapped_column(sa.String(8))
    certificate_number: Mapped[str] = mapped_column(sa.String(40))
    obtained_on: Mapped[date | None]
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
