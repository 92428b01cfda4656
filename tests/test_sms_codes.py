"""One-time SMS codes (sms/codes.py): 6 digits from `secrets`, stored as an HMAC, 5 minutes,
single use, bound to phone and purpose, dead after 5 wrong tries (a new code does not reset
them), and a clear message for input of the wrong shape."""
import hashlib
import hmac
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

import sms.codes
from extensions import db
from models import SmsCode
from sms import CodeProblem, Purpose, issue_code, verify_code
from tests.helpers import last_code, make_id, outbox_messages, registration_data, send_code

PHONE = "13800001111"
OTHER_PHONE = "13900002222"

FORMAT_MESSAGE = "请输入短信中的6位数字验证码"
WRONG_MESSAGE = "验证码不正确，请核对短信中的6位数字"
USED_MESSAGE = "验证码不正确或已使用，请重新获取"
EXPIRED_MESSAGE = "验证码已过期（有效期5分钟），请重新获取"
LOCKED_MESSAGE = "验证码错误次数过多，请1小时后重新获取"


def _issue(phone=PHONE, purpose=Purpose.REGISTER) -> tuple[str, int]:
    code, code_id = issue_code(phone, purpose)
    db.session.commit()
    return code, code_id


def _row(code_id) -> SmsCode:
    db.session.expire_all()
    return db.session.get(SmsCode, code_id)


def _refused(phone, purpose, code, consume=True) -> str:
    with pytest.raises(CodeProblem) as refused:
        verify_code(phone, purpose, code, consume=consume)
    db.session.rollback()
    return str(refused.value)


def _wrong(code: str) -> str:
    """A well-formed code that is not `code`."""
    return f"{(int(code) + 1) % 10**6:06d}"


def _age_codes(phone, purpose, by: timedelta) -> None:
    """Move the codes of phone and purpose into the past (no sleeping)."""
    rows = db.session.scalars(
        sa.select(SmsCode).where(SmsCode.phone == phone, SmsCode.purpose == purpose)).all()
    for row in rows:
        row.created_at -= by
        row.expires_at -= by
    db.session.commit()


# -- issuing -------------------------------------------------------------------------------------

def test_code_is_six_digits(ctx):
    for _ in range(20):
        code, _code_id = issue_code(PHONE, Purpose.REGISTER)
        assert re.fullmatch(r"\d{6}", code)
    db.session.rollback()


def test_code_comes_from_secrets(ctx, monkeypatch):
    calls = []

    def randbelow(n):
        calls.append(n)
        return 42

    monkeypatch.setattr(sms.codes.secrets, "randbelow", randbelow)
    code, _code_id = _issue()
    assert calls == [10**6]
    assert code == "000042"  # leading zeros kept: always 6 digits
    verify_code(PHONE, Purpose.REGISTER, "000042")


def test_code_is_stored_as_hmac_never_in_clear(ctx, app):
    code, code_id = _issue()
    row = _row(code_id)
    assert code not in row.code_hash
    assert re.fullmatch(r"[0-9a-f]{64}", row.code_hash)
    # An HMAC keyed with SECRET_KEY, over phone, purpose and code: not a bare hash of the code
    # (a million candidates are no secret).
    key = app.config["SECRET_KEY"].encode()
    assert row.code_hash == hmac.new(key, f"{PHONE}:register:{code}".encode(),
                                     hashlib.sha256).hexdigest()
    assert row.code_hash != hashlib.sha256(code.encode()).hexdigest()
    # No column holds the code in clear.
    assert set(SmsCode.__table__.columns.keys()) == {
        "id", "phone", "purpose", "code_hash", "created_at", "expires_at", "used_at",
        "failed_attempts"}
    raw = db.session.execute(sa.select(SmsCode.__table__).where(SmsCode.id == code_id)).one()
    assert all(code not in str(value) for value in raw)


def test_code_lives_five_minutes(ctx):
    _code, code_id = _issue()
    row = _row(code_id)
    assert row.expires_at - row.created_at == timedelta(minutes=5)
    assert row.used_at is None
    assert row.failed_attempts == 0


