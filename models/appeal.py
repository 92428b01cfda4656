import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from extensions import db
from models.base import utcnow


class AppealKind(enum.StrEnum):
    TAKEN_ID = "taken_id"       # 证件号被占用: someone else registered my ID number
    LOST_PHONE = "lost_phone"   # 手机号已不用: my own account, the bound phone is gone


class AppealStatus(enum.StrEnum):
    OPEN = "open"               # 待处理
    APPROVED = "approved"       # 已通过
    REJECTED = "rejected"       # 未通过 (with the reason)


KIND_LABELS = {AppealKind.TAKEN_ID: "证件号被占用", AppealKind.LOST_PHONE: "原手机号无法使用"}
STATUS_LABELS = {AppealStatus.OPEN: "待处理", AppealStatus.APPROVED: "已通过",
                 AppealStatus.REJECTED: "未通过"}


class Appeal(db.Model):
    """A person's claim to an account (账号申诉), proven by photos of their ID card and of
    themselves holding it, and decided by staff. Filed without logging in, so it is stored
    whether or not the ID number has an account (`account_id` then stays empty): the filing
    never tells anyone whether an ID number is registered.

    The bureau is fixed when the appeal is filed: the county of the account's record then
    (`jurisdiction_code`), or none — then only administrators see it."""

    __tablename__ = "appeals"
    __table_args__ = (
        # One open appeal per ID number and kind: a second waits for the first's decision.
        sa.Index("uq_appeals_open_id_kind", "id_number", "kind", unique=True,
                 postgresql_where=sa.text("status = 'open'"),
                 sqlite_where=sa.text("status = 'open'")),
        sa.Index("ix_appeals_jurisdiction", "jurisdiction_code", "status", "created_at"),
        sa.Index("ix_appeals_prefecture", "prefecture_code", "status", "created_at"),
        sa.Index("ix_appeals_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(12))
    id_type: Mapped[str] = mapped_column(sa.String(20))
    id_number: Mapped[str] = mapped_column(sa.String(32))   # stored as accounts store it
    name: Mapped[str] = mapped_column(sa.String(60))
    phone: Mapped[str] = mapped_column(sa.String(11))       # the new phone, verified by SMS
    statement: Mapped[str] = mapped_column(sa.Text)          # 申诉说明
    status: Mapped[str] = mapped_column(sa.String(10), default=AppealStatus.OPEN)
    reason: Mapped[str] = mapped_column(sa.Text, default="")  # why not, when rejected
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
    jurisdiction_code: Mapped[str | None] = mapped_column(sa.String(6),
                                                          sa.ForeignKey("regions.code"))
    prefecture_code: Mapped[str | None] = mapped_column(sa.String(6))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))

    account = relationship("Account", foreign_keys=[account_id])
    decider = relationship("Account", foreign_keys=[decided_by])
    jurisdiction = relationship("Region")
    photos = relationship("AppealPhoto", order_by="AppealPhoto.id", cascade="all, delete-orphan",
                          back_populates="appeal")

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[AppealKind(self.kind)]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[AppealStatus(self.status)]

    @property
    def is_open(self) -> bool:
        return self.status == AppealStatus.OPEN


class AppealPhoto(db.Model):
    """One proof photo of an appeal (人像面, 国徽面, 手持身份证照片), processed like a material
    (domain/images.py) and kept in the database beside it; served only to staff who may decide
    the appeal."""

    __tablename__ = "appeal_photos"
    __table_args__ = (sa.UniqueConstraint("appeal_id", "kind", name="uq_appeal_photos_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(sa.ForeignKey("appeals.id", ondelete="CASCADE"),
                                           index=True)
    kind: Mapped[str] = mapped_column(sa.String(12))        # id_front | id_back | holding
    sha256: Mapped[str] = mapped_column(sa.String(64))
    size_bytes: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    content: Mapped[bytes] = deferred(mapped_column(sa.LargeBinary, nullable=False))
    thumbnail: Mapped[bytes] = deferred(mapped_column(sa.LargeBinary, nullable=False))
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    appeal = relationship("Appeal", back_populates="photos")
