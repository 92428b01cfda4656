"""Server-side login sessions: a new one at every login, ended by logout, by idleness, and by
password changes (all but the current one)."""
import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa

from extensions import db
from models import Account, LoginSession, utcnow

TOUCH_EVERY = timedelta(seconds=60)  # write last_seen at most once a minute per session


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(account: Account, ip: str) -> str:
    token = secrets.token_urlsafe(32)
    db.session.add(LoginSession(token_hash=_hash(token), account_id=account.id, ip=ip[:45]))
    account.session_token = token
    return token


def load(token: str, idle_minutes: int) -> Account | None:
    """The account of a live session, or None if the session ended or sat idle too long."""
    if not token:
        return None
    login = db.session.scalar(sa.select(LoginSession).where(LoginSession.token_hash == _hash(token)))
    now = utcnow()
    if login is None or login.ended_at is not None or not login.account.is_enabled:
        return None
    if now - login.last_seen_at > timedelta(minutes=idle_minutes):
        login.ended_at = now
        db.session.commit()
        return None
    if now - login.last_seen_at > TOUCH_EVERY:
        login.last_seen_at = now
        db.session.commit()
    account = login.account
    account.session_token = token
    return account


def touch(token: str) -> None:
    """Count the session's idle time from now, at once (load() writes at most once a minute):
    the person answered the idle-logout warning with 继续使用."""
    db.session.execute(sa.update(LoginSession)
                       .where(LoginSession.token_hash == _hash(token),
                              LoginSession.ended_at.is_(None))
                       .values(last_seen_at=utcnow()))


def end(token: str | None) -> None:
    if token:
        db.session.execute(sa.update(LoginSession)
                           .where(LoginSession.token_hash == _hash(token),
                                  LoginSession.ended_at.is_(None))
                           .values(ended_at=utcnow()))


def end_all(account: Account, keep_token: str | None = None) -> None:
    """End every session of the account, except the one with `keep_token`."""
    query = sa.update(LoginSession).where(LoginSession.account_id == account.id,
                                          LoginSession.ended_at.is_(None))
    if keep_token:
        query = query.where(LoginSession.token_hash != _hash(keep_token))
    db.session.execute(query.values(ended_at=utcnow()))
