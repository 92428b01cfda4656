"""Wrong logins against ID numbers that have no account lock exactly as a real account would,
so that six tries never tell whether an ID number is registered. Counted in the rate-limit
storage (memory:// or Redis), since there is no account row to count on."""
import time

from flask import current_app
from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter


def _limiter_and_rule():
    app = current_app._get_current_object()
    cached = app.extensions.get("unknown_id_lock")
    if cached is None:
        storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
        rule = RateLimitItemPerMinute(app.config["LOGIN_MAX_FAILURES"],
                                      app.config["LOGIN_LOCK_MINUTES"])
        cached = app.extensions["unknown_id_lock"] = (MovingWindowRateLimiter(storage), rule)
    return cached


def minutes_locked(id_number: str) -> int:
    """0 when the ID may be tried; otherwise the minutes until it may."""
    limiter, rule = _limiter_and_rule()
    if limiter.test(rule, "unknown-id", id_number):
        return 0
    reset_at, _remaining = limiter.get_window_stats(rule, "unknown-id", id_number)
    return int(max(0, reset_at - time.time()) // 60) + 1


def count_failure(id_number: str) -> None:
    limiter, rule = _limiter_and_rule()
    limiter.hit(rule, "unknown-id", id_number)
