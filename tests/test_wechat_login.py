"""微信一键登录 and 绑定微信 over HTTP, against the local WeChat stand-in: the button only inside
WeChat, the offer after a password login, binding by password or SMS code, the one-tap login,
the callback's state and code rules, snapshot-page users, unbinding, and which account events
end or keep a binding; the openid stored only as a digest and sealed, never shown."""
from datetime import timedelta
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import sqlalchemy as sa

from domain import login_sessions, staff, wechat_bindings, wechat_ids
from domain.id_numbers import mask
from domain.wechat_bindings import NOT_BOUND
from extensions import db
from models import Account, Role, WeChatBinding, WeChatState, utcnow
from tests.factories import make_staff, staff_client
from tests.helpers import (
    CAPTCHA,
    PASSWORD,
    body,
    htmx,
    last_code,
    login,
    make_id,
    outbox_messages,
    seeded_applicant,
    send_code,
)
from tests.wechat_flow import (
    PHONE_UA,
    WECHAT_WORK_UA,
    audit_rows,
    authorised,
    bind_by_password,
    bindings,
    callback_path,
    everything_stored,
    in_wechat,
    one_tap,
    password_login,
    start_one_tap,
    through_wechat,
    wechat_location,
)

PHONE = "13800001111"
NEW_PASSWORD = "Kunming@2027zx"


def account_of(app, id_number) -> Account:
    with app.app_context():
        account = db.session.scalar(sa.select(Account).where(Account.id_number == id_number))
        db.session.expunge(account)
        db.session.remove()
    return account


def wechat_client(app):
    return in_wechat(app.test_client())


def bound_person(app, phone=PHONE, **id_parts) -> str:
    """An applicant who logged in inside WeChat and bound it with the password (then closed the
    browser): their ID number."""
    id_number = seeded_applicant(app, phone=phone, **id_parts)
    client = wechat_client(app)
    assert password_login(client, id_number).status_code == 303
    answer = bind_by_password(client)
    assert answer.status_code == 303 and answer.headers["Location"] == "/account/wechat", \
        body(answer)
    return id_number


def signed_in(client) -> bool:
    return client.get("/account/password").status_code == 200


def flashed(client, response) -> str:
    """The page a redirect leads to, with the message it carries."""
    return body(client.get(response.headers["Location"], follow_redirects=True))


# -- what the person sees --------------------------------------------------------------------------

def test_the_button_is_offered_inside_wechat_only(app, wechat):
    outside = app.test_client()
    outside.environ_base["HTTP_USER_AGENT"] = PHONE_UA
    response = outside.get("/login")
    assert "微信一键登录" not in body(response)
    assert "User-Agent" in response.headers["Vary"]
    assert wechat.url not in response.headers["Content-Security-Policy"]
    inside = wechat_client(app)
    for path in ("/login", "/login?next=/collection/basic"):
        response = inside.get(path)
        page = body(response)
        assert "微信一键登录" in page and 'action="/wechat/login"' in page, path
        assert "第一次使用请在下方用证件号码和密码登录" in page
        # the form that leads to WeChat's page may: the browser checks form-action on redirects
        assert f"form-action 'self' {wechat.url};" in response.headers["Content-Security-Policy"]
    assert '<input type="hidden" name="next" value="/collection/basic">' in page
    work = in_wechat(app.test_client(), WECHAT_WORK_UA)  # 企业微信: no official-account login
    assert "微信一键登录" not in body(work.get("/login"))


def test_without_wechat_configured_nothing_changes(app):
    inside = wechat_client(app)
    response = inside.get("/login")
    assert "微信一键登录" not in body(response) and "User-Agent" not in response.headers["Vary"]
    assert inside.post("/wechat/login").status_code == 404
    assert inside.get("/wechat/callback?code=abc&state=abc").status_code == 404
    id_number = seeded_applicant(app)
    response = password_login(inside, id_number)
    assert response.headers["Location"] == "/home"  # no offer
    assert "微信一键登录" not in body(inside.get("/collection"))
    assert inside.get("/account/wechat").status_code == 404


