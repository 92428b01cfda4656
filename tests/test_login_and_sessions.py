"""Login (one answer for unknown ID and wrong password, lockout, per-IP limit, captcha) and the
server-side login sessions (new at login, idle timeout, logout, password change and reset)."""
import hashlib
import io
import re
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from argon2 import PasswordHasher
from PIL import Image

from domain import accounts, captcha
from extensions import db
from models import Account, AuditEntry, LoginSession, utcnow
from tests.helpers import (
    CAPTCHA,
    PASSWORD,
    body,
    htmx,
    last_code,
    login,
    make_id,
    register,
    seeded_applicant,
    send_code,
)

NEW_PASSWORD = "Kunming@2027xy"
COOKIE = "kjxx_session"
HOLDING_PAGES = ("/login", "/account/bind-phone", "/account/password")


# --- helpers -----------------------------------------------------------------------------------





def account_of(app, id_number) -> Account:
    with app.app_context():
        account = db.session.scalar(sa.select(Account).where(Account.id_number == id_number))
        db.session.expunge_all()
        db.session.remove()
        return account


def update_account(app, id_number, **values):
    with app.app_context():
        db.session.execute(sa.update(Account).where(Account.id_number == id_number)
                           .values(**values))
        db.session.commit()
        db.session.remove()


def login_sessions(app) -> list[LoginSession]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(LoginSession).order_by(LoginSession.id)))
        db.session.expunge_all()
        db.session.remove()
        return rows


def session_data(app, client) -> dict:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return app.session_interface.get_signing_serializer(app).loads(cookie.value)


def has_access(client) -> bool:
    """Whether the client's cookie still opens /home (anything but a trip to the login page)."""
    response = client.get("/home")
    if response.status_code == 303 and urlsplit(response.headers["Location"]).path == "/login":
        return False
    assert response.status_code in (200, 302, 303), response.status_code
    return True


