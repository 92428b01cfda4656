"""Wrong logins against ID numbers that have no account lock exactly as a real account would,
so that six tries never tell whether an ID number is registered. Counted in the rate-limit
storage (memory:// or Redis), since there is no account row to count on."""
import time

from flask import current_app
from limits import RateLimitItemPerMinute

from domain.rate_limits import LimitsUnavailable, moving_window


def _limiter_and_rule():
    config = current_app.config
    rule = RateLimitItemPerMinute(config["LOGIN_MAX_FAILURES"], config["LOGIN_LOCK_MINUTES"])
    return moving_window(), rule


def minutes_locked(id_number: str) -> int:
    """0 when the ID may be tried; otherwise the minutes until it may. Raise LimitsUnavailable
    when the count cannot be read: a login is refused rather than tried uncounted."""
    limiter, rule = _limiter_and_rule()
    try:
        if limiter.test(rule, "unknown-id", id_number):
            return 0
        reset_at, _remaining = limiter.get_window_stats(rule, "unknown-id", id_number)
    except Exception as error:  # noqa: BLE001 — the storage's own errors (redis, …)
        raise LimitsUnavailable(type(error).__name__) from error
    return int(max(0, reset_at - time.time()) // 60) + 1


def count_failure(id_number: str) -> None:
    limiter, rule = _limiter_and_rule()
    try:
        limiter.hit(rule, "unknown-id", id_number)
    except Exception as error:  # noqa: BLE001
        raise LimitsUnavailable(type(error).__name__) from error
