"""Removing what is no longer needed (PIPL Art. 19: kept no longer than its purpose needs).
Run daily by the worker in production (`maintenance.purge`), or by `flask maintenance purge`.

| kind | kept |
|---|---|
| spent captcha nonces | 1 hour (longer than any captcha lives) |
| SMS codes | 1 day (wrong tries are counted over the last hour) |
| ended or idle login sessions | 30 days, for the person's own login history |
| finished jobs | 30 days; failed ones stay until an administrator retries or 90 days pass |
| stored exports, archive files, copies of a person's data, photos of a refused appeal filing | until they expire (24 hours for exports, 7 days for copies, 1 hour for the photos) |
| wrong-password counts of unknown ID numbers | until their window and lock are over (30 minutes) |
| WeChat authorisation states | 1 day (each is usable for 10 minutes) |
| photos of a decided account appeal (账号申诉) | 180 days after the decision (the appeal row, with its decision, stays) |
Audit rows are never removed here: they are kept at least 180 days (网络安全法 Art. 21)."""
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from domain import captcha, wechat_states
from extensions import db
from models import (
    Appeal,
    AppealPhoto,
    Job,
    JobStatus,
    LoginFailure,
    LoginSession,
    SmsCode,
    StoredFile,
    utcnow,
)

SMS_CODES_KEPT = timedelta(days=1)
SESSIONS_KEPT = timedelta(days=30)
JOBS_KEPT = timedelta(days=30)
FAILED_JOBS_KEPT = timedelta(days=90)
# Long enough for the decision to be questioned (a complaint, 行政复议 within 60 days).
APPEAL_PHOTOS_KEPT = timedelta(days=180)


def purge() -> dict[str, int]:
    now = utcnow()
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    removed = {"captchas": captcha.purge_spent()}
    removed["sms_codes"] = _delete(SmsCode, SmsCode.created_at < now - SMS_CODES_KEPT)
    removed["sessions"] = _delete(LoginSession, sa.or_(
        LoginSession.ended_at < now - SESSIONS_KEPT,
        LoginSession.last_seen_at < now - SESSIONS_KEPT - idle))
    removed["jobs"] = _delete(Job, sa.or_(
        sa.and_(Job.status == JobStatus.DONE, Job.finished_at < now - JOBS_KEPT),
        sa.and_(Job.status == JobStatus.FAILED, Job.finished_at < now - FAILED_JOBS_KEPT)))
    removed["files"] = _delete(StoredFile, StoredFile.expires_at < now)
    lock_window = timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
    removed["login_failures"] = _delete(LoginFailure, sa.and_(
        sa.or_(LoginFailure.locked_until.is_(None), LoginFailure.locked_until < now),
        sa.or_(LoginFailure.window_started_at.is_(None),
               LoginFailure.window_started_at < now - lock_window)))
    removed["wechat_states"] = wechat_states.purge(now)
    removed["appeal_photos"] = _delete(AppealPhoto, AppealPhoto.appeal_id.in_(
        sa.select(Appeal.id).where(Appeal.decided_at < now - APPEAL_PHOTOS_KEPT)))
    db.session.commit()
    return removed


def _delete(model, condition) -> int:
    return db.session.execute(sa.delete(model).where(condition)).rowcount


def purge_job(job) -> dict:
    return purge()
