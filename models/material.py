from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from extensions import db
from models.base import utcnow


class Material(db.Model):
    """A proof photo (证明材料) of an application, stored processed, in the database: small by
    rule (≤ 200 KB), so the record and its image share one transaction and one backup.

    `kind` names what it proves (id_photo, id_front, work_proof, qualification_junior, …). A
    processed 1-inch photo waiting for the person's confirmation is `pending`: it stands beside
    the kept one until confirmed, and counts for nothing until then."""

    __tablename__ = "materials"
    __table_args__ = (sa.UniqueConstraint("application_id", "kind", "pending",
                                          name="uq_material_kind_pending"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"), index=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"))
    kind: Mapped[str] = mapped_column(sa.String(40))
    pending: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    sha256: Mapped[str] = mapped_column(sa.String(64))
    size_bytes: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    content: Mapped[bytes] = deferred(mapped_column(sa.LargeBinary))
    thumbnail: Mapped[bytes] = deferred(mapped_column(sa.LargeBinary))
    notes: Mapped[str] = mapped_column(sa.Text, default="")  # what the pipeline fixed
    # Copied from the approved record into a change (信息变更), not uploaded for it.
    carried: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    application = relationship("Application")
