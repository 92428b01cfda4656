from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from models.base import utcnow


class MaterialPrecheck(db.Model):
    """What the machine pre-check (机器核对) found on one material's picture: advice for the
    reviewer, never a decision. One row per material, for the picture whose SHA-256 it names;
    replacing the picture deletes the row in the same transaction (domain/prechecks.py).

    `result` is precheck.Result.to_dict(): a status and message per field and what was read,
    an ID number only masked. Removed with its material (ON DELETE CASCADE)."""

    __tablename__ = "material_prechecks"

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(
        sa.ForeignKey("materials.id", ondelete="CASCADE"), unique=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"), index=True)
    sha256: Mapped[str] = mapped_column(sa.String(64))       # the picture that was checked
    kind: Mapped[str] = mapped_column(sa.String(20))          # id_card | certificate | portrait
    status: Mapped[str] = mapped_column(sa.String(12))        # match | mismatch | unreadable | not_checked
    message: Mapped[str] = mapped_column(sa.Text, default="")
    result: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    confidence: Mapped[float | None] = mapped_column(sa.Float)
    duration_ms: Mapped[int] = mapped_column(default=0)
    engine: Mapped[str] = mapped_column(sa.String(200), default="")
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)
