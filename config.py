"""Configuration classes. Every setting has one name and may be set from the environment.

`Config` is the embedded default (SQLite, console SMS, in-process limits): it runs with nothing
else installed. `ProductionConfig` refuses to start without its secrets; `TestConfig` is cheap.
"""
import os
from datetime import timedelta
from urllib.parse import urlsplit

# WeChat's own addresses: WECHAT_API_BASE / WECHAT_OPEN_BASE may point elsewhere only in tests.
WECHAT_API_DEFAULT = "https://api.weixin.qq.com"
WECHAT_OPEN_DEFAULT = "https://open.weixin.qq.com"


def _env(name, default=None):
    value = os.environ.get(name)
    return default if value in (None, "") else value


def _env_int(name, default):
    return int(_env(name, default))


def _env_bool(name, default=False):
    value = _env(name)
    if value is None:
        return default
    return value.lower() in ("1", "true", "yes", "on")


DEV_SECRET_KEY = "dev-only-secret-key-change-me"
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def is_loopback_url(url: str | None) -> bool:
    host = urlsplit(url or "").hostname or ""
    return host in LOOPBACK


class Config:
    ENV_NAME = "development"
    SECRET_KEY = _env("SECRET_KEY", DEV_SECRET_KEY)
    # None means "an SQLite file in the instance folder", resolved in create_app.
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL")
    # Dead pooled connections are found without a round trip: db_connections.py
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}

    # Sessions and cookies
    SESSION_COOKIE_NAME = "kjxx_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    SESSION_IDLE_MINUTES = _env_int("SESSION_IDLE_MINUTES", 30)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    # The cookie is written when it changes, not re-signed on every response: the server-side
    # login session (SESSION_IDLE_MINUTES) is what keeps time.
    SESSION_REFRESH_EACH_REQUEST = False
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    TRUST_PROXY = _env_int("TRUST_PROXY", 0)  # number of proxies (nginx) in front

    # Requests
    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 16 * 1024 * 1024)

    # Photos (证明材料): limits, sizes and the 1-inch photo
    IMAGE_MAX_PIXELS = _env_int("IMAGE_MAX_PIXELS", 40_000_000)
    DOCUMENT_MAX_SIDE = _env_int("DOCUMENT_MAX_SIDE", 1600)
    DOCUMENT_MAX_BYTES = _env_int("DOCUMENT_MAX_BYTES", 200 * 1024)
    PHOTO_WIDTH = _env_int("PHOTO_WIDTH", 295)
    PHOTO_HEIGHT = _env_int("PHOTO_HEIGHT", 413)
    PHOTO_MAX_BYTES = _env_int("PHOTO_MAX_BYTES", 20 * 1024)
    PHOTO_MIN_WIDTH = _env_int("PHOTO_MIN_WIDTH", 200)
    PHOTO_MIN_HEIGHT = _env_int("PHOTO_MIN_HEIGHT", 280)

    # Passwords: argon2id, ASVS parameters (memory in KiB)
    ARGON2_MEMORY_COST = _env_int("ARGON2_MEMORY_COST", 19456)
    ARGON2_TIME_COST = _env_int("ARGON2_TIME_COST", 2)
    ARGON2_PARALLELISM = _env_int("ARGON2_PARALLELISM", 1)
    LOGIN_MAX_FAILURES = _env_int("LOGIN_MAX_FAILURES", 5)
    LOGIN_LOCK_MINUTES = _env_int("LOGIN_LOCK_MINUTES", 30)
    LOGIN_IP_LIMIT = _env("LOGIN_IP_LIMIT", "30 per 10 minutes")
    # Offices and mobile carriers put many people behind one address: keep these generous.
    REGISTER_IP_LIMIT = _env("REGISTER_IP_LIMIT", "60 per hour")
    RESET_IP_LIMIT = _env("RESET_IP_LIMIT", "60 per hour")
    # Account appeals (账号申诉) filed, per new phone and per address: a few a day is plenty.
    APPEAL_PHONE_LIMITS = _env("APPEAL_PHONE_LIMITS", "2 per day;5 per 30 days")
    APPEAL_IP_LIMITS = _env("APPEAL_IP_LIMITS", "10 per day")
    # Posts of the appeal form (each one decodes up to three photos), whatever their outcome.
    APPEAL_POST_IP_LIMIT = _env("APPEAL_POST_IP_LIMIT", "60 per hour")

    # Captcha
    CAPTCHA_TTL_SECONDS = _env_int("CAPTCHA_TTL_SECONDS", 300)
    CAPTCHA_TEST_ANSWER = _env("CAPTCHA_TEST_ANSWER")

    # SMS
    SMS_BACKEND = _env("SMS_BACKEND", "console")  # console | outbox | twilio
    SMS_OUTBOX = _env("SMS_OUTBOX")
    SMS_SIGNATURE = _env("SMS_SIGNATURE", "【云南省会计人员信息采集】")
    SMS_CODE_TTL_SECONDS = _env_int("SMS_CODE_TTL_SECONDS", 300)
    SMS_CODE_MAX_FAILURES = _env_int("SMS_CODE_MAX_FAILURES", 5)
    SMS_PHONE_LIMITS = _env("SMS_PHONE_LIMITS", "1 per 60 seconds;5 per hour;10 per day")
    SMS_IP_LIMITS = _env("SMS_IP_LIMITS", "20 per hour;50 per day")
    SMS_DAILY_BUDGET = _env_int("SMS_DAILY_BUDGET", 200000)
    TWILIO_ACCOUNT_SID = _env("TWILIO_ACCOUNT_SID")
    TWILIO_AUTH_TOKEN = _env("TWILIO_AUTH_TOKEN")
    TWILIO_FROM_NUMBER = _env("TWILIO_FROM_NUMBER")
    TWILIO_BASE_URL = _env("TWILIO_BASE_URL")  # a local stand-in for tests; unset in production

    # WeChat (微信): silent web authorisation and template messages. Unset: no WeChat button.
    WECHAT_APPID = _env("WECHAT_APPID")
    WECHAT_SECRET = _env("WECHAT_SECRET")
    WECHAT_TEMPLATE_ID = _env("WECHAT_TEMPLATE_ID")  # the review-decision notice
    WECHAT_API_BASE = _env("WECHAT_API_BASE", WECHAT_API_DEFAULT)  # test hook
    WECHAT_OPEN_BASE = _env("WECHAT_OPEN_BASE", WECHAT_OPEN_DEFAULT)  # test hook
    # The site's address as people reach it (https://kjxx.example.gov.cn): WeChat's redirect_uri
    # and the link in a template message are built from it, never from a request. Unset: no
    # WeChat login is offered.
    PUBLIC_URL = _env("PUBLIC_URL")

    # Redis: rate-limit counts, the job queue, shared caches (WeChat's access token). Unset:
    # everything in-process.
    REDIS_URL = _env("REDIS_URL")
    # Where the rate limiter keeps its counts (per-address form posts, SMS sends, unknown-ID
    # logins): memory:// in one process, redis://host:port when several processes or hosts serve
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", REDIS_URL or "memory://")

    # A file the operator keeps (off the database host) where the audit log's head is written
    # every few minutes: `flask audit verify` checks the log against it (domain/audit_anchors.py)
    AUDIT_ANCHOR_FILE = _env("AUDIT_ANCHOR_FILE")

    # Background jobs (SMS delivery, notices, large exports, imports): `thread` runs them in this
    # process (the embedded default), `rq` hands them to `flask jobs work` through Redis,
    # `inline` runs them right after the commit that queued them (tests).
    JOB_BACKEND = _env("JOB_BACKEND", "thread")
    JOB_QUEUE = _env("JOB_QUEUE", "kjxx")
    JOB_MAX_ATTEMPTS = _env_int("JOB_MAX_ATTEMPTS", 5)
    # Seconds to wait before each retry; the last value repeats.
    JOB_RETRY_DELAYS = tuple(int(s) for s in _env("JOB_RETRY_DELAYS", "5,15,60,300").split(","))
    JOB_TIMEOUT_SECONDS = _env_int("JOB_TIMEOUT_SECONDS", 600)
    # Reviewer exports up to this many rows stream at once; larger ones are built by a job.
    EXPORT_SYNC_MAX_ROWS = _env_int("EXPORT_SYNC_MAX_ROWS", 2000)
    EXPORT_KEEP_HOURS = _env_int("EXPORT_KEEP_HOURS", 24)
    # Archive files uploaded by administrators (nginx allows this much on that one address),
    # and how long they and their rejected-rows files are kept.
    ARCHIVE_MAX_BYTES = _env_int("ARCHIVE_MAX_BYTES", 32 * 1024 * 1024)
    ARCHIVE_KEEP_DAYS = _env_int("ARCHIVE_KEEP_DAYS", 7)
    # A person's copy of their own data (个人信息副本, PIPL Art. 45) stays downloadable this long.
    COPY_KEEP_DAYS = _env_int("COPY_KEEP_DAYS", 7)

    # Machine pre-checks (机器核对) of uploaded pictures, run by the job worker (precheck/,
    # domain/prechecks.py): advice shown to reviewers. Off, or without the engines installed
    # (requirements-precheck.txt), the reviewer's flags say 未检查.
    PRECHECK_ENABLED = _env_bool("PRECHECK_ENABLED", True)

    HSTS = False