def test_wechat_login_needs_the_sites_own_address(app, wechat, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", None)
    assert "微信一键登录" not in body(wechat_client(app).get("/login"))
    assert wechat_client(app).post("/wechat/login").status_code == 404


def test_a_password_login_inside_wechat_offers_binding_first(app, wechat):
    id_number = seeded_applicant(app)
    client = wechat_client(app)
    response = client.post("/login?next=/collection/basic", data={
        "id_number": id_number, "password": PASSWORD, "captcha": CAPTCHA})
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/wechat?next=/collection/basic"
    page = body(client.get(response.headers["Location"]))
    assert "绑定微信，下次一键登录" in page and "再次输入登录密码" in page
    assert '<a href="/collection/basic">暂不绑定</a>' in page
    assert 'href="/account/wechat/sms?next=/collection/basic"' in page
    assert '<input id="next" name="next" type="hidden" value="/collection/basic">' in page
    # the 账号设置 line on the collection's start page
    assert "微信一键登录（未绑定）" in body(client.get("/collection"))
    assert wechat.authorizations == []  # nothing asked of WeChat yet


def test_no_offer_outside_wechat_nor_to_someone_already_bound(app, wechat):
    id_number = seeded_applicant(app)
    outside = app.test_client()
    assert password_login(outside, id_number).headers["Location"] == "/home"
    page = body(outside.get("/account/wechat"))
    assert "未绑定微信" in page and "请在微信中打开本系统并登录" in page
    assert 'name="password"' not in page
    # outside WeChat a posted bind does nothing
    assert outside.post("/account/wechat", data={"password": PASSWORD}).status_code == 200
    assert wechat.authorizations == []
    bound = bound_person(app, phone="13800002222", seq="222")
    client = wechat_client(app)
    assert password_login(client, bound).headers["Location"] == "/home"


def test_binding_with_the_password(app, wechat):
    id_number = seeded_applicant(app)
    client = wechat_client(app)
    password_login(client, id_number)
    # 422: as a whole page, and as the form's fragment for HTMX
    empty = client.post("/account/wechat", data={"password": ""})
    assert empty.status_code == 422 and "<html" in body(empty) and "请填写登录密码" in body(empty)
    fragment = client.post("/account/wechat", data={"password": ""}, headers=htmx())
    assert fragment.status_code == 422 and body(fragment).lstrip().startswith("<form")
    wrong = client.post("/account/wechat", data={"password": "Wrong#2026pw"}, headers=htmx())
    assert wrong.status_code == 422 and "登录密码不正确" in body(wrong)
    assert audit_rows(app, "password.wrong")  # counts toward the login lock
    assert wechat.authorizations == []
    # the password: to WeChat's silent authorisation, redirect_uri from PUBLIC_URL
    response = client.post("/account/wechat", data={"password": PASSWORD}, headers=htmx())
    assert response.status_code == 204  # HX-Redirect: htmx leaves the page for WeChat's
    query = parse_qs(urlsplit(wechat_location(response)).query)
    assert query["appid"] == [wechat.appid] and query["scope"] == ["snsapi_base"]
    assert query["redirect_uri"] == ["http://localhost/wechat/callback"]
    assert len(query["state"][0]) == 32
    answer = through_wechat(client, response)
    assert answer.status_code == 303 and answer.headers["Location"] == "/account/wechat"
    page = flashed(client, answer)
    assert "微信已绑定" in page and "已绑定微信" in page and "解除绑定" in page
    assert wechat.openid not in page
    assert "微信一键登录（已绑定）" in body(client.get("/collection"))
    [binding] = bindings(app)
    assert binding.appid == wechat.appid
    [(action, subject, details)] = audit_rows(app, "wechat.")
    assert (action, subject, details["proof"]) == ("wechat.bind", mask(id_number), "password")
    assert details["wechat"] == "wx:" + binding.openid_digest[:12]
    assert wechat.openid not in everything_stored(app)


def test_binding_goes_on_to_where_the_person_was_going(app, wechat):
    id_number = seeded_applicant(app)
    client = wechat_client(app)
    password_login(client, id_number)
    answer = bind_by_password(client, next_url="/collection/basic")
    assert answer.headers["Location"] == "/collection/basic"


def test_binding_with_an_sms_code_to_the_bound_phone(app, wechat, outbox):
    id_number = seeded_applicant(app)
    client = wechat_client(app)
    password_login(client, id_number)
    page = body(client.get("/account/wechat/sms?next=/collection"))
    assert "验证码将发送至 <span class=\"mono\">138****1111</span>" in page
    assert 'name="phone"' not in page  # the bound phone, never a typed one
    # 获取验证码: the captcha first
    refused = client.post("/account/wechat/sms/send-code", data={"captcha": ""})
    assert refused.status_code == 422 and outbox_messages(outbox) == []
    sent = client.post("/account/wechat/sms/send-code", data={"captcha": CAPTCHA},
                       headers=htmx())
    assert sent.status_code == 200 and body(sent).lstrip().startswith("<form")
    assert "验证码已发送至138****1111" in body(sent)
    [message] = outbox_messages(outbox)
    assert message["to"] == PHONE and "绑定微信一键登录" in message["body"]
    wrong = client.post("/account/wechat/sms", data={"sms_code": "000000"})
    assert wrong.status_code == 422 and "验证码" in body(wrong)
    empty = client.post("/account/wechat/sms", data={"sms_code": ""}, headers=htmx())
    assert empty.status_code == 422 and body(empty).lstrip().startswith("<form")
    response = client.post("/account/wechat/sms", data={"sms_code": last_code(outbox, PHONE),
                                                        "next": "/collection"})
    answer = through_wechat(client, response)
    assert answer.headers["Location"] == "/collection"
    [(action, _subject, details)] = audit_rows(app, "wechat.")
    assert action == "wechat.bind" and details["proof"] == "sms"
    # bound: the SMS page sends the person back to the status
    assert client.get("/account/wechat/sms").headers["Location"] == "/account/wechat"


def test_one_tap_login(app, wechat):
    id_number = bound_person(app)
    client = wechat_client(app)
    response = start_one_tap(client, "/collection/basic")
    assert response.status_code == 303 and wechat_location(response)
    answer = through_wechat(client, response)
    assert answer.status_code == 303 and answer.headers["Location"] == "/collection/basic"
    assert signed_in(client)
    action, subject, details = audit_rows(app, "wechat.login")[-1]
    assert (action, subject) == ("wechat.login", mask(id_number))
    assert details["wechat"].startswith("wx:")
    # a new login session, ended by 退出 as any other
    client.post("/logout")
    assert not signed_in(client)
    assert one_tap(client).headers["Location"] == "/home"
    assert signed_in(client)


def test_one_tap_ignores_a_next_address_on_another_site(app, wechat):
    bound_person(app)
    client = wechat_client(app)
    assert one_tap(client, "https://evil.example/x").headers["Location"] == "/home"
    client.post("/logout")
    assert one_tap(client, "//evil.example/x").headers["Location"] == "/home"


def test_the_redirect_uri_never_comes_from_the_request(app, wechat):
    client = wechat_client(app)
    response = client.post("/wechat/login", headers={"Host": "evil.example",
                                                     "X-Forwarded-Host": "evil.example"})
    query = parse_qs(urlsplit(wechat_location(response)).query)
    assert query["redirect_uri"] == ["http://localhost/wechat/callback"]


def test_a_wechat_not_bound_is_told_to_log_in_with_the_password(app, wechat):
    client = wechat_client(app)
    answer = one_tap(client, "/collection/basic")
    assert answer.headers["Location"] == "/login?next=/collection/basic"
    assert NOT_BOUND in flashed(client, answer)
    assert not signed_in(client)
    [(action, subject, details)] = audit_rows(app, "wechat.")
    assert (action, subject, details["reason"]) == ("wechat.login.failed", "", "not_bound")
    assert wechat.openid not in everything_stored(app)


# -- the callback's rules: state, code, snapshot users --------------------------------------------

def test_a_used_code_is_refused(app, wechat):
    bound_person(app)
    client = wechat_client(app)
    first = authorised(start_one_tap(client))
    assert client.get(callback_path(first)).headers["Location"] == "/home"
    client.post("/logout")
    used_code = parse_qs(urlsplit(first).query)["code"][0]
    again = authorised(start_one_tap(client))  # a fresh state, but WeChat's code already used
    answer = client.get(callback_path(again, code=used_code))
    assert answer.headers["Location"] == "/login"
    assert "授权码无效或已使用" in flashed(client, answer)
    assert not signed_in(client)
    assert wechat.exchanges[-1].errcode == 40163
    assert audit_rows(app, "wechat.refused")[-1][2] == {"intent": "login", "reason": "code"}


def test_a_reloaded_callback_is_refused_its_state_spent(app, wechat):
    bound_person(app)
    client = wechat_client(app)
    url = authorised(start_one_tap(client))
    assert client.get(callback_path(url)).headers["Location"] == "/home"
    client.post("/logout")
    exchanged = len(wechat.exchanges)
    answer = client.get(callback_path(url))
    assert answer.headers["Location"] == "/login"
    assert "这次授权已失效，或不是从本页面发起的" in flashed(client, answer)
    assert not signed_in(client)
    assert len(wechat.exchanges) == exchanged  # the code was not even tried
    assert audit_rows(app, "wechat.refused")[-1][2]["reason"] == "state"


@pytest.mark.parametrize("state", [None, "", "0" * 32, "中文"])
def test_a_wrong_state_is_refused(app, wechat, state):
    bound_person(app)
    client = wechat_client(app)
    url = authorised(start_one_tap(client))
    path = callback_path(url, state=quote(state)) if state is not None else \
        callback_path(url).replace("state=", "x=")
    answer = client.get(path)
    assert answer.headers["Location"] == "/login"
    assert "不是从本页面发起的" in flashed(client, answer)
    assert not signed_in(client)
    assert len(wechat.exchanges) == 1  # the bind's only


def test_a_callback_made_in_another_browser_is_refused(app, wechat):
    """Login CSRF: someone's own authorised callback, opened in a victim's browser, must not log
    the victim into the attacker's account."""
    bound_person(app)
    attacker = wechat_client(app)
    url = authorised(start_one_tap(attacker))
    victim = wechat_client(app)
    victim.get("/login")
    answer = victim.get(callback_path(url))
    assert answer.headers["Location"] == "/login" and not signed_in(victim)
    # the state is still the attacker's own, usable only in their session
    assert attacker.get(callback_path(url)).headers["Location"] == "/home"


def test_an_old_state_is_refused(app, wechat):
    bound_person(app)
    client = wechat_client(app)
    url = authorised(start_one_tap(client))
    with app.app_context():
        db.session.execute(sa.update(WeChatState).values(
            created_at=utcnow() - timedelta(minutes=11)))
        db.session.commit()
    answer = client.get(callback_path(url))
    assert answer.headers["Location"] == "/login" and not signed_in(client)


def test_a_snapshot_page_user_is_never_logged_in_or_bound(app, wechat):
    bound_person(app)
    wechat.snapshot = True
    client = wechat_client(app)
    answer = one_tap(client)
    assert "请点击屏幕下方的“使用完整服务”，再点击“微信一键登录”" in flashed(client, answer)
    assert not signed_in(client)
    id_number = seeded_applicant(app, phone="13800002222", seq="222")
    password_login(client, id_number)
    answer = bind_by_password(client)
    assert answer.headers["Location"] == "/account/wechat"
    assert "“使用完整服务”，再点击“绑定微信”" in flashed(client, answer)
    assert len(bindings(app)) == 1  # only the first person's
    reasons = [details["reason"] for _a, _s, details in audit_rows(app, "wechat.refused")]
    assert reasons == ["snapshot", "snapshot"]


@pytest.mark.parametrize("mode", ["busy", "error", "garbage"])
def test_wechat_away_sends_the_person_back_to_the_password(app, wechat, mode):
    bound_person(app)
    wechat.set_mode("oauth", mode)
    client = wechat_client(app)
    answer = one_tap(client)
    assert "暂时无法连接微信" in flashed(client, answer) and not signed_in(client)
    assert "证件号码" in body(client.get("/login"))


def test_a_bind_whose_login_ended_meanwhile_is_refused(app, wechat):
    id_number = seeded_applicant(app)
    client = wechat_client(app)
    password_login(client, id_number)
    response = client.post("/account/wechat", data={"password": PASSWORD})
    with app.app_context():  # idle too long (or logged out elsewhere) while in WeChat's page
        login_sessions.end_all(db.session.scalar(sa.select(Account)))
        db.session.commit()
    answer = through_wechat(client, response)
    assert answer.headers["Location"] == "/login"
    assert "登录已超时或已更换账号，微信没有绑定" in flashed(client, answer)
    assert bindings(app) == []


def test_the_callback_is_limited_per_address(app, wechat, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_IP_LIMIT", "2 per minute")
    client = wechat_client(app)
    assert client.get("/wechat/callback?state=a&code=b").status_code == 303
    assert client.get("/wechat/callback?state=a&code=b").status_code == 303
    assert client.get("/wechat/callback?state=a&code=b").status_code == 429


# -- what ends a binding, and what keeps it --------------------------------------------------------

def test_unbind(app, wechat):
    id_number = bound_person(app)
    client = wechat_client(app)
    one_tap(client)
    answer = client.post("/account/wechat/unbind")
    assert answer.headers["Location"] == "/account/wechat"
    page = flashed(client, answer)
    assert "已解除微信绑定" in page and "绑定微信，下次一键登录" in page
    assert bindings(app) == []
    action, subject, details = audit_rows(app, "wechat.unbind")[-1]
    assert (subject, details["reason"]) == (mask(id_number), "person")
    client.post("/logout")
    assert NOT_BOUND in flashed(client, one_tap(client))


def test_forgot_password_ends_the_binding(app, wechat, outbox):
    id_number = bound_person(app)
    client = wechat_client(app)
    assert send_code(client, "/forgot-password", PHONE, id_number=id_number).status_code == 200
    answer = client.post("/forgot-password", data={
        "id_number": id_number, "phone": PHONE, "captcha": "",
        "sms_code": last_code(outbox, PHONE), "password": NEW_PASSWORD,
        "password2": NEW_PASSWORD})
    assert answer.status_code == 303
    assert "微信一键登录已解除（登录后可重新绑定）" in flashed(client, answer)
    assert bindings(app) == []
    assert audit_rows(app, "wechat.unbind")[-1][2]["reason"] == "password.reset"
    assert NOT_BOUND in flashed(client, one_tap(client))
    # the new password, then the offer to bind again
    assert password_login(client, id_number, NEW_PASSWORD).headers["Location"] == \
        "/account/wechat"


def test_forgot_password_without_a_binding_says_nothing_of_wechat(app, wechat, outbox):
    id_number = seeded_applicant(app)
    client = app.test_client()
    send_code(client, "/forgot-password", PHONE, id_number=id_number)
    answer = client.post("/forgot-password", data={
        "id_number": id_number, "phone": PHONE, "captcha": "",
        "sms_code": last_code(outbox, PHONE), "password": NEW_PASSWORD,
        "password2": NEW_PASSWORD})
    assert "微信" not in flashed(client, answer)


def test_changing_password_or_phone_keeps_the_binding(app, wechat, outbox):
    bound_person(app)
    client = wechat_client(app)
    one_tap(client)
    answer = client.post("/account/password", data={
        "old_password": PASSWORD, "password": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert answer.status_code == 303
    assert "微信一键登录仍然有效" in flashed(client, answer)
    new_phone = "13900009999"
    send_code(client, "/account/phone", new_phone)
    answer = client.post("/account/phone", data={
        "current_password": NEW_PASSWORD, "phone": new_phone, "captcha": "",
        "sms_code": last_code(outbox, new_phone)})
    assert answer.status_code == 303
    assert len(bindings(app)) == 1
    client.post("/logout")
    assert one_tap(client).headers["Location"] == "/home"


def test_disabling_an_account_ends_the_binding_and_the_one_tap(app, wechat, ctx):
    id_number = bound_person(app)
    admin = db.session.get(Account, make_staff(app, Role.ADMIN, "530000").id)
    account = db.session.scalar(sa.select(Account).where(Account.id_number == id_number))
    staff.set_enabled(account, False, by=admin, ip="127.0.0.1")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WeChatBinding)) == 0
    assert audit_rows(app, "wechat.unbind")[-1][2]["reason"] == "disabled"


def test_a_disabled_or_locked_account_is_refused_at_the_one_tap(app, wechat):
    id_number = bound_person(app)
    with app.app_context():
        account = db.session.scalar(sa.select(Account).where(Account.id_number == id_number))
        account.locked_until = utcnow() + timedelta(minutes=20)
        db.session.commit()
    client = wechat_client(app)
    assert "账号已临时锁定，请20分钟后再试" in flashed(client, one_tap(client))
    assert not signed_in(client)
    with app.app_context():
        account = db.session.scalar(sa.select(Account).where(Account.id_number == id_number))
        account.locked_until = None
        account.is_enabled = False
        db.session.commit()
    assert "该账号已停用" in flashed(client, one_tap(client))
    assert not signed_in(client)
    reasons = [details["reason"] for _a, _s, details in audit_rows(app, "wechat.login.failed")]
    assert reasons == ["locked", "disabled"]


def test_an_administrators_reset_ends_the_binding(app, wechat, ctx):
    """Staff cannot bind; the rule stands in the one place an administrator resets a password."""
    member = make_staff(app)
    admin = db.session.get(Account, make_staff(app, Role.ADMIN, "530000").id)
    account = db.session.get(Account, member.id)
    db.session.add(WeChatBinding(account_id=account.id, appid=wechat.appid,
                                 openid_digest="d" * 64, openid_sealed="x"))
    db.session.commit()
    staff.reset_staff_password(account, by=admin, ip="127.0.0.1")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WeChatBinding)) == 0
    assert audit_rows(app, "wechat.unbind")[-1][2]["reason"] == "admin.reset"