def reach_home(client):
    response = client.get("/home", follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path not in HOLDING_PAGES, response.request.path
    return response


def refusal_of(response) -> str:
    """The text of the error summary of the login form."""
    match = re.search(r'<div class="error-summary".*?<ul>(.*?)</ul>', body(response), re.S)
    assert match, body(response)
    return re.sub(r"\s+", " ", match.group(1)).strip()


def reset_by_sms(client, outbox, id_number, phone="13800001111", password=NEW_PASSWORD):
    assert send_code(client, "/forgot-password", phone, id_number=id_number).status_code == 200
    code = last_code(outbox, phone)
    response = client.post("/forgot-password", data={
        "id_number": id_number, "phone": phone, "sms_code": code, "password": password,
        "password2": password, "action": "reset"})
    assert response.status_code == 303, body(response)
    return response


# --- one answer, lockout -----------------------------------------------------------------------

def test_same_message_for_unknown_id_and_wrong_password(app, client):
    id_number = seeded_applicant(app)
    unknown = client.post("/login", data={"id_number": make_id(seq="999"), "password": PASSWORD,
                                          "captcha": CAPTCHA})
    wrong = client.post("/login", data={"id_number": id_number, "password": "Wrong#Pass123",
                                        "captcha": CAPTCHA})
    assert unknown.status_code == wrong.status_code == 422
    assert refusal_of(unknown) == refusal_of(wrong)
    assert accounts.BAD_CREDENTIALS in refusal_of(wrong)
    # the captcha must be solved again: the spent answer is not sent back
    assert 'name="captcha" spellcheck="false" type="text" value=""' in body(wrong)
    # nothing about the password is sent back either
    assert "Wrong#Pass123" not in body(wrong)


def test_unknown_id_answers_like_an_account_and_locks_like_one(app, client):
    data = {"id_number": make_id(seq="999"), "password": PASSWORD, "captcha": CAPTCHA}
    for _ in range(5):
        response = client.post("/login", data=data)
        assert response.status_code == 422
        assert accounts.BAD_CREDENTIALS in refusal_of(response)
    response = client.post("/login", data=data)
    assert response.status_code == 422
    assert "已临时锁定" in refusal_of(response) and "30分钟" in refusal_of(response)


def test_lock_answer_does_not_reveal_whether_the_id_exists(app, client):
    """domain.accounts.authenticate: "the lock never says whether the ID exists"."""
    known, unknown = seeded_applicant(app), make_id(seq="999")
    answers = {}
    for id_number in (known, unknown):
        for _ in range(6):
            response = login(client, id_number, "Wrong#Pass123")
        answers[id_number] = refusal_of(response)
    assert answers[known] == answers[unknown]


def test_five_failures_lock_for_thirty_minutes(app, client):
    id_number = seeded_applicant(app)
    for attempt in range(1, 6):
        response = login(client, id_number, "Wrong#Pass123")
        assert response.status_code == 422
        assert accounts.BAD_CREDENTIALS in refusal_of(response)
        if attempt < 5:
            assert account_of(app, id_number).locked_until is None
    locked_until = account_of(app, id_number).locked_until
    assert locked_until is not None
    assert timedelta(minutes=29) < locked_until - utcnow() <= timedelta(minutes=30)
    response = login(client, id_number)  # the right password
    assert response.status_code == 422
    message = refusal_of(response)
    assert "锁定" in message and "忘记密码" in message and "30分钟" in message
    assert client.get_cookie(COOKIE) is None or "_user_id" not in session_data(app, client)
    assert not login_sessions(app)
    assert not has_access(client)


def test_a_success_resets_the_failure_count(app, client):
    id_number = seeded_applicant(app)
    for _ in range(4):
        login(client, id_number, "Wrong#Pass123")
    assert login(client, id_number).status_code == 303
    assert account_of(app, id_number).failed_logins == 0
    client.post("/logout")
    for _ in range(4):
        login(client, id_number, "Wrong#Pass123")
    assert login(client, id_number).status_code == 303  # 4 + 4 failures never locked it


def test_login_works_after_the_lock_passes(app, client):
    id_number = seeded_applicant(app)
    for _ in range(5):
        login(client, id_number, "Wrong#Pass123")
    assert login(client, id_number).status_code == 422
    update_account(app, id_number, locked_until=utcnow() + timedelta(seconds=50))
    response = login(client, id_number)
    assert response.status_code == 422
    assert "1分钟" in refusal_of(response)
    update_account(app, id_number, locked_until=utcnow() - timedelta(seconds=1))
    response = login(client, id_number)
    assert response.status_code == 303
    assert response.headers["Location"] == "/home"
    account = account_of(app, id_number)
    assert account.locked_until is None and account.failed_logins == 0
    assert account.last_login_at is not None


def test_reset_by_sms_clears_the_lock(app, client, outbox):
    id_number = seeded_applicant(app)
    for _ in range(5):
        login(client, id_number, "Wrong#Pass123")
    assert "锁定" in refusal_of(login(client, id_number))
    reset_by_sms(client, outbox, id_number)
    assert account_of(app, id_number).locked_until is None
    assert login(client, id_number, NEW_PASSWORD).status_code == 303
    reach_home(client)


def test_disabled_account_refused(app, client):
    id_number = seeded_applicant(app)
    update_account(app, id_number, is_enabled=False)
    response = login(client, id_number)
    assert response.status_code == 422
    assert "已停用" in refusal_of(response)
    # a wrong password still gets the common answer (nothing is told without the password)
    assert accounts.BAD_CREDENTIALS in refusal_of(login(client, id_number, "Wrong#Pass123"))


def test_failed_logins_are_audited_with_masked_ids(app, client):
    id_number = seeded_applicant(app)
    login(client, id_number, "Wrong#Pass123")
    login(client, id_number)
    with app.app_context():
        entries = list(db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)))
        assert [e.action for e in entries] == ["login.failed", "login"]
        assert all(id_number not in (e.subject + e.actor + e.details) for e in entries)
        assert entries[0].subject == id_number[:6] + "********" + id_number[-4:]
        db.session.remove()


# --- per-IP limit ------------------------------------------------------------------------------

