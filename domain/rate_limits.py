"""One moving-window rate limiter per app over the rate-limit storage (memory:// in one process,
redis:// shared between hosts), for the counts Flask-Limiter does not keep: SMS sends and wrong
logins against unknown ID numbers."""
from flask import current_app
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

_KEY = "moving_window_limiter"


def moving_window() -> MovingWindowRateLimiter:
    app = current_app._get_current_object()
    limiter = app.extensions.get(_KEY)
    if limiter is None:
        storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
        limiter = app.extensions[_KEY] = MovingWindowRateLimiter(storage)
    return limiter
