"""The one rate limiter of the app: a moving window over the rate-limit storage (memory:// in one
process, redis:// shared between hosts), built in the factory. It keeps every count: form posts
per client address (login, register, forgot password), SMS sends, and wrong logins against
unknown ID numbers."""
from flask import current_app
from limits import parse
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