# -- verifying -----------------------------------------------------------------------------------

def test_right_code_is_accepted_and_spent(ctx):
    code, code_id = _issue()
    verify_code(PHONE, Purpose.REGISTER, code)
    db.session.commit()
    assert _row(code_id).used_at is not None


def test_code_is_single_use(ctx):
    code, _code_id = _issue()
    verify_code(PHONE, Purpose.REGISTER, code)
    db.session.commit()
    assert _refused(PHONE, Purpose.REGISTER, code) == USED_MESSAGE


def test_checking_without_consuming_leaves_the_code_usable(ctx):
    code, code_id = _issue(purpose=Purpose.RESET)
    verify_code(PHONE, Purpose.RESET, code, consume=False)
    db.session.commit()
    assert _row(code_id).used_at is None
    verify_code(PHONE, Purpose.RESET, code)
    db.session.commit()
    assert _refused(PHONE, Purpose.RESET, code) == USED_MESSAGE


def test_code_with_spaces_around_is_accepted(ctx):
    code, _code_id = _issue()
    verify_code(PHONE, Purpose.REGISTER, f"  {code} ")


def test_expired_code_is_refused(ctx):
    code, _code_id = _issue()
    _age_codes(PHONE, Purpose.REGISTER, timedelta(minutes=5, seconds=1))
    assert _refused(PHONE, Purpose.REGISTER, code) == EXPIRED_MESSAGE


def test_code_still_works_just_before_it_expires(ctx):
    code, _code_id = _issue()
    _age_codes(PHONE, Purpose.REGISTER, timedelta(minutes=4, seconds=50))
    verify_code(PHONE, Purpose.REGISTER, code)


@pytest.fixture
def distinct_codes(monkeypatch):
    """Codes 111111, 222222, ... so that two codes in one test never happen to be equal."""
    values = iter(range(111111, 10**6, 111111))
    monkeypatch.setattr(sms.codes.secrets, "randbelow", lambda _n: next(values))


def test_code_is_bound_to_its_purpose(ctx, distinct_codes):
    code, _code_id = _issue(purpose=Purpose.REGISTER)
    for purpose in (Purpose.RESET, Purpose.BIND, Purpose.CHANGE_PHONE):
        assert _refused(PHONE, purpose, code) == USED_MESSAGE  # no code for that purpose
    _issue(purpose=Purpose.RESET)
    # With a reset code live as well, the register code still does not pass for reset.
    assert _refused(PHONE, Purpose.RESET, code) == WRONG_MESSAGE
    verify_code(PHONE, Purpose.REGISTER, code)  # and still works for what it was sent for


def test_same_digits_are_bound_to_phone_and_purpose(ctx, monkeypatch):
    """Even the same six digits sent for two purposes or phones do not stand in for each other:
    phone and purpose are inside the HMAC, and spending one leaves the others live."""
    monkeypatch.setattr(sms.codes.secrets, "randbelow", lambda _n: 123456)
    ids = [_issue(PHONE, Purpose.REGISTER)[1], _issue(PHONE, Purpose.RESET)[1],
           _issue(OTHER_PHONE, Purpose.REGISTER)[1]]
    assert len({_row(i).code_hash for i in ids}) == 3
    verify_code(PHONE, Purpose.REGISTER, "123456")
    db.session.commit()
    assert [_row(i).used_at is not None for i in ids] == [True, False, False]


def test_code_is_bound_to_its_phone(ctx, distinct_codes):
    code, _code_id = _issue(phone=PHONE)
    assert _refused(OTHER_PHONE, Purpose.REGISTER, code) == USED_MESSAGE
    _issue(phone=OTHER_PHONE)
    assert _refused(OTHER_PHONE, Purpose.REGISTER, code) == WRONG_MESSAGE
    verify_code(PHONE, Purpose.REGISTER, code)


