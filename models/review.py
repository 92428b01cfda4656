from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.base import utcnow


class ReviewDecision(db.Model):
    """A reviewer's decision on one submission: 通过, or 不通过 with reasons and the sections to
    reopen. One per submission: the conditional status update makes sure of it."""

    __tablename__ = "review_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"))
    approved: Mapped[bool]
    reasons: Mapped[list] = mapped_column(sa.JSON, default=list)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    reopened: Mapped[list] = mapped_column(sa.JSON, default=list)
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)

    reviewer = relationship("Account")
    application = relationship("Application")
