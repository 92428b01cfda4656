from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column

from extensions import db
from models.base import utcnow


class StoredFile(db.Model):
    """A file made or received by a job: an export to download, an archive file to import. Kept
    in the database so app hosts stay stateless; removed by the purge when it expires."""

    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
    purpose: Mapped[str] = mapped_column(sa.String(20))          # export | archive | copy
    filename: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    content: Mapped[bytes] = deferred(mapped_column(sa.LargeBinary, nullable=False))
    size_bytes: Mapped[int] = mapped_column(default=0)
    row_count: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
