"""What an outside attack found, each fixed and held here: enumeration through registration and
forgot password, a lock that spoke differently for real and unknown ID numbers, unlimited
guessing of the current password from a logged-in session."""
import re
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from domain import accounts
from extensions import db
from models import Account, Job, LoginFailure, LoginSession, utcnow
from tests.helpers import (
    CAPTCHA,
    body,
    login,
    make_id,
    outbox_messages,
    registration_data,
    seeded_applicant,
    send_code,
)


def refusal(response) -> str:
    """The text of the login form's error summary."""
    match = re.search(r'<div class="error-summary".*?<ul>(.*?)</ul>', body(response), re.S)
    assert match, body(response)[-2000:]
    return re.sub(r"\s+", " ", match.group(1)).strip()


# 1. Registration tells nothing about an ID number or phone without proof of the phone -----------

def test_a_made_up_code_gets_the_same_answer_for_a_registered_and_an_unknown_id(app, client):
    registered = seeded_applicant(app, phone="13900001111")
    answers = []
    for id_number in (registered, make_id(seq="555")):
        response = client.post("/register", data=registration_data(
            id_number, "13800002222", sms_code="123456"))
        answers.append((response.status_code, "验证码不正确" in body(response),
                        "已注册" in body(response)))
    assert answers[0] == answers[1] == (422, True, False)


def test_who_proved_the_phone_learns_the_id_is_taken(app, client, outbox):
    registered = seeded_applicant(app, phone="13900001111")
    assert send_code(client, "/register", "13800002222").status_code == 200
    code = outbox_messages(outbox)[-1]["body"].split("验证码")[1][:6]
    response = client.post("/register", data=registration_data(
        registered, "13800002222", sms_code=code))
    assert response.status_code == 409 and "该证件号码已注册" in body(response)


# 2. Forgot password: the same work whether or not ID and phone belong together --------------------

def _reset_send(app, client, id_number):
    """The forgot-password send, and the first word of every SQL statement it ran (in this
    thread: a background thread of the app — the job sweeper — may use the engine meanwhile)."""
    statements, request_thread = [], threading.get_ident()

    def record(_conn, _cursor, statement, *_args):
        if threading.get_ident() == request_thread:
            statements.append(statement.split()[0])
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        response = send_code(client, "/forgot-password", "13900001111", id_number=id_number)
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200
    return response, statements


def _page_without_values(response) -> str:
    # what differs per request: typed values, the CSRF token, the captcha picture's address
    return re.sub(r'value="[^"]*"|"X-CSRFToken": "[^"]*"|captcha\.png\?v=\d+', "",
                  body(response))


def test_a_reset_request_does_the_same_work_either_way(app, client, outbox, monkeypatch):
    """Delivery is a job: the request itself runs the same statements and answers the same page
    whether the pair matches or not, so its timing cannot tell them apart
    (bench/reset_timing_bench.py measures the medians)."""
    held = []

    class Holding:  # the queue exists; the worker has not run yet
        def push(self, job_id, kind=""):
            held.append(job_id)
    monkeypatch.setitem(app.extensions, "jobs", Holding())
    owner = seeded_applicant(app, phone="13900001111")
    matched, match_statements = _reset_send(app, client, owner)
    app.extensions["moving_window_limiter"].storage.reset()
    other, other_statements = _reset_send(app, client, make_id(seq="556"))
    assert match_statements == other_statements
    assert _page_without_values(matched) == _page_without_values(other)
    assert len(held) == 2 and outbox_messages(outbox) == []


# 3. One lock rule, clock and sentence for real and unknown ID numbers ----------------------------

def _fail(client, id_number, times):
    for _ in range(times):
        response = login(client, id_number, "Wrong#Pass999")
    return response


def _move_window_back(app, real, minutes):
    with app.app_context():
        account = db.session.scalar(sa.select(Account).where(Account.id_number == real))
        account.failure_window_started_at -= timedelta(minutes=minutes)
        for row in db.session.scalars(sa.select(LoginFailure)):
            row.window_started_at -= timedelta(minutes=minutes)
        db.session.commit()
        db.session.remove()


def test_four_wrong_a_pause_then_two_more_says_the_same_for_both(app):
    real = seeded_applicant(app, phone="13900001111")
    unknown = make_id(seq="557")
    clients = {real: app.test_client(), unknown: app.test_client()}
    for id_number, client in clients.items():
        _fail(client, id_number, 4)
    _move_window_back(app, real, 10)  # the pause
    words = {id_number: refusal(_fail(client, id_number, 2)) for id_number, client in
             clients.items()}
    assert "请30分钟后再试" in words[real]
    assert words[real] == words[unknown]


def test_old_mistakes_stop_counting_for_both(app):
    real = seeded_applicant(app, phone="13900001111")
    unknown = make_id(seq="558")
    clients = {real: app.test_client(), unknown: app.test_client()}
    for id_number, client in clients.items():
        _fail(client, id_number, 4)
    _move_window_back(app, real, 31)  # longer ago than the lock window
    for id_number, client in clients.items():
        response = _fail(client, id_number, 1)
        assert accounts.BAD_CREDENTIALS in refusal(response)  # counting again from 1
    assert login(clients[real], real).status_code == 303  # five in all, but not in one window
    assert "锁定" not in refusal(login(clients[unknown], unknown, "Wrong#Pass999"))


