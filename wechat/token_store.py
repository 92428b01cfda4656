"""Where the official account's access token is kept between calls.

One token serves every app host and worker: in Redis when the rate-limit storage is Redis (one
refresh at a time, by a lock taken with SET NX PX; the others wait and read what it stored), in
this process otherwise. A token is kept until shortly before WeChat says it expires."""
import logging
import threading
import time
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

import redis

from wechat.errors import WeChatUnavailable

log = logging.getLogger("wechat")

EARLY_SECONDS = 300
Fetch = Callable[[], tuple[str, int]]  # -> (token, expires_in seconds)


def cache_seconds(expires_in: int) -> float:
    """How long to keep a token: until 5 minutes before it expires, but at least half its life.

    The stable-token API hands out the next token in the last 5 minutes of the old one, and
    then answers with an expires_in of 300 or a little more."""
    return max(expires_in - EARLY_SECONDS, expires_in / 2)


class MemoryTokenStore:
    """For one process (the embedded default): each process fetches its own token."""

    def __init__(self):
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def get_or_fetch(self, key: str, fetch: Fetch) -> str:
        with self._lock:
            token, until = self._tokens.get(key, (None, 0.0))
            if token and until > time.monotonic():
                return token
            token, expires_in = fetch()
            self._tokens[key] = (token, time.monotonic() + cache_seconds(expires_in))
            return token

    def discard(self, key: str, token: str) -> None:
        """Forget `token` if it is still the one kept: a newer one may already replace it."""
        with self._lock:
            if self._tokens.get(key, (None,))[0] == token:
                del self._tokens[key]


_DELETE_IF_EQUAL = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class RedisTokenStore:
    """Shared by every process using the same Redis."""

    PREFIX = "wechat:access_token:"

    def __init__(self, client: redis.Redis, lock_seconds: float = 15, poll_seconds: float = 0.05):
        # lock_seconds covers one fetch with its retries; a holder that dies frees it by expiry.
        self._redis = client
        self._lock_ms = int(lock_seconds * 1000)
        self._poll = poll_seconds
        self._delete_if_equal = client.register_script(_DELETE_IF_EQUAL)

    def get_or_fetch(self, key: str, fetch: Fetch) -> str:
        try:
            return self._get_or_fetch(self.PREFIX + key, fetch)
        except redis.RedisError as error:
            raise WeChatUnavailable(f"token store unreachable: {type(error).__name__}") from error

    def discard(self, key: str, token: str) -> None:
        try:
            self._delete_if_equal(keys=[self.PREFIX + key], args=[token])
        except redis.RedisError as error:
            raise WeChatUnavailable(f"token store unreachable: {type(error).__name__}") from error

    def _get_or_fetch(self, name: str, fetch: Fetch) -> str:
        lock = name + ":lock"
        deadline = time.monotonic() + self._lock_ms / 1000 + 1
        while True:
            token = self._redis.get(name)
            if token:
                return token.decode()
            owner = uuid.uuid4().hex
            if self._redis.set(lock, owner, nx=True, px=self._lock_ms):
                try:
                    token = self._redis.get(name)  # stored between our read and our lock?
                    if token:
                        return token.decode()
                    token, expires_in = fetch()
                    self._redis.set(name, token, px=max(1, int(cache_seconds(expires_in) * 1000)))
                    return token
                finally:
                    self._delete_if_equal(keys=[lock], args=[owner])
            if time.monotonic() > deadline:
                raise WeChatUnavailable("another process holds the token refresh too long")
            time.sleep(self._poll)


def store_for(config):
    """Redis when REDIS_URL names one (the Redis the app hosts already share)."""
    url = config.get("REDIS_URL") or ""
    scheme = urlsplit(url).scheme
    if scheme in ("redis", "rediss"):
        return RedisTokenStore(redis.Redis.from_url(url, socket_connect_timeout=2,
                                                    socket_timeout=2))
    if scheme not in ("", "memory"):
        log.warning("WeChat access token kept per process: %s is not a plain Redis URL", scheme)
    return MemoryTokenStore()
