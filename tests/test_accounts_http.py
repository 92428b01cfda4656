"""The account forms over HTTP: full pages, HTMX fragments, 422 with input kept, 303/HX-Redirect
on success; registration conflicts, SMS code misuse, CSRF, racing registrations, next=."""
import re
import threading
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from domain import accounts
from domain.archive_import import import_rows
from extensions import db
from models import Account, SmsCode, utcnow
from sms import CodeProblem, Purpose, issue_code
from tests.helpers import (
    CAPTCHA,
    PASSWORD,
    body,
    htmx,
    last_code,
    login,
    make_id,
    outbox_messages,
    register,
    registration_data,
    seeded_applicant,
    send_code,
)

NEW_PASSWORD = "Kunming@2027xy"


# --- helpers -----------------------------------------------------------------------------------



def applicant(client, outbox, phone="13800001111", **id_parts) -> str:
    """Register (and so log in) an applicant through the real form; return the ID number."""
    id_number = make_id(**id_parts)
    response = register(client, outbox, id_number, phone)
    assert response.status_code == 303, body(response)
    return id_number




def imported_person(app, client, seq="321", name="李四") -> str:
    """An account from the archive import, logged in with its initial password."""
    id_number = make_id(seq=seq)
    with app.app_context():
        report = import_rows([{"姓名": name, "证件号码": id_number, "资格级别": "中级",
                               "证书编号": "ZJ0001", "取得日期": "2010-05-01"}])
        assert report.accepted == 1, report
        db.session.remove()
    response = login(client, id_number, id_number[-6:])
    assert response.status_code == 303, body(response)
    return id_number


def anonymous(app, client, outbox):
    return None


def logged_in_applicant(app, client, outbox):
    return applicant(client, outbox)


def logged_in_imported(app, client, outbox):
    return imported_person(app, client)


def assert_success(response, as_htmx, location):
    if as_htmx:
        assert response.status_code == 204, body(response)
        assert response.headers["HX-Redirect"] == location
        assert "Location" not in response.headers
        assert body(response) == ""
    else:
        assert response.status_code == 303, body(response)
        assert urlsplit(response.headers["Location"]).path == location
        assert "HX-Redirect" not in response.headers


HOLDING_PAGES = ("/login", "/account/bind-phone", "/account/password")


