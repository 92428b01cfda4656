"""Production refuses to start without its secrets and services or with a test hook; staging is
production with the hooks allowed only on 127.0.0.1."""
import pytest

from app import loopback_only
from config import DEV_SECRET_KEY, ProductionConfig, StagingConfig

SECRET = "3f" * 32


def production_settings(**changes) -> dict:
    settings = {
        "SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://kjxx@db/kjxx",
        "REDIS_URL": "redis://127.0.0.1:6379/14", "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/14",
        "JOB_BACKEND": "rq", "CAPTCHA_TEST_ANSWER": None, "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM_NUMBER":
        "+15005550006", "TWILIO_BASE_URL": None, "BIND": "127.0.0.1:8000",
    }
    settings.update(changes)
    return settings


def test_complete_production_settings_pass():
    assert ProductionConfig.problems(production_settings()) == []


@pytest.mark.parametrize("changes, complaint", [
    ({"SECRET_KEY": DEV_SECRET_KEY}, "SECRET_KEY must be set"),
    ({"SECRET_KEY": "short"}, "at least 32 characters"),
    ({"REDIS_URL": None}, "REDIS_URL must be set"),
    ({"RATELIMIT_STORAGE_URI": "memory://"}, "RATELIMIT_STORAGE_URI must be redis://"),
    ({"JOB_BACKEND": "thread"}, "JOB_BACKEND must be rq"),
    ({"JOB_BACKEND": "inline"}, "JOB_BACKEND must be rq"),
])
def test_production_refuses(changes, complaint):
    with pytest.raises(RuntimeError, match=complaint):
        ProductionConfig.check(production_settings(**changes))


def test_the_secret_from_the_environment_is_accepted(monkeypatch):
    """The bug that stopped the documented start: the key was compared with itself."""
    monkeypatch.setenv("SECRET_KEY", SECRET)
    import importlib

    import config
    reloaded = importlib.reload(config)
    try:
        assert reloaded.Config.SECRET_KEY == SECRET
        settings = production_settings(SECRET_KEY=reloaded.ProductionConfig.SECRET_KEY)
        assert reloaded.ProductionConfig.problems(settings) == []
    finally:
        monkeypatch.delenv("SECRET_KEY")
        importlib.reload(config)


def test_staging_allows_the_hooks_on_loopback_only():
    hooks = {"CAPTCHA_TEST_ANSWER": "TEST", "TWILIO_BASE_URL": "http://127.0.0.1:9999"}
    assert StagingConfig.problems(production_settings(**hooks)) == []
    assert "refused in production" in "; ".join(
        ProductionConfig.problems(production_settings(**hooks)))
    problems = "; ".join(StagingConfig.problems(production_settings(
        BIND="0.0.0.0:8000", TWILIO_BASE_URL="http://twilio.example:80")))
    assert "BIND=127.0.0.1" in problems and "TWILIO_BASE_URL must point at 127.0.0.1" in problems


def test_staging_may_use_the_outbox_but_must_name_it():
    assert StagingConfig.problems(production_settings(SMS_BACKEND="outbox",
                                                      SMS_OUTBOX="/tmp/x.jsonl")) == []
    assert StagingConfig.problems(production_settings(SMS_BACKEND="outbox")) == \
        ["SMS_OUTBOX must be set"]
    assert "SMS_BACKEND must be twilio" in "; ".join(
        ProductionConfig.problems(production_settings(SMS_BACKEND="outbox",
                                                      SMS_OUTBOX="/tmp/x.jsonl")))


def test_staging_answers_only_requests_from_this_machine():
    from flask import Flask
    plain = Flask("plain")
    plain.add_url_rule("/healthz", "healthz", lambda: "ok")
    plain.wsgi_app = loopback_only(plain.wsgi_app)
    client = plain.test_client()
    assert client.get("/healthz").status_code == 200
    for peer in ("10.1.2.3", "192.168.0.9", ""):
        refused = client.get("/healthz", environ_overrides={"REMOTE_ADDR": peer},
                             headers={"X-Forwarded-For": "127.0.0.1"})
        assert refused.status_code == 403
