"""The account pages in a real browser at phone size: register, log out, reset the password and
log in again; the same form without JavaScript; errors swapped in place; no sideways scrolling;
an expired session met by an HTMX request."""
import re

import pytest
from playwright.sync_api import Page, expect

from domain import accounts, login_sessions
from extensions import db
from tests.browser.pages import button, check_page, field, posted_to, url_ending
from tests.helpers import CAPTCHA, PASSWORD, last_code, make_id, outbox_messages, register

NEW_PASSWORD = "Kunming@2027zx"
# Signing in leads to /home; for an applicant /home forwards to the collection start page.
START_PAGE = re.compile(r"/(home|collection)$")


# --- small helpers -------------------------------------------------------------------------

def fill_registration(page: Page, id_number: str, name: str, phone: str, password=PASSWORD):
    field(page, "证件号码").fill(id_number)
    field(page, "姓名").fill(name)
    field(page, "手机号码").fill(phone)
    field(page, "密码").fill(password)
    field(page, "确认密码").fill(password)
    field(page, "我已阅读并同意《个人信息保护告知书》").check()


def ask_for_code(page: Page):
    """Solve the captcha (the test answer) and press 获取验证码."""
    field(page, "图形验证码").fill(CAPTCHA)
    button(page, "获取验证码").click()


def sms_status(page: Page):
    return page.locator(".sms__status")


def send_button(page: Page):
    return page.locator(".sms__send")


def let_a_minute_pass(app):
    """One code per phone per minute: forget the sends so far instead of sleeping 60 s."""
    app.extensions["sms_limits"].limiter.storage.reset()


def log_in(page: Page, id_number: str, password: str):
    field(page, "证件号码").fill(id_number)
    field(page, "密码").fill(password)
    field(page, "图形验证码").fill(CAPTCHA)
    button(page, "登录").click()


def with_wrong_check_digit(id_number: str) -> str:
    wrong = "0" if id_number[-1] != "0" else "1"
    return id_number[:-1] + wrong


def seed_account(app, outbox, id_number: str, phone: str, name="王芳"):
    """An account made through the real /register view, by the Flask test client."""
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        response = register(app.test_client(), outbox, id_number, phone, name)
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    assert response.status_code == 303, response.get_data(as_text=True)


def expect_signed_in(page: Page, name: str):
    """On the start page, signed in, greeted by the name given at registration."""
    expect(page).to_have_url(START_PAGE)
    expect(button(page, "退出")).to_be_visible()
    expect(page.locator("main")).to_contain_text(f"您好，{name}")


def end_all_sessions(app, id_number: str):
    """What idleness or a password change elsewhere does: the server forgets the login."""
    with app.app_context():
        login_sessions.end_all(accounts.find_by_id_number(id_number))
        db.session.commit()
        db.session.remove()


# --- tests ---------------------------------------------------------------------------------

@pytest.mark.browser
def test_register_log_out_reset_password_and_log_in_again(page: Page, app, outbox, snapshot):
    id_number, name, phone = make_id(), "李明", "13800001111"

    page.goto("/")
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    check_page(page, "login", snapshot)

    page.get_by_role("link", name="注册", exact=True).click()
    expect(page).to_have_url(url_ending("/register"))
    check_page(page, "register", snapshot)

    fill_registration(page, id_number, name, phone)
    ask_for_code(page)
    expect(sms_status(page)).to_contain_text("验证码已发送")
    expect(send_button(page)).to_have_js_property("disabled", True)  # not only aria-disabled
    expect(send_button(page)).to_have_text(re.compile(r"^\d+秒后重新获取$"))
    field(page, "短信验证码").fill(last_code(outbox, phone))
    button(page, "注册").click()

    expect_signed_in(page, name)
    expect(page.locator("#messages")).to_contain_text("注册成功")
    check_page(page, "home", snapshot)

    button(page, "退出").click()
    expect(page).to_have_url(url_ending("/login"))
    expect(page.locator("#messages")).to_contain_text("您已安全退出")

    page.get_by_role("link", name="忘记密码").click()
    expect(page).to_have_url(url_ending("/forgot-password"))
    check_page(page, "forgot_password", snapshot)

    field(page, "证件号码").fill(id_number)
    field(page, "绑定的手机号码").fill(phone)
    let_a_minute_pass(app)
    sent_before = len(outbox_messages(outbox))
    ask_for_code(page)
    expect(sms_status(page)).to_contain_text("验证码已发送")
    assert len(outbox_messages(outbox)) == sent_before + 1
    field(page, "短信验证码").fill(last_code(outbox, phone))
    field(page, "新密码").fill(NEW_PASSWORD)
    field(page, "确认新密码").fill(NEW_PASSWORD)
    button(page, "重置密码").click()

    expect(page).to_have_url(url_ending("/login"))
    expect(page.locator("#messages")).to_contain_text("密码已重置")
    log_in(page, id_number, NEW_PASSWORD)
    expect_signed_in(page, name)


