"""Production refuses to start without its secrets and services or with a test hook; staging is
production with the hooks allowed only on 127.0.0.1."""
import pytest

from app import create_app
from config import DEV_SECRET_KEY, ProductionConfig, StagingConfig

SECRET = "3f" * 32


def production_settings(**changes) -> dict:
    settings = {
        "SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://kjxx@db/kjxx",
        "REDIS_URL": "redis://10.0.0.5:6379/0", "RATELIMIT_STORAGE_URI": "redis://10.0.0.5:6379/0",
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


def test_staging_answers_only_requests_from_this_machine(tmp_path):
    settings = production_settings(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/s.db",
                                   SMS_BACKEND="outbox", SMS_OUTBOX=str(tmp_path / "o.jsonl"))
    staging = type("Staging", (StagingConfig,), settings)
    app = create_app(staging)
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    refused = client.get("/healthz", environ_overrides={"REMOTE_ADDR": "10.1.2.3"})
    assert refused.status_code == 403
