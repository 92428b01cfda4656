"""Before every send: a solved (and spent) captcha, then the limits (sms/limits.py) per phone,
per IP and a global daily budget, in a moving window of the `limits` library."""
import copy
import json
import re
import secrets
import time
import types

import limits.storage.memory
import pytest
import sqlalchemy as sa
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

import domain.captcha
import sms.limits
from extensions import db
from models import SmsCode
from sms import DeliveryFailed, LimitExceeded, Purpose, check_limits, send_code
from tests.helpers import CAPTCHA, make_id, outbox_messages, register, seeded_applicant

PHONE = "13800001111"
IP = "203.0.113.7"
PHONE_MESSAGE = "该手机号获取验证码过于频繁"
IP_MESSAGE = "当前网络获取验证码过于频繁"
BUDGET_MESSAGE = "今日短信发送量已达上限"
CAPTCHA_MESSAGE = "图形验证码不正确，未发送短信"


class Clock:
    """Stands in for the `time` module inside the limits storage and sms.limits."""

    def __init__(self):
        self.now = time.time()

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(limits.storage.memory, "time", fake)
    monkeypatch.setattr(sms.limits, "time", fake)
    return fake


@pytest.fixture
def sms_limits(app, monkeypatch):
    """configure(SMS_PHONE_LIMITS=..., ...): set limit settings and parse them again (the
    factory parsed them into app.extensions['sms_limits']); all undone afterwards."""
    from sms import limits
    monkeypatch.setitem(app.extensions, "sms_limits", app.extensions["sms_limits"])

    def configure(**settings):
        for key, value in settings.items():
            monkeypatch.setitem(app.config, key, value)
        limits.init_app(app, app.extensions["moving_window_limiter"])

    return configure


def post_send(client, phone=PHONE, ip=IP, url="/register", captcha=CAPTCHA, **fields):
    data = {"phone": phone, "captcha": captcha, **fields}
    return client.post(f"{url}/send-code", data=data, environ_base={"REMOTE_ADDR": ip})


def wait_seconds(text: str) -> int:
    """The wait in a 'please try again in …' message, in seconds."""
    match = re.search(r"请(\d+)(秒|分钟|小时)后再试", text)
    assert match, text
    return int(match[1]) * {"秒": 1, "分钟": 60, "小时": 3600}[match[2]]


def code_rows(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(SmsCode))


def send(phone=PHONE, ip=IP):
    send_code(phone, Purpose.REGISTER, ip)


def refused(phone=PHONE, ip=IP) -> LimitExceeded:
    with pytest.raises(LimitExceeded) as exceeded:
        send(phone, ip)
    return exceeded.value


# -- the rules -----------------------------------------------------------------------------------

def test_limits_use_a_moving_window_in_memory(ctx, sms_limits):
    sms_limits()
    rules = sms.limits._rules()
    assert isinstance(rules.limiter, MovingWindowRateLimiter)
    assert isinstance(rules.limiter.storage, MemoryStorage)
    assert [str(item) for item in rules.per_phone] == [
        "1 per 60 second", "5 per 1 hour", "10 per 1 day"]
    assert rules.budget.amount == 200000


# -- per phone -----------------------------------------------------------------------------------

def test_one_code_per_phone_per_minute(app, client, outbox, clock, sms_limits):
    sms_limits()
    assert post_send(client).status_code == 200
    clock.advance(10)
    response = post_send(client)
    assert response.status_code == 429
    text = response.get_data(as_text=True)
    assert PHONE_MESSAGE in text
    assert "请51秒后再试" in text
    assert len(outbox_messages(outbox)) == 1
    assert code_rows(app) == 1  # a refused send issues nothing

    clock.advance(51)
    assert post_send(client).status_code == 200
    assert len(outbox_messages(outbox)) == 2