def test_one_wechat_one_account_binding_again_moves_it(app, wechat):
    first = bound_person(app)
    second = seeded_applicant(app, phone="13800002222", seq="222")
    client = wechat_client(app)
    password_login(client, second)
    bind_by_password(client)
    [binding] = bindings(app)
    assert binding.account_id == account_of(app, second).id
    moved = [row for row in audit_rows(app, "wechat.unbind") if row[2]["reason"] == "moved"]
    assert [subject for _a, subject, _d in moved] == [mask(first)]
    client.post("/logout")
    one_tap(client)
    assert "您好" in body(client.get("/collection")) and signed_in(client)
    assert audit_rows(app, "wechat.login")[-1][1] == mask(second)


# -- who may bind --------------------------------------------------------------------------------

def test_staff_cannot_bind(app, wechat):
    client, member = staff_client(app)
    in_wechat(client)
    assert client.get("/account/wechat").status_code == 404
    assert client.post("/account/wechat", data={"password": PASSWORD}).status_code == 404
    assert client.get("/account/wechat/sms").status_code == 404
    assert client.post("/account/wechat/unbind").status_code == 404
    with app.app_context():
        account = db.session.get(Account, member.id)
        assert wechat_bindings.bind_refusal(account) == wechat_bindings.STAFF
        with pytest.raises(wechat_bindings.WeChatRefused):
            wechat_bindings.bind(account, "o_staff", "password", "127.0.0.1")
        db.session.remove()
    # a staff login inside WeChat goes to its SMS step, never to a WeChat offer
    other = in_wechat(app.test_client())
    response = login(other, member.id_number, member.password, second_factor=False)
    assert response.headers["Location"] == "/login/verify"
    response = login(in_wechat(app.test_client()), member.id_number, member.password)
    assert response.headers["Location"] == "/home"


