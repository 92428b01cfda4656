from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from models.base import utcnow


class JobStatus:
    QUEUED = "queued"      # waiting to run (again, after `run_after`)
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"      # every attempt failed: shown to administrators, never dropped


class Job(db.Model):
    """Background work (SMS delivery, notices, exports, imports). The row is the truth: it is
    written in the transaction that asks for the work, so nothing asked for is lost if the
    queue (Redis) is down; the queue only says "run job N now"."""

    __tablename__ = "jobs"
    __table_args__ = (sa.Index("ix_jobs_status_run_after", "status", "run_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40), index=True)
    payload: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    status: Mapped[str] = mapped_column(sa.String(10), default=JobStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=5)
    run_after: Mapped[datetime] = mapped_column(default=utcnow)
    # When the sweeper last rang the queue for it (None: only the commit hook has).
    pushed_at: Mapped[datetime | None]
    # What the work produced, for the page that waits on it (e.g. "sent", a file id, counts).
    result: Mapped[dict | None] = mapped_column(sa.JSON)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)