def test_refusal_right_after_a_send_says_about_a_minute(client, outbox, sms_limits):
    sms_limits()
    assert post_send(client).status_code == 200
    response = post_send(client)
    assert response.status_code == 429
    text = response.get_data(as_text=True)
    assert PHONE_MESSAGE in text
    assert 55 <= wait_seconds(text) <= 60
    assert re.search(r"请(\d+秒|1分钟)后再试", text)


def test_five_codes_per_phone_per_hour(ctx, outbox, clock, sms_limits):
    sms_limits()
    start = clock.now
    for _ in range(5):
        send()
        clock.advance(61)
    exceeded = refused()
    assert PHONE_MESSAGE in exceeded.message
    assert "分钟后再试" in exceeded.message
    assert exceeded.retry_after == pytest.approx(3600 - 5 * 61, abs=2)
    clock.now = start + 3601  # the first send left the hour
    send()
    assert len(outbox_messages(outbox)) == 6


def test_ten_codes_per_phone_per_day(ctx, outbox, clock, sms_limits):
    sms_limits()
    start = clock.now
    for _ in range(5):
        send()
        clock.advance(61)
    clock.now = start + 3700
    for _ in range(5):
        send()
        clock.advance(61)
    clock.now = start + 2 * 3600 + 1000  # the hour is free again, the day is not
    exceeded = refused()
    assert PHONE_MESSAGE in exceeded.message
    assert "小时后再试" in exceeded.message
    assert exceeded.retry_after == pytest.approx(86400 - 8200, abs=2)
    clock.now = start + 86400 + 1
    send()
    assert len(outbox_messages(outbox)) == 11


def test_other_phones_are_not_held_up(ctx, outbox, sms_limits):
    sms_limits()
    send(PHONE)
    refused(PHONE)
    send("13900002222")


def test_configured_phone_limit_counts(ctx, outbox, clock, sms_limits):
    sms_limits(SMS_PHONE_LIMITS="2 per hour")
    send()
    clock.advance(1800)
    send()
    clock.advance(1799)
    assert "请2秒后再试" in refused().message  # a moving window: the first send is 3599 s old
    clock.advance(2)
    send()
    assert "分钟后再试" in refused().message  # the second send is still within the hour


# -- per IP and the budget -----------------------------------------------------------------------

def test_per_ip_limit(app, client, outbox, sms_limits):
    sms_limits(SMS_IP_LIMITS="2 per hour")
    assert post_send(client, phone="13800000001").status_code == 200
    assert post_send(client, phone="13800000002").status_code == 200
    response = post_send(client, phone="13800000003")
    assert response.status_code == 429
    text = response.get_data(as_text=True)
    assert IP_MESSAGE in text
    assert 3500 <= wait_seconds(text) <= 3600  # "请60分钟后再试" or "请1小时后再试"
    assert len(outbox_messages(outbox)) == 2
    # Another network is not held up.
    assert post_send(client, phone="13800000003", ip="198.51.100.9").status_code == 200


def test_global_daily_budget(app, client, outbox, clock, sms_limits):
    sms_limits(SMS_DAILY_BUDGET=3)
    for n in range(3):
        assert post_send(client, phone=f"1380000000{n}", ip=f"198.51.100.{n}").status_code == 200
    response = post_send(client, phone="13800000009", ip="192.0.2.1")
    assert response.status_code == 429
    text = response.get_data(as_text=True)
    assert BUDGET_MESSAGE in text
    assert "小时后再试" in text
    assert len(outbox_messages(outbox)) == 3
    clock.advance(86401)
    assert post_send(client, phone="13800000009", ip="192.0.2.1").status_code == 200


def test_limits_are_checked_before_anything_is_issued(ctx, outbox, sms_limits):
    sms_limits(SMS_DAILY_BUDGET=1)
    send()
    refused("13900002222")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SmsCode)) == 1
    assert len(outbox_messages(outbox)) == 1
    with pytest.raises(LimitExceeded):
        check_limits("13700003333", "192.0.2.99")