def test_only_the_latest_code_works(ctx, distinct_codes):
    old, _old_id = _issue()
    new, _new_id = _issue()
    assert _refused(PHONE, Purpose.REGISTER, old) == WRONG_MESSAGE
    verify_code(PHONE, Purpose.REGISTER, new)


@pytest.mark.parametrize("typed", ["12345", "abcdef", "", None, "1234567", "12 345", "12345a"])
def test_wrong_format_gets_a_clear_message(ctx, typed):
    code, code_id = _issue()
    assert _refused(PHONE, Purpose.REGISTER, typed) == FORMAT_MESSAGE
    # Input of the wrong shape is not a guess: it costs no try, and the code still works.
    assert _row(code_id).failed_attempts == 0
    verify_code(PHONE, Purpose.REGISTER, code)


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) - ord("0") + ord("０")) for c in text)


def test_full_width_digits_from_an_ime_are_the_same_code(ctx):
    """A Chinese input method in full-width mode types ０-９: the right code, not a wrong try."""
    code, code_id = _issue()
    verify_code(PHONE, Purpose.REGISTER, _full_width(code), consume=False)
    assert _row(code_id).failed_attempts == 0
    verify_code(PHONE, Purpose.REGISTER, f"\u3000{_full_width(code)}\u3000")  # ideographic spaces


@pytest.mark.parametrize("typed", ["١٢٣٤٥٦", "१२३४५६", "12345\u0663"])
def test_other_script_digits_are_a_wrong_format_not_a_wrong_try(ctx, typed):
    code, code_id = _issue()
    assert _refused(PHONE, Purpose.REGISTER, typed) == FORMAT_MESSAGE
    assert _row(code_id).failed_attempts == 0
    verify_code(PHONE, Purpose.REGISTER, code)


# -- wrong tries ---------------------------------------------------------------------------------

def test_wrong_tries_are_counted_even_though_the_caller_rolls_back(ctx):
    code, code_id = _issue()
    assert _refused(PHONE, Purpose.REGISTER, _wrong(code)) == WRONG_MESSAGE
    assert _refused(PHONE, Purpose.REGISTER, _wrong(code)) == WRONG_MESSAGE
    assert _row(code_id).failed_attempts == 2


def test_four_wrong_tries_then_the_right_code_works(ctx):
    code, _code_id = _issue()
    for _ in range(4):
        _refused(PHONE, Purpose.REGISTER, _wrong(code))
    verify_code(PHONE, Purpose.REGISTER, code)


def test_code_is_dead_after_five_wrong_tries(ctx):
    code, code_id = _issue()
    for _ in range(5):
        assert _refused(PHONE, Purpose.REGISTER, _wrong(code)) == WRONG_MESSAGE
    assert _refused(PHONE, Purpose.REGISTER, code) == LOCKED_MESSAGE
    assert _row(code_id).failed_attempts == 5  # further tries are not even compared
    assert _row(code_id).used_at is None


def test_new_code_does_not_reset_the_wrong_tries(ctx):
    code, _code_id = _issue()
    for _ in range(5):
        _refused(PHONE, Purpose.REGISTER, _wrong(code))
    new, _new_id = _issue()
    assert _refused(PHONE, Purpose.REGISTER, new) == LOCKED_MESSAGE


def test_new_code_inherits_partial_wrong_tries(ctx):
    code, _code_id = _issue()
    for _ in range(3):
        _refused(PHONE, Purpose.REGISTER, _wrong(code))
    new, _new_id = _issue()
    for _ in range(2):
        assert _refused(PHONE, Purpose.REGISTER, _wrong(new)) == WRONG_MESSAGE
    # 3 + 2 wrong tries in the hour: no more guesses, whatever the code.
    assert _refused(PHONE, Purpose.REGISTER, new) == LOCKED_MESSAGE


def test_wrong_tries_on_one_purpose_or_phone_do_not_lock_another(ctx):
    code, _code_id = _issue()
    for _ in range(5):
        _refused(PHONE, Purpose.REGISTER, _wrong(code))
    reset_code, _id = _issue(purpose=Purpose.RESET)
    verify_code(PHONE, Purpose.RESET, reset_code)
    other_code, _id = _issue(phone=OTHER_PHONE)
    verify_code(OTHER_PHONE, Purpose.REGISTER, other_code)


