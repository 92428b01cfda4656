"""Asking for work: `enqueue` writes the row; when the transaction commits, the runner is told.
The sweeper rings again for work whose first ring was lost (the queue was down) or whose retry
is due, and puts back work left `running` by a worker that died."""
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from extensions import db
from models import Job, JobStatus, utcnow

_PENDING = "jobs.committed"
RING_AGAIN_AFTER = timedelta(seconds=60)
FIRST_RING_GRACE = timedelta(seconds=5)


def init_app(app) -> None:
    from jobs.runners import RUNNERS
    backend = app.config["JOB_BACKEND"]
    if backend not in RUNNERS:
        raise RuntimeError(f"unknown JOB_BACKEND {backend!r}")
    app.extensions["jobs"] = RUNNERS[backend](app)


def runner():
    return current_app.extensions["jobs"]


def enqueue(kind: str, *, created_by=None, max_attempts: int | None = None, **payload) -> Job:
    """Add a job to the current transaction; it runs after the caller commits."""
    from jobs.handlers import HANDLERS
    if kind not in HANDLERS:
        raise KeyError(kind)
    job = Job(kind=kind, payload=payload, status=JobStatus.QUEUED, run_after=utcnow(),
              created_by=getattr(created_by, "id", created_by),
              max_attempts=max_attempts or current_app.config["JOB_MAX_ATTEMPTS"])
    db.session.add(job)
    db.session.flush()
    ring_after_commit(job.id, kind)
    return job


def ring_after_commit(job_id: int, kind: str = "") -> None:
    db.session.info.setdefault(_PENDING, []).append((runner(), job_id, kind))


@event.listens_for(Session, "after_commit")
def _ring_after_commit(session):
    for job_runner, job_id, kind in session.info.pop(_PENDING, ()):
        job_runner.push(job_id, kind)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session):
    session.info.pop(_PENDING, None)


def due_jobs(limit: int = 200) -> list[tuple[int, str]]:
    """Queued jobs that are due and were not rung for lately: (id, kind)."""
    now = utcnow()
    return [tuple(row) for row in db.session.execute(
        sa.select(Job.id, Job.kind).where(Job.status == JobStatus.QUEUED,
                                Job.run_after <= now - FIRST_RING_GRACE,
                                sa.or_(Job.pushed_at.is_(None),
                                       Job.pushed_at <= now - RING_AGAIN_AFTER))
        .order_by(Job.run_after).limit(limit))]


def sweep(push) -> int:
    """Ring for due jobs and revive abandoned ones; return how many were rung for."""
    now = utcnow()
    stuck_since = now - timedelta(seconds=current_app.config["JOB_TIMEOUT_SECONDS"] + 60)
    db.session.execute(
        sa.update(Job).where(Job.status == JobStatus.RUNNING, Job.started_at < stuck_since)
        .values(status=sa.case((Job.attempts >= Job.max_attempts, JobStatus.FAILED),
                               else_=JobStatus.QUEUED),
                last_error="the worker running this job stopped", finished_at=None))
    due = due_jobs()
    if due:
        db.session.execute(sa.update(Job).where(Job.id.in_([job_id for job_id, _ in due]))
                           .values(pushed_at=now))
    db.session.commit()
    for job_id, kind in due:
        push(job_id, kind)
    return len(due)