def test_an_imported_person_binds_a_phone_before_wechat(app, wechat):
    from domain.archive_import import import_rows
    from domain.initial_password import derive
    id_number = make_id(seq="555")
    with app.app_context():
        import_rows([{"姓名": "李四", "证件号码": id_number, "资格级别": "中级", "证书编号": "Z1",
                      "取得日期": "2010-05-01"}])
        db.session.remove()
    client = wechat_client(app)
    response = password_login(client, id_number, derive(id_number))
    assert response.status_code == 303
    assert client.get("/account/wechat").headers["Location"] == "/account/bind-phone"


# -- how the openid is kept --------------------------------------------------------------------------

def test_the_openid_is_found_by_a_keyed_digest_and_kept_sealed(app, ctx, monkeypatch):
    digest = wechat_ids.digest("wx1", "o_abc")
    assert digest == wechat_ids.digest("wx1", "o_abc") != wechat_ids.digest("wx2", "o_abc")
    assert len(digest) == 64 and "o_abc" not in digest
    sealed = wechat_ids.seal("o_abc")
    assert "o_abc" not in sealed and sealed != wechat_ids.seal("o_abc")  # a fresh IV each time
    assert wechat_ids.unseal(sealed) == "o_abc"
    assert wechat_ids.unseal("not a token") is None
    monkeypatch.setitem(app.config, "SECRET_KEY", "another-secret-key")
    assert wechat_ids.unseal(sealed) is None  # a new SECRET_KEY: bindings no longer open
    assert wechat_ids.digest("wx1", "o_abc") != digest