def test_wrong_tries_are_forgotten_after_an_hour(ctx):
    code, _code_id = _issue()
    for _ in range(5):
        _refused(PHONE, Purpose.REGISTER, _wrong(code))
    _age_codes(PHONE, Purpose.REGISTER, timedelta(hours=1, minutes=1))
    new, new_id = _issue()
    assert _row(new_id).failed_attempts == 0
    verify_code(PHONE, Purpose.REGISTER, new)


# -- through the register page -------------------------------------------------------------------

@pytest.fixture
def relaxed_phone_limits(app, monkeypatch):
    """Let one phone ask for several codes in a row (the SMS limits are tested elsewhere)."""
    from sms import limits
    monkeypatch.setitem(app.config, "SMS_PHONE_LIMITS", "100 per minute")
    monkeypatch.setitem(app.extensions, "sms_limits", app.extensions["sms_limits"])
    limits.init_app(app, app.extensions["moving_window_limiter"])
    yield


def _register(client, id_number, code):
    return client.post("/register", data=registration_data(id_number, PHONE, sms_code=code))


def _account_count(app):
    from models import Account
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Account))


def test_register_page_refuses_five_wrong_tries_and_a_new_code(app, client, outbox,
                                                                relaxed_phone_limits):
    id_number = make_id()
    assert send_code(client, "/register", PHONE).status_code == 200
    code = last_code(outbox, PHONE)
    for _ in range(5):
        response = _register(client, id_number, _wrong(code))
        assert response.status_code == 422
        assert WRONG_MESSAGE in response.get_data(as_text=True)
    response = _register(client, id_number, code)
    assert response.status_code == 422
    assert LOCKED_MESSAGE in response.get_data(as_text=True)

    # Asking for another code does not buy more guesses.
    assert send_code(client, "/register", PHONE).status_code == 200
    assert len(outbox_messages(outbox)) == 2
    new = last_code(outbox, PHONE)
    response = _register(client, id_number, new)
    assert response.status_code == 422
    assert LOCKED_MESSAGE in response.get_data(as_text=True)
    assert _account_count(app) == 0


def test_register_page_code_is_single_use(app, client, outbox):
    assert send_code(client, "/register", PHONE).status_code == 200
    code = last_code(outbox, PHONE)
    assert _register(client, make_id(), code).status_code == 303
    client.post("/logout")
    response = _register(client, make_id(seq="456"), code)
    assert response.status_code == 422
    assert _account_count(app) == 1


@pytest.mark.parametrize("typed, message", [
    ("12345", FORMAT_MESSAGE),
    ("abcdef", FORMAT_MESSAGE),
    ("", "请填写短信验证码（先点击“获取验证码”）"),
])
def test_register_page_explains_a_wrong_format(app, client, outbox, typed, message):
    assert send_code(client, "/register", PHONE).status_code == 200
    response = _register(client, make_id(), typed)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        row = db.session.scalars(sa.select(SmsCode)).one()
        assert row.failed_attempts == 0
    assert _account_count(app) == 0


def test_register_page_refuses_an_expired_code(app, client, outbox):
    assert send_code(client, "/register", PHONE).status_code == 200
    code = last_code(outbox, PHONE)
    with app.app_context():
        _age_codes(PHONE, Purpose.REGISTER, timedelta(minutes=6))
    response = _register(client, make_id(), code)
    assert response.status_code == 422
    assert EXPIRED_MESSAGE in response.get_data(as_text=True)


def test_reset_code_does_not_register(app, client):
    with app.app_context():
        code, _code_id = _issue(purpose=Purpose.RESET)
    response = _register(client, make_id(), code)
    assert response.status_code == 422
    assert USED_MESSAGE in response.get_data(as_text=True)
    with app.app_context():
        verify_code(PHONE, Purpose.RESET, code, consume=False)  # still live for its purpose