def test_failed_delivery_does_not_count(app, ctx, outbox, monkeypatch, sms_limits):
    sms_limits()
    monkeypatch.setitem(app.config, "SMS_OUTBOX", None)  # the outbox backend fails
    with pytest.raises(DeliveryFailed):
        send()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SmsCode)) == 0
    monkeypatch.setitem(app.config, "SMS_OUTBOX", str(outbox))
    send()  # within the minute: the failure cost nothing
    refused()  # and the success counted


def test_a_reset_request_that_sends_nothing_spends_the_address_not_the_phone(
        app, client, outbox, sms_limits):
    """Asking with a made-up ID number and someone's phone answers as usual and sends nothing;
    it costs the address it came from, never the phone's own quota — else ten such requests
    would block a stranger's codes for a day."""
    sms_limits(SMS_IP_LIMITS="2 per hour")
    unknown_id = make_id(seq="789")
    for _ in range(2):
        response = post_send(client, url="/forgot-password", id_number=unknown_id)
        assert response.status_code == 200
    assert outbox_messages(outbox) == []
    refused = post_send(client, url="/forgot-password", id_number=unknown_id)
    assert refused.status_code == 429  # the address has spent its sends
    assert IP_MESSAGE in refused.get_data(as_text=True)
    # the phone's owner, from their own network, still gets codes
    assert post_send(client, ip="10.9.9.9").status_code == 200
    assert [m["to"] for m in outbox_messages(outbox)] == [PHONE]


def test_reset_code_reaches_the_owner(app, client, outbox, sms_limits):
    sms_limits()
    id_number = make_id()
    assert register(client, outbox, id_number, PHONE).status_code == 303
    client.post("/logout")
    app.extensions["sms_limits"].limiter.storage.reset()  # the register send counted
    response = post_send(client, url="/forgot-password", id_number=id_number)
    assert response.status_code == 200
    assert len(outbox_messages(outbox)) == 2


# -- captcha before every send -------------------------------------------------------------------

@pytest.fixture
def real_captcha(app, monkeypatch):
    """No test answer; every challenge's answer is AAAA."""
    app.config["CAPTCHA_TEST_ANSWER"] = None  # the autouse fixture puts it back
    # Only the captcha module's view of `secrets`: the image library draws from it too.
    fake = types.SimpleNamespace(choice=lambda _alphabet: "A", token_hex=secrets.token_hex)
    monkeypatch.setattr(domain.captcha, "secrets", fake)
    return "AAAA"


def test_captcha_image_puts_a_challenge_in_the_session(client, real_captcha):
    response = client.get("/captcha.png")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    assert response.data.startswith(b"\x89PNG\r\n\x1a\n")
    with client.session_transaction() as session:
        challenge = session["captcha"]
        stored = json.dumps(dict(session))
    assert set(challenge) == {"nonce", "digest", "expires"}
    assert challenge["expires"] > time.time()
    assert real_captcha not in stored  # only a keyed digest of it (lower-case hex)


def test_new_challenge_returns_a_png(ctx, app):
    store = {}
    png = domain.captcha.new_challenge(store, app.config["SECRET_KEY"], 300)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert set(store[domain.captcha.SESSION_KEY]) == {"nonce", "digest", "expires"}
    other = {}
    domain.captcha.new_challenge(other, app.config["SECRET_KEY"], 300)
    assert other["captcha"]["nonce"] != store["captcha"]["nonce"]


def test_wrong_answer_fails_and_spends_the_challenge(ctx, app, real_captcha):
    key = app.config["SECRET_KEY"]
    store = {}
    domain.captcha.new_challenge(store, key, 300)
    assert domain.captcha.check(store, "CCCC", key) is False
    assert domain.captcha.SESSION_KEY not in store
    assert domain.captcha.check(store, real_captcha, key) is False  # no second guess


def test_right_answer_passes_once_and_a_replayed_copy_fails(ctx, app, real_captcha):
    key = app.config["SECRET_KEY"]
    store = {}
    domain.captcha.new_challenge(store, key, 300)
    replay = copy.deepcopy(store)  # an old cookie kept by whoever sends
    assert domain.captcha.check(store, " aaaa ", key) is True  # case and spaces forgiven
    assert domain.captcha.SESSION_KEY not in store
    assert domain.captcha.check(store, real_captcha, key) is False
    assert domain.captcha.check(replay, real_captcha, key) is False