class DevelopmentConfig(Config):
    pass


class TestConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key"
    REDIS_URL = None
    JOB_BACKEND = "inline"
    JOB_RETRY_DELAYS = (0,)
    # A check reads a picture for about half a second: only the pre-check tests switch it on.
    PRECHECK_ENABLED = False
    # None: the test fixtures give each test session its own SQLite file.
    SQLALCHEMY_DATABASE_URI = _env("TEST_DATABASE_URL")
    ARGON2_MEMORY_COST = 1024
    ARGON2_TIME_COST = 1
    SMS_BACKEND = "outbox"
    CAPTCHA_TEST_ANSWER = None  # tests set it where they want a fixed answer
    RATELIMIT_STORAGE_URI = "memory://"
    WECHAT_APPID = WECHAT_SECRET = WECHAT_TEMPLATE_ID = None  # tests configure their own
    WECHAT_API_BASE = WECHAT_API_DEFAULT
    WECHAT_OPEN_BASE = WECHAT_OPEN_DEFAULT
    PUBLIC_URL = None


class ProductionConfig(Config):
    """Refuses to start without its secrets, its services, or with any test hook switched on."""
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    HSTS = True
    JOB_BACKEND = _env("JOB_BACKEND", "rq")
    TEST_HOOKS = ("CAPTCHA_TEST_ANSWER", "TWILIO_BASE_URL")
    WECHAT_BASES = (("WECHAT_API_BASE", WECHAT_API_DEFAULT), ("WECHAT_OPEN_BASE", WECHAT_OPEN_DEFAULT))

    @classmethod
    def check(cls, config):
        problems = cls.problems(config)
        if problems:
            raise RuntimeError("Refusing to start: " + "; ".join(problems))

    @classmethod
    def problems(cls, config) -> list[str]:
        problems = []
        if not config.get("SECRET_KEY") or config["SECRET_KEY"] == DEV_SECRET_KEY:
            problems.append("SECRET_KEY must be set")
        elif len(config["SECRET_KEY"]) < 32:
            problems.append("SECRET_KEY must be at least 32 characters (64 random hex digits)")
        if not config.get("SQLALCHEMY_DATABASE_URI"):
            problems.append("DATABASE_URL must be set")
        if not config.get("REDIS_URL"):
            problems.append("REDIS_URL must be set (rate limits and the job queue)")
        if not str(config.get("RATELIMIT_STORAGE_URI", "")).startswith(("redis://", "rediss://")):
            problems.append("RATELIMIT_STORAGE_URI must be redis:// (shared by every app host)")
        if config.get("JOB_BACKEND") != "rq":
            problems.append("JOB_BACKEND must be rq (jobs run in `flask jobs work`)")
        if bool(config.get("WECHAT_APPID")) != bool(config.get("WECHAT_SECRET")):
            problems.append("WECHAT_APPID and WECHAT_SECRET must be set together (or neither)")
        if config.get("WECHAT_APPID") and not cls.public_url_ok(config.get("PUBLIC_URL")):
            problems.append("PUBLIC_URL must be the site's https:// address when WeChat is set")
        problems += cls.hook_problems(config)
        problems += cls.sms_problems(config)
        return problems

    @classmethod
    def public_url_ok(cls, url) -> bool:
        parts = urlsplit(url or "")
        return parts.scheme == "https" and bool(parts.hostname)

    @classmethod
    def hook_problems(cls, config) -> list[str]:
        problems = [f"{name} is a test hook and is refused in production"
                    for name in cls.TEST_HOOKS if config.get(name)]
        for name, default in cls.WECHAT_BASES:
            if config.get(name) not in (None, "", default):
                problems.append(f"{name} is a test hook and is refused in production")
        return problems

    @classmethod
    def sms_problems(cls, config) -> list[str]:
        problems = []
        if config.get("SMS_BACKEND") != "twilio":
            problems.append("SMS_BACKEND must be twilio in production")
        elif not all(config.get(k) for k in
                     ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER")):
            problems.append(
                "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER must be set")
        return problems


class StagingConfig(ProductionConfig):
    """The production shape on one machine, for the end-to-end, load and fault tests: the same
    checks, except that the test hooks are allowed, and only while everything stays on this
    machine (gunicorn bound to 127.0.0.1, stand-ins on 127.0.0.1, requests from 127.0.0.1)."""
    ENV_NAME = "staging"
    BIND = _env("BIND", "127.0.0.1:8000")

    @classmethod
    def hook_problems(cls, config) -> list[str]:
        problems = []
        if not is_loopback_url("http://" + str(config.get("BIND", ""))):
            problems.append("staging serves only on 127.0.0.1: set BIND=127.0.0.1:PORT")
        for name in ("TWILIO_BASE_URL", "WECHAT_API_BASE", "WECHAT_OPEN_BASE"):
            default = dict(cls.WECHAT_BASES).get(name)
            value = config.get(name)
            if value and value != default and not is_loopback_url(value):
                problems.append(f"{name} must point at 127.0.0.1 in staging")
        return problems

    @classmethod
    def sms_problems(cls, config) -> list[str]:
        if config.get("SMS_BACKEND") == "outbox":
            return [] if config.get("SMS_OUTBOX") else ["SMS_OUTBOX must be set"]
        return super().sms_problems(config)


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestConfig,
    "staging": StagingConfig,
    "production": ProductionConfig,
}