def test_one_openid_is_bound_once_per_official_account(app, ctx):
    ids = [seeded_applicant(app, phone=f"1380000{n}000", seq=f"{n}00") for n in (1, 2, 3)]
    accounts = [db.session.scalar(sa.select(Account).where(Account.id_number == i))
                for i in ids]

    def binding(account, appid):
        return WeChatBinding(account_id=account.id, appid=appid,
                             openid_digest=wechat_ids.digest("wx1", "o_same"),
                             openid_sealed=wechat_ids.seal("o_same"))
    db.session.add_all([binding(accounts[0], "wx1"), binding(accounts[1], "wx2")])
    db.session.commit()  # the same digest under another official account: allowed
    db.session.add(binding(accounts[2], "wx1"))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_old_states_are_purged(app, ctx):
    from domain import maintenance
    db.session.add_all([
        WeChatState(state_hash="a" * 64, intent="login", created_at=utcnow() - timedelta(days=2)),
        WeChatState(state_hash="b" * 64, intent="login")])
    db.session.commit()
    assert maintenance.purge()["wechat_states"] == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WeChatState)) == 1


def test_registering_inside_wechat_offers_binding_too(app, wechat, outbox):
    from tests.helpers import register
    client = wechat_client(app)
    response = register(client, outbox, make_id(seq="777"), "13800007777")
    assert response.status_code == 303 and response.headers["Location"] == "/account/wechat"
    page = flashed(client, response)
    assert "注册成功" in page and "绑定微信，下次一键登录" in page
    outside = app.test_client()
    response = register(outside, outbox, make_id(seq="778"), "13800007778")
    assert response.headers["Location"] == "/home"
