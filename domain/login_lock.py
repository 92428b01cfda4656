"""Wrong passwords lock an ID number for a while: LOGIN_MAX_FAILURES (5) wrong passwords within
LOGIN_LOCK_MINUTES (30) lock it for LOGIN_LOCK_MINUTES from the last of them.

One rule, one clock and one sentence, whether the ID number has an account or not (so the lock
never tells whether an ID is registered) and wherever a password is asked: logging in, and the
current password asked by 修改密码 and 更换手机号 (so a session left open is no way to guess
it). An account keeps its count on its own row; an ID number without an account keeps it in
`login_failures`, under a keyed hash of the number. A count whose window has passed starts
again: an old mistake does not count for ever."""
import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from extensions import db
from models import Account, LoginFailure, utcnow


@dataclass
class Count:
    failures: int
    window_started_at: datetime | None
    locked_until: datetime | None


def _rule() -> tuple[int, timedelta]:
    config = current_app.config
    return config["LOGIN_MAX_FAILURES"], timedelta(minutes=config["LOGIN_LOCK_MINUTES"])


def after_failure(count: Count, now: datetime) -> Count:
    """The count after one more wrong password (pure: the same for accounts and unknown IDs)."""
    most, window = _rule()
    if count.window_started_at is None or now - count.window_started_at > window:
        count = Count(0, now, count.locked_until)
    failures = count.failures + 1
    if failures >= most:
        return Count(0, None, now + window)  # locked from the last wrong password
    return Count(failures, count.window_started_at, count.locked_until)


def minutes_left(locked_until: datetime | None, now: datetime) -> int:
    """0 when not locked; else whole minutes to wait, rounded up."""
    if locked_until is None or locked_until <= now:
        return 0
    return math.ceil((locked_until - now).total_seconds() / 60)


def message(minutes: int) -> str:
    return (f"密码错误次数过多，账号已临时锁定，请{minutes}分钟后再试，"
            "或通过“忘记密码”重置密码")


def _key(id_number: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"login-lock:{id_number}".encode(), hashlib.sha256).hexdigest()


def _row(id_number: str, create: bool = False) -> LoginFailure | None:
    row = db.session.get(LoginFailure, _key(id_number))
    if row is None and create:
        row = LoginFailure(key_hash=_key(id_number), failures=0)
        db.session.add(row)
    return row


def _read(account: Account | None, id_number: str) -> Count:
    if account is not None:
        return Count(account.failed_logins, account.failure_window_started_at,
                     account.locked_until)
    row = _row(id_number)
    return Count(row.failures, row.window_started_at, row.locked_until) if row else \
        Count(0, None, None)


def _write(account: Account | None, id_number: str, count: Count) -> None:
    target = account if account is not None else _row(id_number, create=True)
    if account is not None:
        target.failed_logins = count.failures
        target.failure_window_started_at = count.window_started_at
    else:
        target.failures = count.failures
        target.window_started_at = count.window_started_at
    target.locked_until = count.locked_until


def minutes_locked(account: Account | None, id_number: str) -> int:
    return minutes_left(_read(account, id_number).locked_until, utcnow())


def count_failure(account: Account | None, id_number: str) -> int:
    """One more wrong password; return the minutes locked now (0: not locked). The caller
    commits."""
    now = utcnow()
    count = after_failure(_read(account, id_number), now)
    _write(account, id_number, count)
    return minutes_left(count.locked_until, now)


def clear(account: Account) -> None:
    """A right password, or a reset by SMS: the count starts again."""
    account.failed_logins = 0
    account.failure_window_started_at = None
    account.locked_until = None
