"""Inside WeChat's browser (its User-Agent, a 390 px phone), against the local WeChat stand-in:
the first login and the offer to bind, binding, logging out and the one tap back in; with and
without JavaScript; a used code, a wrong state, a snapshot-page user; 解除绑定; forgot password
while bound; a decision notice the official account cannot deliver going out by SMS; every
applicant page working in WeChat without its login (the camera upload shrunk in the page, the
work certificate's PDF); and the WeChat pages on narrow screens and at 200 % text."""
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from domain import wechat_bindings
from domain.wechat_bindings import NOT_BOUND
from extensions import db
from models import Account
from tests import images_factory
from tests.browser.pages import (
    DESKTOP,
    VIEWPORT_HEIGHT,
    HttpApplicant,
    Person,
    button,
    check_page,
    create_reviewer,
    field,
    group,
    loaded,
    log_in,
    posted_to,
    register_applicant,
    set_text_size,
    status_bar,
    tap_target_problems,
    url_ending,
)
from tests.factories import make_application
from tests.helpers import CAPTCHA, PASSWORD, last_code, make_id, outbox_messages
from tests.wechat_flow import WECHAT_UA

NEW_PASSWORD = "Kunming@2027zx"
START_PAGE = re.compile(r"/(home|collection)(#wechat_redirect)?$")  # the fragment of WeChat's URL stays
DOCUMENT_LIMIT = 200 * 1024
MULTIPART_OVERHEAD = 4 * 1024


@pytest.fixture
def live_wechat(app, wechat, live_server, monkeypatch):
    """WeChat configured against the stand-in, the site's address the live server's."""
    monkeypatch.setitem(app.config, "PUBLIC_URL", live_server)
    return wechat


@pytest.fixture
def in_wechat(browser, browser_context_args, live_wechat):
    """new(javascript=True) -> a page in a browser context of its own, as WeChat's browser."""
    contexts = []

    def new(javascript=True) -> Page:
        contexts.append(browser.new_context(**browser_context_args, user_agent=WECHAT_UA,
                                            java_script_enabled=javascript))
        return contexts[-1].new_page()
    yield new
    for context in contexts:
        context.close()


def bound_applicant(app, openid: str, seq: str, phone: str, name="王芳") -> Person:
    person = register_applicant(app, make_id(seq=seq), phone, name=name)
    with app.app_context():
        account = db.session.scalar(sa.select(Account).where(
            Account.id_number == person.id_number))
        wechat_bindings.bind(account, openid, "password", "127.0.0.1")
        db.session.remove()
    return person


def password_login(page: Page, person: Person, password=PASSWORD):
    page.goto("/login")
    field(page, "证件号码").fill(person.id_number)
    field(page, "密码").fill(password)
    field(page, "图形验证码").fill(CAPTCHA)
    button(page, "登录").click()


def one_tap(page: Page):
    page.goto("/login")
    button(page, "微信一键登录").click()


def expect_message(page: Page, words: str):
    expect(page.locator("#messages")).to_contain_text(words)


def expect_signed_in(page: Page, name: str):
    expect(page).to_have_url(START_PAGE)
    expect(button(page, "退出")).to_be_visible()
    expect(page.locator("main")).to_contain_text(f"您好，{name}")


def expect_signed_out(page: Page):
    expect(page).to_have_url(url_ending("/login"))
    expect(button(page, "退出")).to_have_count(0)


# --- first login, bind, log out, one tap --------------------------------------------------------

