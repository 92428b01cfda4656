"""How often codes may be sent: per phone, per IP, and a global daily budget.

Counts live in the rate-limit storage (memory:// in one process, redis:// shared between hosts),
through the app's one moving-window limiter (domain/rate_limits.py builds it). Limits are checked before sending and
counted only after a successful delivery, so a failed delivery costs the person nothing."""
import time
from dataclasses import dataclass

from flask import current_app
from limits import RateLimitItemPerDay, parse_many
from limits.strategies import MovingWindowRateLimiter


class LimitExceeded(Exception):
    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class LimitsUnavailable(LimitExceeded):
    """The counts cannot be read (Redis away): no code goes out uncounted."""

    def __init__(self):
        super().__init__("短信服务暂时不可用，请稍后再试", 60)


@dataclass
class _Rules:
    limiter: MovingWindowRateLimiter
    per_phone: list
    per_ip: list
    budget: object


def init_app(app, limiter: MovingWindowRateLimiter) -> None:
    app.extensions["sms_limits"] = _Rules(
        limiter=limiter,
        per_phone=parse_many(app.config["SMS_PHONE_LIMITS"]),
        per_ip=parse_many(app.config["SMS_IP_LIMITS"]),
        budget=RateLimitItemPerDay(app.config["SMS_DAILY_BUDGET"]),
    )


def _rules() -> _Rules:
    return current_app.extensions["sms_limits"]


def _wait_words(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds}秒"
    if seconds < 3600:
        return f"{(seconds + 59) // 60}分钟"
    return f"{(seconds + 3599) // 3600}小时"


# Codes that let a person back into their account have their own per-phone count: a stranger
# asking for registration codes to someone's phone must not use up that person's reset codes.
RECOVERY = "recovery"
NEW_BINDING = "new"


def _checks(phone: str | None, ip: str, scope: str = NEW_BINDING):
    rules = _rules()
    if phone is not None:
        for item in rules.per_phone:
            yield item, ("sms-phone", scope, phone), "该手机号获取验证码过于频繁"
    for item in rules.per_ip:
        yield item, ("sms-ip", ip), "当前网络获取验证码过于频繁"
    yield rules.budget, ("sms-budget", "all"), "今日短信发送量已达上限"


def check_limits(phone: str, ip: str, scope: str = NEW_BINDING) -> None:
    """Raise LimitExceeded, with when to try again, if one more send would break a limit, or
    LimitsUnavailable if the counts cannot be read."""
    limiter = _rules().limiter
    for item, keys, words in _checks(phone, ip, scope):
        try:
            allowed = limiter.test(item, *keys)
            reset_at, _remaining = (0, 0) if allowed else limiter.get_window_stats(item, *keys)
        except Exception as error:  # noqa: BLE001 — the storage's own errors (redis, …)
            raise LimitsUnavailable() from error
        if not allowed:
            wait = max(1, int(reset_at - time.time()) + 1)
            raise LimitExceeded(f"{words}，请{_wait_words(wait)}后再试", wait)


def count_send(phone: str, ip: str, scope: str = NEW_BINDING) -> None:
    _count(phone, ip, scope=scope)


def count_undelivered(ip: str) -> None:
    """A send that delivered nothing (forgot password, ID and phone not together) still costs
    the address it came from — never the phone's own quota, or anyone could spend a stranger's
    codes by asking with a made-up ID number and their phone."""
    _count(None, ip, budget=False)


def _count(phone: str | None, ip: str, budget: bool = True, scope: str = NEW_BINDING) -> None:
    limiter = _rules().limiter
    for item, keys, _words in _checks(phone, ip, scope):
        if not budget and keys[0] == "sms-budget":
            continue
        try:
            limiter.hit(item, *keys)
        except Exception as error:  # noqa: BLE001
            raise LimitsUnavailable() from error
