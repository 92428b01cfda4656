"""Delivery backends: outbox, console, and twilio through the real twilio client against a local
stand-in (tests/twilio_standin.py, 127.0.0.1 only). And the production settings check."""
import json
import re

import pytest
import sqlalchemy as sa

from app import create_app
from config import Config, ProductionConfig
from extensions import db
from models import SmsCode
from sms import (
    CodeProblem,
    DeliveryFailed,
    Purpose,
    deliver,
    send_notice,
    twilio_backend,
    verify_code,
)
from sms.service import CODE_ATTEMPTS
from tests.helpers import CAPTCHA, outbox_messages, send_code
from tests.twilio_standin import TwilioStandIn

PHONE = "13800001111"
SID = "AC" + "0" * 32
TOKEN = "x"
FROM = "+15005550006"
FAILED_MESSAGE = "短信发送失败，请稍后重试"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                   "all_proxy")


@pytest.fixture
def twilio(monkeypatch):
    """The stand-in, with no proxy between the client and 127.0.0.1."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    with TwilioStandIn() as standin:
        yield standin


@pytest.fixture
def twilio_app(app, twilio, monkeypatch):
    for key, value in {"SMS_BACKEND": "twilio", "TWILIO_ACCOUNT_SID": SID,
                       "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_FROM_NUMBER": FROM,
                       "TWILIO_BASE_URL": twilio.url}.items():
        monkeypatch.setitem(app.config, key, value)
    return app


def code_in(text: str) -> str:
    return re.search(r"验证码(\d{6})", text)[1]


def code_rows(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(SmsCode))


def assert_not_usable(app, code):
    with app.app_context():
        with pytest.raises(CodeProblem):
            verify_code(PHONE, Purpose.REGISTER, code, consume=False)


# -- twilio: success -----------------------------------------------------------------------------

def test_twilio_backend_sends_through_the_client(twilio_app, twilio, ctx):
    sid = twilio_backend.send(PHONE, "测试短信", twilio_app.config)
    assert re.fullmatch(r"SM[0-9a-f]{32}", sid)
    [message] = twilio.messages
    assert message.answered == 201
    assert message.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert message.account_sid == SID
    assert message.auth == (SID, TOKEN)
    assert (message.to, message.from_, message.body) == ("+86" + PHONE, FROM, "测试短信")
    assert "twilio-python" in message.headers.get("User-Agent", "")


def test_register_code_goes_out_by_twilio(twilio_app, twilio, client, outbox):
    response = send_code(client, "/register", PHONE)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "验证码已发送至138****1111" in response.get_data(as_text=True)
    [message] = twilio.messages
    assert message.to == "+8613800001111"
    assert message.from_ == FROM
    assert message.auth[0] == SID
    assert message.body.startswith(twilio_app.config["SMS_SIGNATURE"])
    assert "注册账号" in message.body
    code = code_in(message.body)
    with twilio_app.app_context():
        verify_code(PHONE, Purpose.REGISTER, code, consume=False)  # the code that was sent
    assert outbox_messages(outbox) == []  # the twilio backend, not the outbox


def test_notice_goes_out_by_twilio(twilio_app, twilio, ctx):
    assert send_notice(PHONE, "您的信息已审核通过。") is True
    [message] = twilio.messages
    assert message.body == twilio_app.config["SMS_SIGNATURE"] + "您的信息已审核通过。"


# -- twilio: failures ----------------------------------------------------------------------------

@pytest.mark.parametrize("mode, status", [("reject", 400), ("error", 500)])
def test_twilio_refusal_tells_the_person_and_costs_nothing(twilio_app, twilio, client, mode,
                                                          status):
    twilio.mode = mode
    response = send_code(client, "/register", PHONE)
    assert response.status_code == 503
    assert FAILED_MESSAGE in response.get_data(as_text=True)
    # The delivery job tried each of its attempts, with a fresh code each time.
    assert len(twilio.messages) == CODE_ATTEMPTS
    assert all(message.answered == status for message in twilio.messages)
    # No code reached anyone: every one is gone and does not work.
    assert code_rows(twilio_app) == 0
    for message in twilio.messages:
        assert_not_usable(twilio_app, code_in(message.body))

    # Not counted against the limits: sending again within the minute works...
    twilio.mode = "ok"
    response = send_code(client, "/register", PHONE)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert len(twilio.messages) == CODE_ATTEMPTS + 1
    # ...and that success did count.
    response = send_code(client, "/register", PHONE)
    assert response.status_code == 429
    assert len(twilio.messages) == CODE_ATTEMPTS + 1


def test_twilio_unreachable_tells_the_person(twilio_app, twilio, client, closed_port,
                                             monkeypatch):
    monkeypatch.setitem(twilio_app.config, "TWILIO_BASE_URL", f"http://127.0.0.1:{closed_port}")
    response = send_code(client, "/register", PHONE)
    assert response.status_code == 503
    assert FAILED_MESSAGE in response.get_data(as_text=True)
    assert code_rows(twilio_app) == 0
    monkeypatch.setitem(twilio_app.config, "TWILIO_BASE_URL", twilio.url)
    assert send_code(client, "/register", PHONE).status_code == 200


@pytest.mark.parametrize("mode", ["reject", "error"])
def test_twilio_backend_raises_delivery_failed(twilio_app, twilio, ctx, mode):
    twilio.mode = mode
    with pytest.raises(DeliveryFailed):
        twilio_backend.send(PHONE, "x", twilio_app.config)


def test_twilio_backend_unreachable_raises_delivery_failed(twilio_app, ctx, closed_port,
                                                           monkeypatch):
    monkeypatch.setitem(twilio_app.config, "TWILIO_BASE_URL", f"http://127.0.0.1:{closed_port}")
    with pytest.raises(DeliveryFailed):
        twilio_backend.send(PHONE, "x", twilio_app.config)


def test_twilio_wrong_credentials_raise_delivery_failed(twilio_app, twilio, ctx, monkeypatch):
    monkeypatch.setitem(twilio_app.config, "TWILIO_AUTH_TOKEN", "")  # no auth header at all
    with pytest.raises(DeliveryFailed):
        twilio_backend.send(PHONE, "x", twilio_app.config)


def test_failed_notice_returns_false(twilio_app, twilio, ctx):
    twilio.mode = "error"
    assert send_notice(PHONE, "您的信息已审核通过。") is False


# -- outbox and console --------------------------------------------------------------------------

def test_outbox_writes_one_json_line_per_message(ctx, outbox):
    deliver(PHONE, "第一条")
    deliver("13900002222", "第二条\n两行")
    lines = outbox.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert (first["to"], first["body"]) == (PHONE, "第一条")
    assert (second["to"], second["body"]) == ("13900002222", "第二条\n两行")
    assert "第一条" in lines[0]  # UTF-8, not \u escapes
    assert first["at"].endswith("+00:00")


def test_outbox_without_a_path_fails_delivery(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_OUTBOX", None)
    with pytest.raises(DeliveryFailed):
        deliver(PHONE, "x")


def test_console_prints_the_message(app, ctx, monkeypatch, capsys, outbox):
    monkeypatch.setitem(app.config, "SMS_BACKEND", "console")
    deliver(PHONE, "验证码123456")
    assert f"[SMS] to {PHONE}: 验证码123456" in capsys.readouterr().out
    assert outbox_messages(outbox) == []


def test_unknown_backend_is_an_error(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_BACKEND", "carrier-pigeon")
    with pytest.raises(RuntimeError, match="carrier-pigeon"):
        deliver(PHONE, "x")


# -- production settings -------------------------------------------------------------------------

def production_settings(**changes) -> dict:
    settings = {
        "SECRET_KEY": "a-long-random-production-secret-of-64-hex-digits", "SQLALCHEMY_DATABASE_URI":
        "postgresql://kjxx@db.invalid/kjxx", "CAPTCHA_TEST_ANSWER": None,
        "REDIS_URL": "redis://redis.invalid:6379/0",
        "RATELIMIT_STORAGE_URI": "redis://redis.invalid:6379/0", "JOB_BACKEND": "rq",
        "SMS_BACKEND": "twilio", "TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": "secret",
        "TWILIO_FROM_NUMBER": FROM, "TWILIO_BASE_URL": None,
    }
    settings.update(changes)
    return settings


def test_production_check_accepts_complete_settings():
    ProductionConfig.check(production_settings())


@pytest.mark.parametrize("changes, complaint", [
    ({"CAPTCHA_TEST_ANSWER": "TEST"}, "CAPTCHA_TEST_ANSWER"),
    ({"SMS_BACKEND": "console"}, "SMS_BACKEND must be twilio"),
    ({"SMS_BACKEND": "outbox"}, "SMS_BACKEND must be twilio"),
    ({"SMS_BACKEND": None}, "SMS_BACKEND must be twilio"),
    ({"SECRET_KEY": None}, "SECRET_KEY"),
    ({"SECRET_KEY": ""}, "SECRET_KEY"),
    ({"SECRET_KEY": Config.SECRET_KEY}, "SECRET_KEY"),
    ({"SQLALCHEMY_DATABASE_URI": None}, "DATABASE_URL"),
    ({"TWILIO_ACCOUNT_SID": None}, "TWILIO_ACCOUNT_SID"),
    ({"TWILIO_AUTH_TOKEN": ""}, "TWILIO_AUTH_TOKEN"),
    ({"TWILIO_FROM_NUMBER": None}, "TWILIO_FROM_NUMBER"),
])
def test_production_check_refuses(changes, complaint):
    with pytest.raises(RuntimeError, match="Refusing to start") as refused:
        ProductionConfig.check(production_settings(**changes))
    assert complaint in str(refused.value)


def test_production_check_lists_every_problem():
    with pytest.raises(RuntimeError) as refused:
        ProductionConfig.check(production_settings(
            SECRET_KEY=None, CAPTCHA_TEST_ANSWER="TEST", SMS_BACKEND="outbox"))
    message = str(refused.value)
    assert all(word in message for word in ("SECRET_KEY", "CAPTCHA_TEST_ANSWER", "SMS_BACKEND"))


def _production_class(**changes):
    return type("Production", (ProductionConfig,), production_settings(**changes))


def test_app_factory_runs_the_production_check():
    with pytest.raises(RuntimeError, match="CAPTCHA_TEST_ANSWER"):
        create_app(_production_class(CAPTCHA_TEST_ANSWER=CAPTCHA))
    with pytest.raises(RuntimeError, match="SMS_BACKEND must be twilio"):
        create_app(_production_class(SMS_BACKEND="outbox"))


def test_app_factory_refuses_production_without_a_database():
    with pytest.raises(RuntimeError, match="DATABASE_URL"):
        create_app(_production_class(SQLALCHEMY_DATABASE_URI=None))


def test_production_check_refuses_a_twilio_stand_in():
    with pytest.raises(RuntimeError, match="TWILIO_BASE_URL"):
        ProductionConfig.check(production_settings(TWILIO_BASE_URL="http://127.0.0.1:9"))
