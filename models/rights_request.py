import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.base import utcnow


class RequestKind(enum.StrEnum):
    DELETION = "deletion"       # 删除 (个人信息保护法 Art. 47)
    CORRECTION = "correction"   # 更正、补充 (Art. 46)


class RequestStatus(enum.StrEnum):
    OPEN = "open"               # 待处理
    DONE = "done"               # 已办理
    REFUSED = "refused"         # 不予办理 (with the reason)


KIND_LABELS = {RequestKind.DELETION: "删除", RequestKind.CORRECTION: "更正"}
STATUS_LABELS = {RequestStatus.OPEN: "待处理", RequestStatus.DONE: "已办理",
                 RequestStatus.REFUSED: "不予办理"}


class RightsRequest(db.Model):
    """A person's request to delete or correct a record they submitted, sent to the finance
    bureau that holds it. The bureau is fixed when the request is sent (the record's 属地 then),
    so the request stays with that bureau whatever later happens to the record."""

    __tablename__ = "rights_requests"
    __table_args__ = (
        sa.Index("ix_rights_requests_jurisdiction", "jurisdiction_code", "status", "created_at"),
        sa.Index("ix_rights_requests_prefecture", "prefecture_code", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(12))
    details: Mapped[str] = mapped_column(sa.Text)              # what and why, in their words
    jurisdiction_code: Mapped[str] = mapped_column(sa.String(6), sa.ForeignKey("regions.code"))
    prefecture_code: Mapped[str] = mapped_column(sa.String(6))
    status: Mapped[str] = mapped_column(sa.String(10), default=RequestStatus.OPEN)
    answer: Mapped[str] = mapped_column(sa.Text, default="")   # what was done, or why not
    answered_by: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))
    answered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    account = relationship("Account", foreign_keys=[account_id], lazy="joined")
    answerer = relationship("Account", foreign_keys=[answered_by])
    jurisdiction = relationship("Region", lazy="joined")

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[RequestKind(self.kind)]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[RequestStatus(self.status)]

    @property
    def is_open(self) -> bool:
        return self.status == RequestStatus.OPEN