@pytest.mark.browser
def test_register_without_javascript_keeps_every_typed_value(new_context, outbox, snapshot):
    page = new_context(java_script_enabled=False).new_page()
    id_number, name, phone = make_id(seq="234"), "欧阳·娜娜", "13900002222"

    page.goto("/register")
    fill_registration(page, id_number, name, phone)
    with page.expect_navigation() as navigation:
        ask_for_code(page)  # a plain form submit: the whole page comes back
    response = navigation.value
    assert response.status == 200
    assert response.request.method == "POST"
    assert "hx-request" not in response.request.all_headers()

    expect(sms_status(page)).to_contain_text("验证码已发送")
    expect(field(page, "证件号码")).to_have_value(id_number)
    expect(field(page, "姓名")).to_have_value(name)
    expect(field(page, "手机号码")).to_have_value(phone)
    expect(field(page, "密码")).to_have_value(PASSWORD)
    expect(field(page, "确认密码")).to_have_value(PASSWORD)
    expect(field(page, "我已阅读并同意《个人信息保护告知书》")).to_be_checked()
    snapshot(page, "register_nojs_code_sent")

    field(page, "短信验证码").fill(last_code(outbox, phone))
    button(page, "注册").click()
    expect_signed_in(page, name)


@pytest.mark.browser
@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_one_captcha_per_code_a_refused_register_does_not_ask_for_another(new_context, outbox,
                                                                          js):
    page = new_context(java_script_enabled=js).new_page()
    id_number, name, phone = make_id(seq="235" if js else "236"), "赵敏", f"1390000223{int(js)}"
    page.goto("/register")
    label = page.locator("label[for=captcha]")
    expect(label).to_have_text("图形验证码")   # not marked required: it guards 获取验证码 only
    expect(page.locator("#captcha-hint")).to_have_text("点“获取验证码”前填写；每次获取填一次，提交时不用再填")
    fill_registration(page, id_number, name, phone)
    field(page, "确认密码").fill(PASSWORD + "x")
    ask_for_code(page)
    expect(sms_status(page)).to_contain_text("验证码已发送")
    expect(field(page, "图形验证码")).to_have_value("")   # spent on that code
    field(page, "短信验证码").fill(last_code(outbox, phone))
    button(page, "注册").click()
    expect(page.locator("#password2-error")).to_be_visible()   # refused: the passwords differ
    expect(page.locator("#captcha-error")).to_have_count(0)
    field(page, "确认密码").fill(PASSWORD)
    button(page, "注册").click()   # the captcha left empty, the code typed still good
    expect_signed_in(page, name)


@pytest.mark.browser
def test_register_errors_are_swapped_into_the_page(page: Page, snapshot):
    bad_id, name, bad_phone = with_wrong_check_digit(make_id()), "张三", "+8613800000000"

    page.goto("/register")
    fill_registration(page, bad_id, name, bad_phone)
    page.evaluate("window.__marker = 1")
    with page.expect_response(posted_to("/register")) as answer:
        button(page, "注册").click()
    response = answer.value
    headers = response.request.all_headers()
    assert response.status == 422
    assert headers.get("hx-request") == "true"
    assert headers.get("x-csrftoken"), "htmx should send the CSRF token from hx-headers"

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("请改正以下问题")
    expect(summary).to_be_focused()
    expect(page.locator("#id_number-error")).to_contain_text("证件号码校验位不正确")
    expect(page.locator("#phone-error")).to_contain_text("不要加+86")
    expect(field(page, "证件号码")).to_have_attribute("aria-invalid", "true")
    expect(field(page, "手机号码")).to_have_attribute("aria-invalid", "true")

    expect(field(page, "证件号码")).to_have_value(bad_id)
    expect(field(page, "姓名")).to_have_value(name)
    expect(field(page, "手机号码")).to_have_value(bad_phone)
    expect(field(page, "密码")).to_have_value(PASSWORD)
    assert page.evaluate("window.__marker") == 1, "the page was reloaded, not swapped"
    check_page(page, "register_errors", snapshot)


@pytest.mark.browser
@pytest.mark.parametrize("path", ["/login", "/register"])
def test_no_horizontal_scroll_at_360px(page: Page, path):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(path)
    assert page.evaluate("document.documentElement.clientWidth") == 360
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 360, f"{path} is {scroll_width}px wide at 360px"


@pytest.mark.browser
def test_htmx_post_after_the_session_ended_goes_to_the_login_page(page: Page, app, outbox,
                                                                  snapshot):
    id_number, phone = make_id(seq="456"), "13700003333"
    seed_account(app, outbox, id_number, phone)

    page.goto("/login")
    log_in(page, id_number, PASSWORD)
    expect(page).to_have_url(START_PAGE)
    page.get_by_role("link", name="修改密码").click()
    expect(page).to_have_url(url_ending("/account/password"))
    check_page(page, "change_password", snapshot)

    end_all_sessions(app, id_number)
    field(page, "当前密码").fill(PASSWORD)
    field(page, "新密码").fill(NEW_PASSWORD)
    field(page, "确认新密码").fill(NEW_PASSWORD)
    page.evaluate("window.__marker = 1")
    with page.expect_response(posted_to("/account/password")) as answer:
        button(page, "保存新密码").click()
    assert answer.value.status == 401
    assert answer.value.request.all_headers().get("hx-request") == "true"

    expect(page).to_have_url(url_ending("/login"))
    expect(page.locator("#login-form")).to_have_count(1)
    expect(page.locator("#password-form")).to_have_count(0)
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    assert page.evaluate("typeof window.__marker") == "undefined", "no full navigation happened"
