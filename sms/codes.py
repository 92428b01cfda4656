"""One-time SMS codes: 6 digits from `secrets`, stored as an HMAC, 5 minutes, single use,
bound to phone and purpose, dead after 5 wrong tries. Wrong tries are counted across all codes
sent to the phone for the purpose in the last hour, so asking for another code buys no more
guesses, and asking again does not extend the wait."""
import enum
import hashlib
import hmac
import secrets
import unicodedata
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from extensions import db
from models import SmsCode, utcnow

FAILURE_MEMORY = timedelta(hours=1)


class Purpose(enum.StrEnum):
    REGISTER = "register"
    BIND = "bind"
    RESET = "reset"
    CHANGE_PHONE = "change-phone"
    STAFF_LOGIN = "staff-login"
    CLOSE_ACCOUNT = "close-account"
    WECHAT_BIND = "wechat-bind"  # to the account's own phone: "bind this WeChat"
    APPEAL = "appeal"            # the new phone of an account appeal (账号申诉)


class CodeProblem(ValueError):
    """Why a code was not accepted, in words for the person."""


def _hash(phone: str, purpose: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{phone}:{purpose}:{code}".encode(), hashlib.sha256).hexdigest()


def _recent_failures(phone: str, purpose: str) -> int:
    since = utcnow() - FAILURE_MEMORY
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(SmsCode.failed_attempts), 0)).where(
            SmsCode.phone == phone, SmsCode.purpose == purpose, SmsCode.created_at >= since)
    ) or 0


def issue_code(phone: str, purpose: Purpose) -> tuple[str, int]:
    """Store a new code (hashed); return it in clear, once, for delivery, with its row id."""
    code = f"{secrets.randbelow(10**6):06d}"
    now = utcnow()
    row = SmsCode(
        phone=phone, purpose=purpose, code_hash=_hash(phone, purpose, code), created_at=now,
        expires_at=now + timedelta(seconds=current_app.config["SMS_CODE_TTL_SECONDS"]),
        failed_attempts=0,
    )
    db.session.add(row)
    db.session.flush()
    return code, row.id


def withdraw_code(code_id: int) -> None:
    """Delivery failed: the code never reached anyone, so it must not work."""
    db.session.execute(sa.delete(SmsCode).where(SmsCode.id == code_id))


def verify_code(phone: str, purpose: Purpose, code: str, consume: bool = True) -> None:
    """Raise CodeProblem unless `code` is the live code for phone and purpose.

    With consume=True the code is spent by a conditional UPDATE, so of two requests racing with
    the same code exactly one succeeds. The caller commits (with the work the code allows)."""
    code = unicodedata.normalize("NFKC", code or "").strip()  # full-width ０-９ from an IME
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        raise CodeProblem("请输入短信中的6位数字验证码")
    latest = db.session.scalar(
        sa.select(SmsCode).where(SmsCode.phone == phone, SmsCode.purpose == purpose)
        .order_by(SmsCode.created_at.desc(), SmsCode.id.desc()).limit(1))
    if latest is None or latest.used_at is not None:
        raise CodeProblem("验证码不正确或已使用，请重新获取")
    if _recent_failures(phone, purpose) >= current_app.config["SMS_CODE_MAX_FAILURES"]:
        raise CodeProblem("验证码错误次数过多，请1小时后重新获取")
    if latest.expires_at < utcnow():
        raise CodeProblem("验证码已过期（有效期5分钟），请重新获取")
    if not hmac.compare_digest(latest.code_hash, _hash(phone, purpose, code)):
        _count_failure(latest.id)
        raise CodeProblem("验证码不正确，请核对短信中的6位数字")
    if consume:
        spent = db.session.execute(
            sa.update(SmsCode).where(SmsCode.id == latest.id, SmsCode.used_at.is_(None))
            .values(used_at=utcnow()))
        if spent.rowcount != 1:
            raise CodeProblem("验证码已使用，请重新获取")


def _count_failure(code_id: int) -> None:
    # Committed at once and on its own: the caller's transaction is about to be rolled back.
    db.session.rollback()
    db.session.execute(sa.update(SmsCode).where(SmsCode.id == code_id)
                       .values(failed_attempts=SmsCode.failed_attempts + 1))
    db.session.commit()