def test_expired_or_missing_challenge_fails(ctx, app, real_captcha):
    key = app.config["SECRET_KEY"]
    store = {}
    domain.captcha.new_challenge(store, key, 300)
    store["captcha"]["expires"] = int(time.time()) - 1
    assert domain.captcha.check(store, real_captcha, key) is False
    assert domain.captcha.check({}, real_captcha, key) is False
    domain.captcha.new_challenge(store, key, 300)
    assert domain.captcha.check(store, "", key) is False


def test_challenge_made_with_another_key_fails(ctx, app, real_captcha):
    store = {}
    domain.captcha.new_challenge(store, "another-key", 300)
    assert domain.captcha.check(store, real_captcha, app.config["SECRET_KEY"]) is False


def test_send_with_a_wrong_captcha_sends_nothing(app, client, outbox, real_captcha):
    client.get("/captcha.png")
    response = post_send(client, captcha="CCCC")
    assert response.status_code == 422
    assert CAPTCHA_MESSAGE in response.get_data(as_text=True)
    assert outbox_messages(outbox) == []
    assert code_rows(app) == 0
    # The wrong answer spent the picture: its right answer no longer helps.
    response = post_send(client, captcha=real_captcha)
    assert response.status_code == 422
    assert outbox_messages(outbox) == []


def test_send_without_fetching_a_captcha_sends_nothing(app, client, outbox, real_captcha):
    response = post_send(client, captcha=real_captcha)
    assert response.status_code == 422
    assert CAPTCHA_MESSAGE in response.get_data(as_text=True)
    assert outbox_messages(outbox) == []


def test_empty_captcha_sends_nothing(app, client, outbox, real_captcha):
    client.get("/captcha.png")
    response = post_send(client, captcha="")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert CAPTCHA_MESSAGE in text or "请先填写图形验证码" in text
    assert outbox_messages(outbox) == []


def test_each_send_needs_a_new_captcha(app, client, outbox, real_captcha):
    client.get("/captcha.png")
    old_cookie = client.get_cookie("kjxx_session").value
    assert post_send(client, captcha=real_captcha).status_code == 200
    assert len(outbox_messages(outbox)) == 1
    # Same answer again, for another phone (so no SMS limit is in the way): refused.
    response = post_send(client, phone="13900002222", captcha=real_captcha)
    assert response.status_code == 422
    assert CAPTCHA_MESSAGE in response.get_data(as_text=True)
    # Replaying the cookie that still holds the challenge: refused, its nonce is spent.
    client.set_cookie("kjxx_session", old_cookie)
    response = post_send(client, phone="13900002222", captcha=real_captcha)
    assert response.status_code == 422
    assert len(outbox_messages(outbox)) == 1
    # A new picture, solved: sent.
    client.get("/captcha.png")
    assert post_send(client, phone="13900002222", captcha=real_captcha).status_code == 200
    assert len(outbox_messages(outbox)) == 2


def test_registration_codes_to_a_phone_do_not_use_up_its_reset_codes(app, client, outbox,
                                                                     sms_limits):
    """A stranger asking for registration codes to someone's phone (each costs a captcha) must
    not block that person's forgot-password codes: the two counts are apart."""
    sms_limits(SMS_PHONE_LIMITS="2 per day")
    id_number = seeded_applicant(app, phone=PHONE)
    for ip in ("10.0.0.1", "10.0.0.2"):
        assert post_send(client, ip=ip).status_code == 200          # a stranger's requests
    assert post_send(client, ip="10.0.0.3").status_code == 429      # that count is spent
    response = post_send(client, url="/forgot-password", ip="10.0.0.4", id_number=id_number)
    assert response.status_code == 200
    assert any("找回密码" in m["body"] for m in outbox_messages(outbox))