def test_the_lock_key_of_an_unknown_id_is_a_keyed_hash(app):
    unknown = make_id(seq="559")
    _fail(app.test_client(), unknown, 1)
    with app.app_context():
        [row] = db.session.scalars(sa.select(LoginFailure)).all()
        assert unknown not in row.key_hash and len(row.key_hash) == 64
        db.session.remove()


# 4. The current password asked by 修改密码 and 更换手机号 cannot be guessed without limit --------

def test_wrong_current_passwords_lock_end_the_session_and_tell_the_phone(app, client, outbox):
    id_number = seeded_applicant(app, phone="13900001111")
    assert login(client, id_number).status_code == 303
    for attempt in range(4):
        response = client.post("/account/password", data={
            "old_password": f"Wrong#Pass{attempt}00", "password": "New#Pass2027kj",
            "password2": "New#Pass2027kj"})
        assert response.status_code == 422 and "当前密码不正确" in body(response)
    response = client.post("/account/password", data={
        "old_password": "Wrong#Pass500", "password": "New#Pass2027kj",
        "password2": "New#Pass2027kj"})
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")
    assert "锁定" in body(client.get("/login"))
    with app.app_context():
        sessions = db.session.scalars(sa.select(LoginSession)).all()
        assert all(s.ended_at is not None for s in sessions)
        notice = db.session.scalar(sa.select(Job).where(Job.kind == "notice.account_locked"))
        assert notice is not None
        db.session.remove()
    assert any("已临时锁定" in m["body"] and m["to"] == "13900001111"
               for m in outbox_messages(outbox))
    # the right password is now refused too, at login, until the lock passes
    response = login(client, id_number)
    assert response.status_code == 422 and "锁定" in body(response)


def test_the_change_phone_password_counts_too(app, client):
    id_number = seeded_applicant(app, phone="13900001111")
    assert login(client, id_number).status_code == 303
    for _ in range(5):
        response = client.post("/account/phone", data={
            "current_password": "Wrong#Pass999", "phone": "13900002222", "sms_code": "123456",
            "captcha": CAPTCHA})
    assert response.status_code == 303  # locked out to the login page
    with app.app_context():
        account = db.session.scalar(sa.select(Account).where(Account.id_number == id_number))
        assert account.locked_until > utcnow()
        db.session.remove()


# 10. Headers, 11. Origin -------------------------------------------------------------------------

def test_isolation_headers_everywhere_and_the_camera_only_where_photos_are_taken(app, client):
    id_number = seeded_applicant(app, phone="13900001111")
    login_page = client.get("/login")
    assert login_page.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert login_page.headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert "camera=()" in login_page.headers["Permissions-Policy"]
    assert login(client, id_number).status_code == 303
    materials = client.get("/collection/materials")
    assert "camera=(self)" in materials.headers["Permissions-Policy"]
    assert "microphone=()" in materials.headers["Permissions-Policy"]
    assert "camera=()" in client.get("/collection").headers["Permissions-Policy"]


def test_logout_clears_what_the_browser_kept(app, client):
    id_number = seeded_applicant(app, phone="13900001111")
    assert login(client, id_number).status_code == 303
    response = client.post("/logout")
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"}, {"Origin": "null"},
    {"Referer": "https://evil.example/page"}, {"Origin": "http://localhost:1"},
])
def test_a_foreign_origin_is_refused_even_with_a_valid_token(app, client, headers):
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', body(page)).group(1)
    data = {"csrf_token": token, "id_number": make_id(), "password": "x", "captcha": CAPTCHA}
    refused = client.post("/login", data=data, headers=headers)
    assert refused.status_code == 403 and "请求来源不正确" in body(refused)
    same = client.post("/login", data=data, headers={"Origin": "http://localhost",
                                                      "Referer": "http://localhost/login"})
    assert same.status_code == 422  # through to the password check


# 6. Staff confirm every login with a code to their bound phone -----------------------------------

def test_staff_need_the_code_sent_to_their_phone(app, client, outbox):
    from tests.factories import make_staff
    member = make_staff(app)
    response = login(client, member.id_number, member.password, second_factor=False)
    assert response.status_code == 303 and response.headers["Location"] == "/login/verify"
    assert client.get("/review").status_code == 303  # not logged in yet
    page = client.get("/login/verify")
    assert "验证码已发送至" in body(page) and member.phone[-4:] in body(page)
    [message] = [m for m in outbox_messages(outbox) if m["to"] == member.phone]
    assert "登录审核管理端" in message["body"]
    wrong = client.post("/login/verify", data={"sms_code": "000000"})
    assert wrong.status_code == 422 and "验证码不正确" in body(wrong)
    code = re.search(r"验证码(\d{6})", message["body"]).group(1)
    done = client.post("/login/verify", data={"sms_code": code})
    assert done.status_code == 303 and done.headers["Location"] == "/home"
    assert client.get("/review").status_code == 200


def test_the_code_step_expires_and_cannot_be_used_without_the_password(app, client):
    assert client.get("/login/verify").status_code == 303  # nothing pending: back to login
    assert client.post("/login/verify", data={"sms_code": "123456"}).status_code == 303


def test_applicants_log_in_with_their_password_alone(app, client, outbox):
    id_number = seeded_applicant(app, phone="13900001111")
    response = login(client, id_number, second_factor=False)
    assert response.headers["Location"] == "/home"
    assert outbox_messages(outbox) == []