def test_per_ip_limit_is_429_and_read_at_request_time(app, client, monkeypatch):
    id_number = seeded_applicant(app)
    monkeypatch.setitem(app.config, "LOGIN_IP_LIMIT", "3 per minute")
    wrong = {"id_number": make_id(seq="999"), "password": PASSWORD, "captcha": CAPTCHA}
    assert client.post("/", data=wrong).status_code == 422
    assert client.post("/login", data=wrong).status_code == 422
    assert client.post("/", data=wrong).status_code == 422
    response = login(client, id_number)  # even the right password
    assert response.status_code == 429
    assert "操作过于频繁" in body(response)
    assert "<html" in body(response)
    response = client.post("/login", data=wrong, headers=htmx())
    assert response.status_code == 429
    assert response.headers["HX-Retarget"] == "#messages"
    assert client.get("/login").status_code == 200  # only POST is limited
    # another address has its own allowance
    other = app.test_client()
    response = other.post("/login", data={"id_number": id_number, "password": PASSWORD,
                                          "captcha": CAPTCHA},
                          environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert response.status_code == 303
    # the limit is read per request: raising it lets this address in again
    monkeypatch.setitem(app.config, "LOGIN_IP_LIMIT", "30 per 10 minutes")
    assert login(client, id_number).status_code == 303


def test_default_ip_limit_allows_ordinary_use(app, client):
    id_number = seeded_applicant(app)
    for _ in range(4):
        login(client, make_id(seq="999"))
    assert login(client, id_number).status_code == 303


# --- captcha -----------------------------------------------------------------------------------

def _known_challenge(app, client, answer="ACDE"):
    with client.session_transaction() as sess:
        nonce = "0123456789abcdef0123456789abcdef"
        sess[captcha.SESSION_KEY] = {
            "nonce": nonce, "digest": captcha._digest(app.config["SECRET_KEY"], nonce, answer),
            "expires": int(time.time()) + 300}


def test_wrong_captcha_refused(app, client):
    id_number = seeded_applicant(app)
    app.config["CAPTCHA_TEST_ANSWER"] = None
    response = login(client, id_number)  # "TEST" is no longer a free pass
    assert response.status_code == 422
    assert "图形验证码不正确" in body(response)
    assert account_of(app, id_number).failed_logins == 0  # the password was not even tried
    assert not login_sessions(app)
    _known_challenge(app, client)
    response = client.post("/login", data={"id_number": id_number, "password": PASSWORD,
                                           "captcha": "ACDF"})
    assert response.status_code == 422
    assert "图形验证码不正确" in body(response)


def test_right_captcha_accepted_once(app, client):
    id_number = seeded_applicant(app)
    app.config["CAPTCHA_TEST_ANSWER"] = None
    _known_challenge(app, client)
    replayed_cookie = client.get_cookie(COOKIE).value
    response = client.post("/login", data={"id_number": id_number, "password": PASSWORD,
                                           "captcha": " acde "})
    assert response.status_code == 303
    client.post("/logout")
    # the cookie that carried the challenge, replayed: the answer is spent
    client.set_cookie(COOKIE, replayed_cookie)
    response = client.post("/login", data={"id_number": id_number, "password": PASSWORD,
                                           "captcha": "ACDE"})
    assert response.status_code == 422
    assert "图形验证码不正确" in body(response)


def test_captcha_image_is_drawn_at_twice_its_size_in_dark_ink(client):
    # Shown at 150×56 CSS px (templates/_forms.html): sharp on a phone's 2× screen.
    assert 'width="150" height="56"' in body(client.get("/login"))
    image = Image.open(io.BytesIO(client.get("/captcha.png").data)).convert("L")
    assert image.size == (300, 112)
    # The letters are solid dark ink (lightness ≤ 96), not the library's pale see-through one.
    assert sum(image.histogram()[:97]) > 1500


def test_captcha_image_is_a_png_and_sets_a_challenge(app, client):
    response = client.get("/captcha.png")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    assert response.data.startswith(b"\x89PNG")
    challenge = session_data(app, client)[captcha.SESSION_KEY]
    assert set(challenge) == {"nonce", "digest", "expires"}  # the answer itself is not there


# --- login sessions ----------------------------------------------------------------------------

def test_login_starts_a_new_server_side_session(app, client):
    id_number = seeded_applicant(app)
    client.get("/login")
    before = client.get_cookie(COOKIE).value
    old_csrf = session_data(app, client).get("csrf_token")
    assert old_csrf
    response = login(client, id_number)
    assert response.status_code == 303
    after = client.get_cookie(COOKIE).value
    assert after != before
    data = session_data(app, client)
    token = data["_user_id"]
    assert data.get("csrf_token") != old_csrf  # nothing from before the login survives
    rows = login_sessions(app)
    assert len(rows) == 1
    row = rows[0]
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.ended_at is None and row.ip == "127.0.0.1"
    with app.app_context():  # the token itself is stored nowhere
        for table in ("login_sessions", "accounts", "audit_entries"):
            for values in db.session.execute(sa.text(f"SELECT * FROM {table}")):
                assert all(token not in str(value) for value in values)
        db.session.remove()
    # the next login is another session with another token
    client.post("/logout")
    login(client, id_number)
    assert session_data(app, client)["_user_id"] != token
    assert len(login_sessions(app)) == 2


def test_forged_session_cookie_gets_nothing(app, client):
    seeded_applicant(app)
    with client.session_transaction() as sess:
        sess["_user_id"] = "1"  # an account id is not a session token
        sess["_fresh"] = True
    assert not has_access(client)


def test_idle_session_ends_after_thirty_minutes(app, client):
    id_number = seeded_applicant(app)
    login(client, id_number)
    with app.app_context():
        db.session.execute(sa.update(LoginSession).values(
            last_seen_at=utcnow() - timedelta(minutes=29)))
        db.session.commit()
        db.session.remove()
    assert has_access(client)
    touched = login_sessions(app)[0].last_seen_at
    assert utcnow() - touched < timedelta(minutes=1)  # the visit counted as activity
    with app.app_context():
        db.session.execute(sa.update(LoginSession).values(
            last_seen_at=utcnow() - timedelta(minutes=31)))
        db.session.commit()
        db.session.remove()
    response = client.get("/home")
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == ["/home"]
    assert login_sessions(app)[0].ended_at is not None
    # ended for good: making it look fresh again does not bring it back
    with app.app_context():
        db.session.execute(sa.update(LoginSession).values(last_seen_at=utcnow()))
        db.session.commit()
        db.session.remove()
    assert not has_access(client)


def test_idle_session_htmx_request_is_sent_to_login(app, client):
    login(client, seeded_applicant(app))
    with app.app_context():
        db.session.execute(sa.update(LoginSession).values(
            last_seen_at=utcnow() - timedelta(minutes=31)))
        db.session.commit()
        db.session.remove()
    response = client.post("/account/password", data={}, headers=htmx())
    assert response.status_code == 401
    assert urlsplit(response.headers["HX-Redirect"]).path == "/login"


def test_logout_ends_the_session_on_the_server(app, client):
    id_number = seeded_applicant(app)
    login(client, id_number)
    assert has_access(client)
    stolen = client.get_cookie(COOKIE).value
    response = client.post("/logout")
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == "/login"
    assert not has_access(client)
    assert login_sessions(app)[0].ended_at is not None
    client.set_cookie(COOKIE, stolen)  # replay the cookie from before the logout
    assert "_user_id" in session_data(app, client)
    assert not has_access(client)
    thief = app.test_client()
    thief.set_cookie(COOKIE, stolen)
    assert not has_access(thief)


def test_password_change_ends_every_other_session(app, outbox):
    first, second = app.test_client(), app.test_client()
    id_number = make_id()
    assert register(first, outbox, id_number, "13800001111").status_code == 303
    assert login(second, id_number).status_code == 303
    assert has_access(first) and has_access(second)
    response = first.post("/account/password", data={
        "old_password": PASSWORD, "password": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 303
    assert has_access(first)  # the session that changed it goes on
    reach_home(first)
    assert not has_access(second)
    ended = [row.ended_at is not None for row in login_sessions(app)]
    assert ended == [False, True]


def test_password_reset_ends_all_sessions(app, outbox):
    id_number = seeded_applicant(app)
    first, second, phone_owner = app.test_client(), app.test_client(), app.test_client()
    assert login(first, id_number).status_code == 303
    assert login(second, id_number).status_code == 303
    reset_by_sms(phone_owner, outbox, id_number)
    assert not has_access(first)
    assert not has_access(second)
    assert all(row.ended_at is not None for row in login_sessions(app))
    assert login(first, id_number).status_code == 422
    assert login(first, id_number, NEW_PASSWORD).status_code == 303


def test_reset_while_logged_in_ends_that_session_too(app, client, outbox):
    id_number = seeded_applicant(app)
    assert login(client, id_number).status_code == 303
    reset_by_sms(client, outbox, id_number)
    assert not has_access(client)


def test_session_cookie_is_httponly_and_samesite_lax(app, client):
    id_number = seeded_applicant(app)
    response = login(client, id_number)
    set_cookie = response.headers["Set-Cookie"]
    assert set_cookie.startswith(f"{COOKIE}=")
    attributes = {part.strip().split("=")[0].lower(): part.strip()
                  for part in set_cookie.split(";")[1:]}
    assert "httponly" in attributes
    assert attributes["samesite"] == "SameSite=Lax"
    assert attributes["path"] == "Path=/"
    cookie = client.get_cookie(COOKIE)
    assert cookie.http_only and cookie.same_site == "Lax"
    anonymous = app.test_client().get("/login").headers["Set-Cookie"]
    assert "HttpOnly" in anonymous and "SameSite=Lax" in anonymous


def test_passwords_stored_as_argon2id(app, client, outbox):
    id_number = make_id()
    assert register(client, outbox, id_number, "13800001111").status_code == 303
    stored = account_of(app, id_number).password_hash
    assert stored.startswith("$argon2id$v=19$")
    assert PASSWORD not in stored
    assert PasswordHasher().verify(stored, PASSWORD)
    client.post("/account/password", data={
        "old_password": PASSWORD, "password": NEW_PASSWORD, "password2": NEW_PASSWORD})
    changed = account_of(app, id_number).password_hash
    assert changed.startswith("$argon2id$") and changed != stored
    assert PasswordHasher().verify(changed, NEW_PASSWORD)


def test_login_rehashes_a_password_with_old_parameters(app, client):
    id_number = seeded_applicant(app)
    weaker = PasswordHasher(memory_cost=512, time_cost=1, parallelism=1).hash(PASSWORD)
    update_account(app, id_number, password_hash=weaker)
    assert login(client, id_number).status_code == 303
    stored = account_of(app, id_number).password_hash
    assert stored != weaker and stored.startswith("$argon2id$")
    assert f"m={app.config['ARGON2_MEMORY_COST']}," in stored
    client.post("/logout")
    assert login(client, id_number).status_code == 303
