"""Running one job: claim it, call its handler, and record what happened.

A job is claimed by a conditional UPDATE (queued → running), so a job pushed twice (by the
commit hook and by the sweeper) still runs once. A handler that raises is tried again after a
growing delay until its attempts are spent; then the job is `failed`, with the error kept."""
import logging
import traceback
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from extensions import db
from jobs.handlers import resolve
from models import Job, JobStatus, utcnow

log = logging.getLogger("jobs")


class RetryLater(Exception):
    """The work could not be done now (a provider refused or was unreachable): try again."""


def retry_delay(attempts: int) -> timedelta:
    delays = current_app.config["JOB_RETRY_DELAYS"]
    return timedelta(seconds=delays[min(attempts, len(delays)) - 1])


def _claim(job_id: int) -> bool:
    now = utcnow()
    claimed = db.session.execute(
        sa.update(Job).where(Job.id == job_id, Job.status == JobStatus.QUEUED,
                             Job.run_after <= now)
        .values(status=JobStatus.RUNNING, started_at=now, attempts=Job.attempts + 1))
    db.session.commit()
    return claimed.rowcount == 1


def run_job(job_id: int) -> None:
    """Run the job if it is due and nobody else has; never raises (the row says how it went)."""
    try:
        if not _claim(job_id):
            return
        job = db.session.get(Job, job_id)
        result = resolve(job.kind)(job)
    except Exception as error:  # noqa: BLE001 — every failure is recorded on the row
        db.session.rollback()
        _record_failure(job_id, error)
        return
    # An UPDATE, not the loaded row: a handler may have expunged it (the export does).
    done = {"status": JobStatus.DONE, "finished_at": utcnow()}
    if result is not None:
        done["result"] = result
    db.session.execute(sa.update(Job).where(Job.id == job_id).values(**done))
    db.session.commit()


def _record_failure(job_id: int, error: Exception) -> None:
    try:
        job = db.session.get(Job, job_id)
        if job is None or job.status != JobStatus.RUNNING:
            return
        if isinstance(error, RetryLater):
            job.last_error = str(error)[:2000]
        else:
            job.last_error = "".join(traceback.format_exception(error))[-4000:]
        if job.attempts >= job.max_attempts:
            job.status = JobStatus.FAILED
            job.finished_at = utcnow()
            log.error("job %s (%s) failed after %s attempts: %s", job.id, job.kind,
                      job.attempts, str(error)[:200])
        else:
            job.status = JobStatus.QUEUED
            job.run_after = utcnow() + retry_delay(job.attempts)
            job.pushed_at = None
            log.warning("job %s (%s) attempt %s failed, retrying: %s", job.id, job.kind,
                        job.attempts, str(error)[:200])
        db.session.commit()
    except Exception:  # noqa: BLE001 — the database itself is down: the sweeper tries again
        db.session.rollback()
        log.exception("could not record the failure of job %s", job_id)