def reach_home(client):
    """/home, following its redirects (an applicant's home is the collection task list); the
    person ends on a real page, not on the login page or a page that holds the account."""
    response = client.get("/home", follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path not in HOLDING_PAGES, response.request.path
    return response


def fragment_of(response, form_id):
    text = body(response)
    assert "<html" not in text
    assert "<body" not in text
    assert re.search(rf'<form id="{form_id}"', text), text
    return text


def count_accounts(app, id_number=None) -> int:
    with app.app_context():
        query = sa.select(sa.func.count(Account.id))
        if id_number:
            query = query.where(Account.id_number == id_number)
        count = db.session.scalar(query)
        db.session.remove()
        return count


# --- every form: page, fragment, invalid ---------------------------------------------------------

FORMS = [
    ("/", "login-form", anonymous),
    ("/login", "login-form", anonymous),
    ("/register", "register-form", anonymous),
    ("/forgot-password", "forgot-form", anonymous),
    ("/account/password", "password-form", logged_in_applicant),
    ("/account/phone", "phone-form", logged_in_applicant),
    ("/account/bind-phone", "bind-form", logged_in_imported),
]


@pytest.mark.parametrize("url, form_id, who", FORMS)
def test_get_full_page(app, client, outbox, url, form_id, who):
    who(app, client, outbox)
    response = client.get(url)
    assert response.status_code == 200
    text = body(response)
    assert "<html" in text and "</html>" in text
    assert f'<form id="{form_id}"' in text
    assert 'name="csrf_token"' in text
    assert "HX-Request" in response.headers.get("Vary", "")


@pytest.mark.parametrize("url, form_id, who", FORMS)
def test_get_htmx_fragment(app, client, outbox, url, form_id, who):
    who(app, client, outbox)
    response = client.get(url, headers=htmx())
    assert response.status_code == 200
    text = fragment_of(response, form_id)
    assert text.strip().startswith("<form")
    assert text.strip().endswith("</form>")
    # a boosted request is a page navigation: the whole page
    boosted = client.get(url, headers=htmx({"HX-Boosted": "true"}))
    assert "<html" in body(boosted)


INVALID = {
    "login-form": (
        lambda ids: {"id_number": ids["id"], "password": "", "captcha": CAPTCHA},
        ["请填写密码"], lambda ids: [f'value="{ids["id"]}"']),
    "register-form": (
        lambda ids: registration_data(ids["other"], "13800002222", name="<script>",
                                      sms_code="123456"),
        ["姓名只能包含汉字、字母和间隔号"],
        lambda ids: [f'value="{ids["other"]}"', 'value="13800002222"', f'value="{PASSWORD}"',
                     'value="&lt;script&gt;"']),
    "forgot-form": (
        lambda ids: {"id_number": "", "phone": "13800002222", "sms_code": "123456",
                     "password": PASSWORD, "password2": PASSWORD, "action": "reset"},
        ["请填写证件号码"], lambda ids: ['value="13800002222"', f'value="{PASSWORD}"']),
    "password-form": (
        lambda ids: {"old_password": "", "password": "abcdefgh", "password2": "abcdefgh"},
        ["请填写当前密码", "至少三类"], lambda ids: ['value="abcdefgh"']),
    "phone-form": (
        lambda ids: {"current_password": PASSWORD, "phone": "1380000", "sms_code": "123456",
                     "action": "change"},
        ["手机号码应为11位，您填写了7位"], lambda ids: ['value="1380000"']),
    "bind-form": (
        lambda ids: {"phone": "+8613900001111", "sms_code": "123456", "password": NEW_PASSWORD,
                     "password2": NEW_PASSWORD, "action": "bind"},
        ["不要加+86"], lambda ids: ['value="+8613900001111"', f'value="{NEW_PASSWORD}"']),
}


@pytest.mark.parametrize("as_htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("url, form_id, who", FORMS)
def test_post_invalid_is_422_with_input_kept(app, client, outbox, url, form_id, who, as_htmx):
    me = who(app, client, outbox)
    ids = {"id": me or make_id(seq="555"), "other": make_id(seq="777")}
    data, errors, kept = INVALID[form_id]
    response = client.post(url, data=data(ids), headers=htmx() if as_htmx else {})
    assert response.status_code == 422
    text = body(response)
    if as_htmx:
        fragment_of(response, form_id)
    else:
        assert "<html" in text and f'<form id="{form_id}"' in text
    assert 'class="error-summary"' in text
    assert 'aria-invalid="true"' in text
    for error in errors:
        assert error in text
    for value in kept(ids):
        assert value in text
    assert "<script>" not in text.replace('<script src="', "")


# --- successes: 303 plain, 204 + HX-Redirect for HTMX -------------------------------------------

@pytest.mark.parametrize("as_htmx", [False, True], ids=["plain", "htmx"])
def test_login_success(app, client, outbox, as_htmx):
    id_number = applicant(client, outbox)
    client.post("/logout")
    response = client.post("/", data={"id_number": id_number.lower(), "password": PASSWORD,
                                      "captcha": CAPTCHA},
                           headers=htmx() if as_htmx else {})
    assert_success(response, as_htmx, "/home")
    reach_home(client)


@pytest.mark.parametrize("as_htmx", [False, True], ids=["plain", "htmx"])
def test_register_success(app, client, outbox, as_htmx):
    id_number = make_id()
    assert send_code(client, "/register", "13800001111").status_code == 200
    code = last_code(outbox, "13800001111")
    response = client.post("/register", data=registration_data(
        id_number, "138 0000 1111", name="阿依古丽·买买提", sms_code=code),
        headers=htmx() if as_htmx else {})
    assert_success(response, as_htmx, "/home")
    assert "阿依古丽·买买提" in body(reach_home(client))
    with app.app_context():
        account = db.session.scalar(sa.select(Account).where(Account.id_number == id_number))
        assert account.phone == "13800001111"
        assert account.role == "applicant"
        db.session.remove()


def test_send_code_fragment_says_where_the_code_went(client, outbox):
    response = send_code(client, "/register", "13800001111", id_number=make_id())
    assert response.status_code == 200
    assert "验证码已发送至138****1111" in body(response)
    assert "<html" in body(response)
    response = client.post("/register/send-code", data={"phone": "13800002222",
                                                        "captcha": CAPTCHA}, headers=htmx())
    assert response.status_code == 200
    assert "验证码已发送至138****2222" in fragment_of(response, "register-form")
    assert [m["to"] for m in outbox_messages(outbox)] == ["13800001111", "13800002222"]


@pytest.mark.parametrize("as_htmx", [False, True], ids=["plain", "htmx"])
def test_forgot_password_success(app, client, outbox, as_htmx):
    id_number = seeded_applicant(app)
    response = send_code(client, "/forgot-password", "13800001111", id_number=id_number)
    assert response.status_code == 200
    code = last_code(outbox, "13800001111")
    response = client.post("/forgot-password", data={
        "id_number": id_number, "phone": "13800001111", "sms_code": code,
        "password": NEW_PASSWORD, "password2": NEW_PASSWORD, "action": "reset"},
        headers=htmx() if as_htmx else {})
    assert_success(response, as_htmx, "/login")
    assert login(client, id_number).status_code == 422
    assert login(client, id_number, NEW_PASSWORD).status_code == 303


def test_forgot_password_code_not_sent_to_a_stranger(client, outbox):
    id_number = applicant(client, outbox)
    client.post("/logout")
    response = send_code(client, "/forgot-password", "13900009999", id_number=id_number)
    # the same answer as for the right phone, but nothing is delivered
    assert response.status_code == 200
    assert "如果证件号码与绑定的手机号一致" in body(response)
    assert all(m["to"] != "13900009999" for m in outbox_messages(outbox))


@pytest.mark.parametrize("as_htmx", [False, True], ids=["plain", "htmx"])
def test_change_password_success(app, client, outbox, as_htmx):
    id_number = applicant(client, outbox)
    response = client.post("/account/password", data={
        "old_password": PASSWORD, "password": NEW_PASSWORD, "password2": NEW_PASSWORD},
        headers=htmx() if as_htmx else {})
    assert_success(response, as_htmx, "/home")
    client.post("/logout")
    assert login(client, id_number).status_code == 422
    assert login(client, id_number, NEW_PASSWORD).status_code == 303


def test_change_password_wrong_old_password(client, outbox):
    applicant(client, outbox)
    response = client.post("/account/password", data={
        "old_password": "Wrong#Pass123", "password": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 422
    assert "当前密码不正确" in body(response)


@pytest.mark.parametrize("as_htmx", [False, True], ids=["plain", "htmx"])
def test_change_phone_success(app, client, outbox, as_htmx):
    id_number = applicant(client, outbox)
    assert send_code(client, "/account/phone", "13900002222").status_code == 200
    code = last_code(outbox, "13900002222")
    response = client.post("/account/phone", data={
        "current_password": PASSWORD, "phone": "13900002222", "sms_code": code,
        "action": "change"}, headers=htmx() if as_htmx else {})
    assert_success(response, as_htmx, "/home")
    with app.app_context():
        account = accounts.find_by_id_number(id_number)
        assert account.phone == "13900002222"
        db.session.remove()


def test_change_phone_wrong_password_and_phone_of_another(app, client, outbox):
    applicant(client, outbox)
    seeded_applicant(app, phone="13700003333", seq="456")
    # Another account's phone: the page answers as for any phone (it must not tell whose phone
    # is registered); the phone's owner is told, and no code exists for it.
    response = send_code(client, "/account/phone", "13700003333")
    assert response.status_code == 200
    assert "验证码已发送至137****3333" in body(response)
    [notice] = [m for m in outbox_messages(outbox) if m["to"] == "13700003333"]
    assert "本手机号已绑定账号" in notice["body"] and not re.search(r"\d{6}", notice["body"])
    assert send_code(client, "/account/phone", "13900002222").status_code == 200
    code = last_code(outbox, "13900002222")
    response = client.post("/account/phone", data={
        "current_password": "Wrong#Pass123", "phone": "13900002222", "sms_code": code,
        "action": "change"})
    assert response.status_code == 422
    assert "登录密码不正确" in body(response)


@pytest.mark.parametrize("as_htmx", [False, True], ids=["plain", "htmx"])
def test_bind_phone_success(app, client, outbox, as_htmx):
    id_number = imported_person(app, client)
    assert send_code(client, "/account/bind-phone", "13600004444").status_code == 200
    code = last_code(outbox, "13600004444")
    response = client.post("/account/bind-phone", data={
        "phone": "13600004444", "sms_code": code, "password": NEW_PASSWORD,
        "password2": NEW_PASSWORD, "action": "bind"}, headers=htmx() if as_htmx else {})
    assert_success(response, as_htmx, "/home")
    reach_home(client)
    with app.app_context():
        account = accounts.find_by_id_number(id_number)
        assert account.phone == "13600004444" and not account.must_bind_phone
        db.session.remove()


# --- registration conflicts --------------------------------------------------------------------

def test_register_id_already_registered_is_409_with_ways_out(app, client, outbox):
    id_number = applicant(client, outbox)
    second = app.test_client()
    assert send_code(second, "/register", "13900002222").status_code == 200
    code = last_code(outbox, "13900002222")
    response = second.post("/register", data=registration_data(
        id_number, "13900002222", name="王五", sms_code=code))
    assert response.status_code == 409
    text = body(response)
    assert "该证件号码已注册" in text
    assert re.search(r'<a href="/(login)?">登录</a>', text), text
    assert '<a href="/forgot-password">忘记密码</a>' in text
    assert count_accounts(app, id_number) == 1
    # HTMX: the same notice in the fragment
    response = second.post("/register", data=registration_data(
        id_number, "13900002222", name="王五", sms_code=code), headers=htmx())
    assert response.status_code == 409
    assert "该证件号码已注册" in fragment_of(response, "register-form")
    # the refused attempt did not spend the code: it still registers another ID
    response = second.post("/register", data=registration_data(
        make_id(seq="456"), "13900002222", name="王五", sms_code=code))
    assert response.status_code == 303, body(response)


def test_register_id_typed_differently_is_still_taken(app, client, outbox):
    id_number = applicant(client, outbox)
    second = app.test_client()
    assert send_code(second, "/register", "13900002222").status_code == 200
    code = last_code(outbox, "13900002222")
    spaced = f"{id_number[:6]} {id_number[6:14]} {id_number[14:].lower()}"
    response = second.post("/register", data=registration_data(
        spaced, "13900002222", name="王五", sms_code=code))
    assert response.status_code == 409


def test_register_phone_bound_to_another_account(app, client, outbox):
    """The send step must not tell a stranger that a phone is registered: the page answers as
    for any phone; the phone's owner is told by SMS instead, and no code exists."""
    seeded_applicant(app, phone="13800001111")
    second = app.test_client()
    response = send_code(second, "/register", "13800001111")
    assert response.status_code == 200
    assert "验证码已发送至138****1111" in body(response)
    assert "该手机号已绑定其他账号" not in body(response)
    [notice] = outbox_messages(outbox)
    assert notice["to"] == "13800001111" and "本手机号已绑定账号" in notice["body"]
    assert not re.search(r"\d{6}", notice["body"])  # no code in it


def test_register_phone_bound_while_the_code_was_in_flight(app, client, outbox):
    """The code was sent before someone else bound the phone: the registration is refused."""
    late = app.test_client()
    assert send_code(late, "/register", "13800001111").status_code == 200
    late_code = last_code(outbox, "13800001111")
    with app.app_context():  # the phone is taken meanwhile by a staff account
        from domain.staff import create_staff
        create_staff("reviewer", "530102", make_id(seq="888"), "赵审核", "13800001111")
        db.session.remove()
    response = late.post("/register", data=registration_data(
        make_id(seq="999"), "13800001111", sms_code=late_code))
    assert response.status_code == 422
    assert "该手机号已绑定其他账号" in body(response)
    assert count_accounts(app) == 1


def test_register_reused_code_refused(app, client, outbox):
    """A code spent by a successful registration does not work a second time."""
    assert send_code(client, "/register", "13800001111").status_code == 200
    code = last_code(outbox, "13800001111")
    with app.app_context():
        accounts.register(accounts.Registration(
            "居民身份证", make_id(seq="111"), "张三", "13800001111", code, PASSWORD), "127.0.0.1")
        # the same phone and code again: the code is checked first, and it is spent ...
        with pytest.raises(CodeProblem):
            accounts.register(accounts.Registration(
                "居民身份证", make_id(seq="222"), "张三", "13800001111", code, PASSWORD),
                "127.0.0.1")
        # ... and the code itself is spent
        with pytest.raises(CodeProblem, match="已使用"):
            from sms import verify_code
            verify_code("13800001111", Purpose.REGISTER, code)
        db.session.remove()


def test_reset_reused_code_refused(app, client, outbox):
    id_number = seeded_applicant(app)
    assert send_code(client, "/forgot-password", "13800001111",
                     id_number=id_number).status_code == 200
    code = last_code(outbox, "13800001111")
    data = {"id_number": id_number, "phone": "13800001111", "sms_code": code,
            "password": NEW_PASSWORD, "password2": NEW_PASSWORD, "action": "reset"}
    assert client.post("/forgot-password", data=data).status_code == 303
    again = dict(data, password="Another#Pass9", password2="Another#Pass9")
    response = client.post("/forgot-password", data=again)
    assert response.status_code == 422
    assert "验证码不正确或已使用" in body(response)
    assert login(client, id_number, "Another#Pass9").status_code == 422


def test_register_expired_code_refused(app, client, outbox):
    assert send_code(client, "/register", "13800001111").status_code == 200
    code = last_code(outbox, "13800001111")
    with app.app_context():
        db.session.execute(sa.update(SmsCode).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    response = client.post("/register", data=registration_data(
        make_id(), "13800001111", sms_code=code))
    assert response.status_code == 422
    assert "验证码已过期" in body(response)
    assert count_accounts(app) == 0


def test_register_code_of_another_purpose_refused(app, client, outbox):
    applicant(client, outbox)
    # a change-phone code for 13900002222, sent to the logged-in applicant
    assert send_code(client, "/account/phone", "13900002222").status_code == 200
    code = last_code(outbox, "13900002222")
    stranger = app.test_client()
    response = stranger.post("/register", data=registration_data(
        make_id(seq="456"), "13900002222", name="王五", sms_code=code))
    assert response.status_code == 422
    assert "验证码不正确或已使用" in body(response)
    assert count_accounts(app) == 1
    with app.app_context():  # a register code does not bind a phone either
        issued, _ = issue_code("13600004444", Purpose.REGISTER)
        db.session.commit()
        from sms import verify_code
        with pytest.raises(CodeProblem):
            verify_code("13600004444", Purpose.BIND, issued)
        db.session.remove()


def test_register_guessed_code_refused_and_guessing_ends(app, client, outbox):
    assert send_code(client, "/register", "13800001111").status_code == 200
    code = last_code(outbox, "13800001111")
    guess = f"{(int(code) + 1) % 10**6:06d}"
    data = registration_data(make_id(), "13800001111", sms_code=guess)
    response = client.post("/register", data=data)
    assert response.status_code == 422
    assert "验证码不正确，请核对短信中的6位数字" in body(response)
    assert client.post("/register", data=dict(data, sms_code="12ab")).status_code == 422
    for _ in range(4):
        assert client.post("/register", data=data).status_code == 422
    # five wrong guesses: the real code is dead too
    response = client.post("/register", data=dict(data, sms_code=code))
    assert response.status_code == 422
    assert "错误次数过多" in body(response)
    assert count_accounts(app) == 0


# --- CSRF --------------------------------------------------------------------------------------

def csrf_token_of(response) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', body(response)).group(1)


def test_missing_or_wrong_csrf_token_is_400(app, client, outbox):
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get("/login")
    token = csrf_token_of(page)
    data = {"id_number": make_id(), "password": PASSWORD, "captcha": CAPTCHA}
    response = client.post("/login", data=data)
    assert response.status_code == 400
    assert "CSRF" in body(response) and "<html" in body(response)
    response = client.post("/login", data=dict(data, csrf_token=token[:-2] + "xx"))
    assert response.status_code == 400
    response = client.post("/login", data=data, headers=htmx({"X-CSRFToken": "nonsense"}))
    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "#messages"
    assert "<html" not in body(response)
    # the page's own token is accepted (the login itself is refused: no such account)
    response = client.post("/login", data=dict(data, csrf_token=token))
    assert response.status_code == 422
    response = client.post("/login", data=data, headers=htmx({"X-CSRFToken": token}))
    assert response.status_code == 422
    # a token from another session does not work
    other = app.test_client()
    response = other.post("/login", data=dict(data, csrf_token=token))
    assert response.status_code == 400


@pytest.mark.parametrize("url", ["/register", "/forgot-password", "/logout",
                                 "/register/send-code", "/forgot-password/send-code"])
def test_csrf_required_on_every_post(app, client, url):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(url, data={"phone": "13800001111", "captcha": CAPTCHA})
    assert response.status_code == 400


def test_csrf_required_on_logged_in_forms(app, client, outbox):
    applicant(client, outbox)
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/account/password", data={
        "old_password": PASSWORD, "password": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 400
    token = csrf_token_of(client.get("/account/password"))
    response = client.post("/account/password", data={
        "csrf_token": token, "old_password": PASSWORD, "password": NEW_PASSWORD,
        "password2": NEW_PASSWORD})
    assert response.status_code == 303


# --- the same ID registered twice at the same moment --------------------------------------------

def _issue(phone):
    code, _ = issue_code(phone, Purpose.REGISTER)
    db.session.commit()
    return code


def test_domain_register_twice_one_account(app):
    id_number = make_id()
    with app.app_context():
        first_code, second_code = _issue("13800001111"), _issue("13900002222")
        accounts.register(accounts.Registration(
            "居民身份证", id_number, "张三", "13800001111", first_code, PASSWORD), "127.0.0.1")
        with pytest.raises(accounts.IdNumberTaken):
            accounts.register(accounts.Registration(
                "居民身份证", id_number, "张三", "13900002222", second_code, PASSWORD),
                "127.0.0.1")
        db.session.remove()
    assert count_accounts(app, id_number) == 1
    assert count_accounts(app) == 1


def test_domain_register_race_past_the_check(app, monkeypatch):
    """Both requests pass the "already registered?" check before either commits: the unique
    constraint decides, the loser gets IdNumberTaken and its code stays unspent."""
    id_number = make_id()
    with app.app_context():
        first_code, second_code = _issue("13800001111"), _issue("13900002222")
        accounts.register(accounts.Registration(
            "居民身份证", id_number, "张三", "13800001111", first_code, PASSWORD), "127.0.0.1")
        real_find = accounts.find_by_id_number
        calls = []

        def find_missing_once(number):
            calls.append(number)
            return None if len(calls) == 1 else real_find(number)

        monkeypatch.setattr(accounts, "find_by_id_number", find_missing_once)
        with pytest.raises(accounts.IdNumberTaken):
            accounts.register(accounts.Registration(
                "居民身份证", id_number, "张三", "13900002222", second_code, PASSWORD),
                "127.0.0.1")
        assert len(calls) == 2  # the check, then the look-up after the IntegrityError
        monkeypatch.undo()
        spent = db.session.scalar(sa.select(SmsCode.used_at).where(SmsCode.phone == "13900002222"))
        assert spent is None
        db.session.remove()
    assert count_accounts(app, id_number) == 1
    assert count_accounts(app) == 1


def test_two_threads_register_the_same_id(app, outbox):
    id_number = make_id()
    clients, forms = [], []
    for phone in ("13800001111", "13900002222"):
        client = app.test_client()
        assert send_code(client, "/register", phone).status_code == 200
        clients.append(client)
        forms.append(registration_data(id_number, phone, sms_code=last_code(outbox, phone)))
    barrier = threading.Barrier(2)
    statuses, errors = [None, None], []

    def run(index):
        try:
            barrier.wait(timeout=10)
            statuses[index] = clients[index].post("/register", data=forms[index]).status_code
        except Exception as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert sorted(statuses) == [303, 409]
    assert count_accounts(app, id_number) == 1
    assert count_accounts(app) == 1


# --- next= after login -------------------------------------------------------------------------

@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example", "//evil.example/home", "/\\evil.example",
    "http:/evil.example", "javascript:alert(1)", "evil.example", "",
])
def test_login_ignores_next_to_elsewhere(client, outbox, target):
    id_number = applicant(client, outbox)
    client.post("/logout")
    response = client.post("/login", data={"id_number": id_number, "password": PASSWORD,
                                           "captcha": CAPTCHA, "next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/home"


def test_login_ignores_next_in_query_string(client, outbox):
    id_number = applicant(client, outbox)
    client.post("/logout")
    page = client.get("/login?next=https://evil.example/")
    assert 'name="next" type="hidden" value="https://evil.example/"' in body(page)
    response = client.post("/login?next=https://evil.example/", data={
        "id_number": id_number, "password": PASSWORD, "captcha": CAPTCHA})
    assert response.headers["Location"] == "/home"
    client.post("/logout")
    response = client.post("/login?next=//evil.example", data={
        "id_number": id_number, "password": PASSWORD, "captcha": CAPTCHA}, headers=htmx())
    assert response.headers["HX-Redirect"] == "/home"


def test_login_honours_next_on_this_site(client, outbox):
    id_number = applicant(client, outbox)
    client.post("/logout")
    response = client.post("/login?next=/account/password", data={
        "id_number": id_number, "password": PASSWORD, "captcha": CAPTCHA})
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/password"
    client.post("/logout")
    response = client.post("/login", data={"id_number": id_number, "password": PASSWORD,
                                           "captcha": CAPTCHA, "next": "/account/password"},
                           headers=htmx())
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/account/password"


def test_next_survives_the_login_redirect(client, outbox):
    """/account/phone while logged out → login page → back to /account/phone."""
    id_number = applicant(client, outbox)
    client.post("/logout")
    response = client.get("/account/phone")
    assert response.status_code == 303
    login_url = response.headers["Location"]
    assert urlsplit(login_url).path == "/login"
    page = client.get(login_url)
    assert 'value="/account/phone"' in body(page)
    response = client.post(login_url, data={"id_number": id_number, "password": PASSWORD,
                                            "captcha": CAPTCHA})
    assert response.headers["Location"] == "/account/phone"