@pytest.mark.browser
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_first_login_bind_log_out_and_one_tap(in_wechat, app, live_wechat, snapshot,
                                              javascript):
    name = "wechat_js" if javascript else "wechat_nojs"
    person = register_applicant(app, make_id(seq="601" if javascript else "602"),
                                "13800000601" if javascript else "13800000602", name="王芳")
    page = in_wechat(javascript)
    page.goto("/login")
    expect(button(page, "微信一键登录")).to_be_visible()
    check_page(page, f"{name}_login", snapshot)

    # The first time: the usual login, then the offer to bind.
    password_login(page, person)
    expect(page).to_have_url(url_ending("/account/wechat"))
    expect(page.get_by_role("heading", level=1)).to_have_text("微信一键登录")
    expect(page.locator("main")).to_contain_text("绑定微信，下次一键登录")
    check_page(page, f"{name}_offer", snapshot)
    field(page, "登录密码").fill("Wrong#2026pw")
    button(page, "绑定微信").click()
    expect(page.get_by_role("alert")).to_contain_text("登录密码不正确")
    check_page(page, f"{name}_offer_wrong_password", snapshot)
    field(page, "登录密码").fill(PASSWORD)
    button(page, "绑定微信").click()
    expect_message(page, "微信已绑定")
    expect(page).to_have_url(url_ending("/account/wechat"))
    expect(page.get_by_role("heading", name="已绑定微信")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text(live_wechat.openid)
    check_page(page, f"{name}_bound", snapshot)
    assert len(live_wechat.authorizations) == 1
    assert live_wechat.authorizations[0].query["redirect_uri"].endswith("/wechat/callback")

    # Log out; one tap logs in again, no password.
    button(page, "退出").click()
    expect_signed_out(page)
    button(page, "微信一键登录").click()
    expect_signed_in(page, person.name)
    expect(page.get_by_role("link", name="微信一键登录（已绑定）")).to_be_visible()
    check_page(page, f"{name}_signed_in", snapshot)
    assert len(live_wechat.authorizations) == 2 and len(live_wechat.exchanges) == 2


@pytest.mark.browser
def test_binding_with_an_sms_code_instead(in_wechat, app, live_wechat, outbox, snapshot):
    person = register_applicant(app, make_id(seq="603"), "13800000603", name="王芳")
    page = in_wechat()
    password_login(page, person)
    page.get_by_role("link", name="改用短信验证码").click()
    expect(page).to_have_url(url_ending("/account/wechat/sms"))
    expect(page.locator("main")).to_contain_text("138****0603")
    field(page, "图形验证码").fill(CAPTCHA)
    button(page, "获取验证码").click()
    expect(page.locator(".sms__status")).to_contain_text("验证码已发送至138****0603")
    check_page(page, "wechat_sms_sent", snapshot)
    field(page, "短信验证码").fill(last_code(outbox, person.phone))
    button(page, "绑定微信").click()
    expect_message(page, "微信已绑定")
    expect(page.get_by_role("heading", name="已绑定微信")).to_be_visible()


# --- the callback's refusals --------------------------------------------------------------------

@pytest.mark.browser
def test_a_used_code(in_wechat, app, live_wechat, snapshot):
    person = bound_applicant(app, live_wechat.openid, "611", "13800000611")
    page = in_wechat()
    with page.expect_request(lambda r: "/wechat/callback?" in r.url) as first:
        one_tap(page)
    expect_signed_in(page, person.name)
    used_code = parse_qs(urlsplit(first.value.url).query)["code"][0]
    button(page, "退出").click()
    expect_signed_out(page)
    live_wechat.reissue = used_code  # WeChat's answer comes back with a code already used
    button(page, "微信一键登录").click()
    expect_signed_out(page)
    expect_message(page, "微信授权已失效（授权码无效或已使用）")
    check_page(page, "wechat_used_code", snapshot)
    assert live_wechat.exchanges[-1].errcode == 40163


@pytest.mark.browser
def test_a_wrong_state(in_wechat, app, live_wechat, live_server, snapshot):
    person = bound_applicant(app, live_wechat.openid, "612", "13800000612")
    page = in_wechat()
    with page.expect_request(lambda r: "/wechat/callback?" in r.url) as first:
        one_tap(page)
    expect_signed_in(page, person.name)
    button(page, "退出").click()
    expect_signed_out(page)
    # the same callback again (a reload, the back button): its state is spent
    page.goto(first.value.url)
    expect_signed_out(page)
    expect_message(page, "这次授权已失效，或不是从本页面发起的")
    # a callback someone else made, with their own code and a state this browser never had
    other = in_wechat()
    with other.expect_request(lambda r: "/wechat/callback?" in r.url) as theirs:
        other.goto("/login")
        other.route("**/wechat/callback?*", lambda route: route.abort())
        button(other, "微信一键登录").click()
    page.goto(theirs.value.url)
    expect_signed_out(page)
    expect_message(page, "不是从本页面发起的")
    page.goto(f"{live_server}/wechat/callback?code=x&state=forged")
    expect_signed_out(page)
    check_page(page, "wechat_wrong_state", snapshot)


@pytest.mark.browser
def test_a_snapshot_page_user(in_wechat, app, live_wechat, snapshot):
    bound_applicant(app, live_wechat.openid, "613", "13800000613")
    live_wechat.snapshot = True
    page = in_wechat()
    one_tap(page)
    expect_signed_out(page)
    expect_message(page, "请点击屏幕下方的“使用完整服务”")
    check_page(page, "wechat_snapshot_user", snapshot)


# --- ending a binding ---------------------------------------------------------------------------

@pytest.mark.browser
def test_unbind(in_wechat, app, live_wechat, snapshot):
    person = bound_applicant(app, live_wechat.openid, "621", "13800000621")
    page = in_wechat()
    one_tap(page)
    expect_signed_in(page, person.name)
    page.get_by_role("link", name="微信一键登录（已绑定）").click()
    button(page, "解除绑定").click()
    expect_message(page, "已解除微信绑定")
    expect(page.locator("main")).to_contain_text("绑定微信，下次一键登录")
    check_page(page, "wechat_unbound", snapshot)
    button(page, "退出").click()
    button(page, "微信一键登录").click()
    expect_signed_out(page)
    expect_message(page, NOT_BOUND)


@pytest.mark.browser
def test_forgot_password_while_bound(in_wechat, app, live_wechat, outbox, snapshot):
    person = bound_applicant(app, live_wechat.openid, "622", "13800000622")
    page = in_wechat()
    page.goto("/login")
    page.get_by_role("link", name="忘记密码").click()
    field(page, "证件号码").fill(person.id_number)
    field(page, "绑定的手机号码").fill(person.phone)
    field(page, "图形验证码").fill(CAPTCHA)
    button(page, "获取验证码").click()
    expect(page.locator(".sms__status")).to_contain_text("验证码已发送")
    field(page, "短信验证码").fill(last_code(outbox, person.phone))
    field(page, "新密码").fill(NEW_PASSWORD)
    field(page, "确认新密码").fill(NEW_PASSWORD)
    button(page, "重置密码").click()
    expect_signed_out(page)
    expect_message(page, "微信一键登录已解除（登录后可重新绑定）")
    check_page(page, "wechat_reset_unbound", snapshot)
    button(page, "微信一键登录").click()
    expect_message(page, NOT_BOUND)
    password_login(page, person, NEW_PASSWORD)
    expect(page).to_have_url(url_ending("/account/wechat"))  # offered to bind again
    page.get_by_role("link", name="暂不绑定").click()
    expect_signed_in(page, person.name)


# --- the decision notice ------------------------------------------------------------------------

@pytest.mark.browser
def test_a_decision_the_official_account_cannot_deliver_goes_by_sms(
        in_wechat, browser, browser_context_args, app, live_wechat, outbox):
    accountant = make_application(app, name="钱敏")
    with app.app_context():
        account = db.session.get(Account, accountant.account_id)
        wechat_bindings.bind(account, live_wechat.openid, "password", "127.0.0.1")
        db.session.remove()
    live_wechat.set_mode("send", "not_following")  # they never followed the official account
    reviewer = create_reviewer(app, "530102", make_id("530102", "19800101", "631"),
                               "13900000631")
    desk = browser.new_context(**{**browser_context_args, **DESKTOP}).new_page()
    log_in(desk, reviewer)
    desk.goto(f"/review/{accountant.application_id}")
    group(desk, "审核结果").get_by_label("通过", exact=True).check()
    button(desk, "提交，审核下一份").click()
    expect(desk).to_have_url(re.compile(r"/review\?status=pending$"))   # none left: the list
    desk.context.close()

    [attempt] = live_wechat.messages
    assert attempt.errcode == 43004 and attempt.touser == live_wechat.openid
    notices = [m for m in outbox_messages(outbox) if m["to"] == accountant.phone]
    assert [("审核通过" in m["body"]) for m in notices] == [True]

    page = in_wechat()
    one_tap(page)
    expect(button(page, "退出")).to_be_visible()
    expect(status_bar(page)).to_contain_text("审核成功")


# --- every page works inside WeChat without its login --------------------------------------------

@pytest.mark.browser
def test_photos_and_the_pdf_inside_wechat_without_binding(in_wechat, app, live_wechat, tmp_path):
    person = register_applicant(app, make_id(seq="641"), "13800000641", name="赵敏")
    HttpApplicant(app, person).fill_sections()
    camera = tmp_path / "IMG_20260115_103000.jpg"
    camera.write_bytes(images_factory.camera_document(4000, 3000))
    page = in_wechat()
    password_login(page, person)
    page.get_by_role("link", name="暂不绑定").click()  # WeChat login is only ever offered
    expect_signed_in(page, person.name)
    page.goto("/collection/materials")
    loaded(page)
    upload = page.locator("#photo-id_front")
    expect(upload).to_have_attribute("capture", "environment")
    page.route("**/collection/materials/*", lambda route: route.continue_())
    with page.expect_request(posted_to("/collection/materials/id_front")) as sent:
        upload.set_input_files(camera)
    assert len(sent.value.post_data_buffer) <= DOCUMENT_LIMIT + MULTIPART_OVERHEAD
    row = page.locator("#material-id_front")
    expect(row.locator(".tag")).to_have_text("已上传")
    expect(page.locator("main")).to_contain_text("在微信中如不能下载或打印")
    # (axe and the screenshot of this page: tests/browser/test_materials_upload.py)
    with page.expect_download(timeout=15_000) as download:
        page.get_by_role("link", name=re.compile("下载工作证明")).click()
    assert download.value.suggested_filename == "work-certificate.pdf"
    response = page.request.get("/collection/work-certificate.pdf", timeout=15_000)
    assert response.status == 200 and response.body()[:5] == b"%PDF-"


# --- narrow screens -------------------------------------------------------------------------------

@pytest.mark.browser
def test_the_wechat_pages_fit_a_phone(in_wechat, app, live_wechat):
    person = register_applicant(app, make_id(seq="651"), "13800000651", name="王芳")
    page = in_wechat()
    cdp = page.context.new_cdp_session(page)
    problems = []

    def measure(name):
        nonlocal problems
        loaded(page)
        problems += tap_target_problems(page, cdp, name)
        set_text_size(cdp, 100)
        page.set_viewport_size({"width": 390, "height": VIEWPORT_HEIGHT})

    page.goto("/login")
    measure("登录·微信")
    password_login(page, person)
    expect(page).to_have_url(url_ending("/account/wechat"))
    measure("绑定微信·密码")
    page.get_by_role("link", name="改用短信验证码").click()
    expect(page).to_have_url(url_ending("/account/wechat/sms"))
    measure("绑定微信·短信")
    page.get_by_role("link", name="改用登录密码").click()
    field(page, "登录密码").fill(PASSWORD)
    button(page, "绑定微信").click()
    expect(page.get_by_role("heading", name="已绑定微信")).to_be_visible()
    measure("微信一键登录·已绑定")
    page.goto("/collection")
    measure("信息采集·微信")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
