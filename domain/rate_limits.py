"""The one rate limiter of the app: a moving window over the rate-limit storage (memory:// in one
process, redis:// shared between hosts), built in the factory. It keeps every count: form posts
per client address (login, register, forgot password), SMS sends, and wrong logins against
unknown ID numbers."""
import time

from flask import current_app
from limits import parse, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

KEY = "moving_window_limiter"


class LimitsUnavailable(Exception):
    """The storage (Redis) cannot be reached: whatever needs a counted limit must not go on."""


def init_app(app) -> None:
    storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
    app.extensions[KEY] = MovingWindowRateLimiter(storage)


def moving_window() -> MovingWindowRateLimiter:
    return current_app.extensions[KEY]


def hit_per_address(setting: str, endpoint: str, address: str) -> bool:
    """Count one more post of `endpoint` from `address` against the limit named by `setting`
    (e.g. "30 per 10 minutes"); False when over it. Raise LimitsUnavailable if nothing can be
    counted: fail closed."""
    try:
        return moving_window().hit(parse(current_app.config[setting]), "post", endpoint,
                                   address)
    except Exception as error:  # noqa: BLE001 — the storage's own errors (redis, …)
        raise LimitsUnavailable(type(error).__name__) from error


def wait_words(seconds: int) -> str:
    """"30秒", "5分钟", "3小时": how long until a refused request may try again."""
    if seconds < 60:
        return f"{seconds}秒"
    if seconds < 3600:
        return f"{(seconds + 59) // 60}分钟"
    return f"{(seconds + 3599) // 3600}小时"


def seconds_to_wait(setting: str, *keys: str) -> int:
    """0 when one more hit of `keys` fits every limit of the setting ("2 per day;5 per week"),
    else the seconds until it does. Raise LimitsUnavailable if nothing can be counted."""
    try:
        for item in parse_many(current_app.config[setting]):
            if not moving_window().test(item, setting, *keys):
                reset_at, _remaining = moving_window().get_window_stats(item, setting, *keys)
                return max(1, int(reset_at - time.time()) + 1)
    except Exception as error:  # noqa: BLE001 — the storage's own errors (redis, …)
        raise LimitsUnavailable(type(error).__name__) from error
    return 0


def hit_all(setting: str, *keys: str) -> None:
    """Count one more against every limit of the setting."""
    try:
        for item in parse_many(current_app.config[setting]):
            moving_window().hit(item, setting, *keys)
    except Exception as error:  # noqa: BLE001
        raise LimitsUnavailable(type(error).__name__) from error
