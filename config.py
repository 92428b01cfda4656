"""Configuration classes. Every setting has one name and may be set from the environment.

`Config` is the embedded default (SQLite, console SMS, in-process limits): it runs with nothing
else installed. `ProductionConfig` refuses to start without its secrets; `TestConfig` is cheap.
"""
import os
from datetime import timedelta

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


class Config:
    ENV_NAME = "development"
    SECRET_KEY = _env("SECRET_KEY", "dev-only-secret-key-change-me")
    # None means "an SQLite file in the instance folder", resolved in create_app.
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    # Sessions and cookies
    SESSION_COOKIE_NAME = "kjxx_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    SESSION_IDLE_MINUTES = _env_int("SESSION_IDLE_MINUTES", 30)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
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

    # Rate-limit storage shared by Flask-Limiter, the SMS limits and WeChat's access token:
    # memory:// or redis://host:port
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = False

    HSTS = False


class DevelopmentConfig(Config):
    pass


class TestConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key"
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


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    HSTS = True
    SECRET_KEY = _env("SECRET_KEY")

    @classmethod
    def check(cls, config):
        """Refuse to start with missing secrets or any test hook switched on."""
        problems = []
        if not config.get("SECRET_KEY") or config["SECRET_KEY"] == Config.SECRET_KEY:
            problems.append("SECRET_KEY must be set")
        if not config.get("SQLALCHEMY_DATABASE_URI"):
            problems.append("DATABASE_URL must be set")
        if config.get("CAPTCHA_TEST_ANSWER"):
            problems.append("CAPTCHA_TEST_ANSWER is a test hook and is refused in production")
        if config.get("TWILIO_BASE_URL"):
            problems.append("TWILIO_BASE_URL is a test hook and is refused in production")
        if config.get("SMS_BACKEND") != "twilio":
            problems.append("SMS_BACKEND must be twilio in production")
        if config.get("SMS_BACKEND") == "twilio" and not all(
            config.get(k) for k in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER")
        ):
            problems.append("TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER must be set")
        for name, default in (("WECHAT_API_BASE", WECHAT_API_DEFAULT),
                              ("WECHAT_OPEN_BASE", WECHAT_OPEN_DEFAULT)):
            if config.get(name) not in (None, "", default):
                problems.append(f"{name} is a test hook and is refused in production")
        if bool(config.get("WECHAT_APPID")) != bool(config.get("WECHAT_SECRET")):
            problems.append("WECHAT_APPID and WECHAT_SECRET must be set together (or neither)")
        if problems:
            raise RuntimeError("Refusing to start: " + "; ".join(problems))


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestConfig,
    "production": ProductionConfig,
}
