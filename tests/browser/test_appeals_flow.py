"""账号申诉 in several browsers: a person whose ID number someone else registered finds the appeal
from the register page's notice, files it on a phone with camera photos, the county's reviewer
approves it at a desk — the old holder's session ends at their next page and the account opens
with the password sent to the appellant's phone; a lost-phone appeal from 忘记密码 for an account
without a county — its first try refused for a mistyped code, the photos kept — is rejected by
an administrator with a reason, filed again and approved; a taken-ID appeal rejected by the
county, the holder's account, session and phone untouched."""
import re

import pytest
from playwright.sync_api import Page, expect

from models import ApplicationStatus
from tests import images_factory
from tests.browser.pages import (
    DESKTOP,
    Person,
    button,
    check_page,
    create_reviewer,
    field,
    group,
    loaded,
    log_in,
    register_applicant,
    url_ending,
)
from tests.factories import make_application
from tests.helpers import CAPTCHA, PASSWORD, last_code, make_id, outbox_messages

STATEMENT = "本人从未在本系统注册，发现证件号码已被他人注册。"


@pytest.fixture
def desk(browser, browser_context_args):
    context = browser.new_context(**{**browser_context_args, **DESKTOP})
    yield context.new_page()
    context.close()


@pytest.fixture
def other_phone(browser, browser_context_args):
    context = browser.new_context(**browser_context_args)
    yield context.new_page()
    context.close()


@pytest.fixture
def photo_files(tmp_path):
    """Three camera-sized photos (2000×1500), shrunk by upload.js before they go up."""
    paths = {}
    for seed, kind in enumerate(("id_front", "id_back", "holding"), start=1):
        paths[kind] = tmp_path / f"{kind}.jpg"
        paths[kind].write_bytes(images_factory.camera_document(2000, 1500, seed=seed))
    return paths


def create_admin(app, id_number: str, phone: str) -> Person:
    from domain.staff import create_staff
    from extensions import db
    with app.app_context():
        account, password = create_staff("admin", "530000", id_number, "王管理", phone)
        account.must_change_password = False
        db.session.commit()
        db.session.remove()
    return Person(id_number, phone, "王管理", password, app.config["SMS_OUTBOX"])


def fill_appeal(page: Page, outbox, id_number: str, name: str, phone: str, photos, snapshot,
                shot: str, mistype_code=False):
    field(page, "证件号码").fill(id_number)
    field(page, "姓名").fill(name)
    field(page, "新手机号码").fill(phone)
    field(page, "图形验证码").fill(CAPTCHA)
    button(page, "获取验证码").click()
    expect(page.locator(".sms__status")).to_contain_text("验证码已发送")
    field(page, "短信验证码").fill(last_code(outbox, phone))
    for kind, label in (("id_front", "身份证人像面照片"), ("id_back", "身份证国徽面照片"),
                        ("holding", "手持身份证照片")):
        field(page, label).set_input_files(photos[kind])
        assert photos[kind].stat().st_size > 200 * 1024
        # upload.js shrinks the chosen picture in place: the form posts at most 200 KB of it.
        page.wait_for_function(
            "id => { const f = document.getElementById(id).files[0];"
            " return f && f.size <= 200 * 1024 && f.type === 'image/jpeg'; }",
            arg=f"photo-{kind}")
    field(page, "申诉说明").fill(STATEMENT)
    check_page(page, shot, snapshot)
    if mistype_code:  # refused: what was typed and the three photos come back
        code = field(page, "短信验证码").input_value()
        field(page, "短信验证码").fill("000000" if code != "000000" else "111111")
        button(page, "提交申诉").click()
        expect(page.get_by_role("alert")).to_contain_text("验证码")
        expect(page.get_by_text("已保存您选择的这张照片，无需重新选择")).to_have_count(3)
        expect(page.get_by_role("img", name="已保存的手持身份证照片")).to_be_visible()
        expect(field(page, "申诉说明")).to_have_value(STATEMENT)
        check_page(page, shot + "_kept", snapshot)
        field(page, "短信验证码").fill(code)
    button(page, "提交申诉").click()
    expect(page).to_have_url(url_ending("/appeal/filed"))
    expect(page.locator("main")).to_contain_text("申诉已提交，结果将以短信通知")


def sms_to(outbox, phone: str) -> str:
    return [m["body"] for m in outbox_messages(outbox) if m["to"] == phone][-1]


def open_appeal(desk: Page, name: str):
    desk.get_by_role("link", name="账号申诉", exact=True).click()
    loaded(desk)
    row = desk.get_by_role("row").filter(has_text=name)
    row.get_by_role("link", name=re.compile("^处理")).click()
    loaded(desk)


@pytest.mark.browser
def test_a_taken_id_appeal_approved_moves_the_account(page: Page, other_phone: Page, desk: Page,
                                                     app, outbox, photo_files, snapshot):
    made = make_application(app, "530102", ApplicationStatus.PENDING, name="赵占用",
                            id_number=make_id(seq="711"), phone="13800000711")
    holder = Person(made.id_number, made.phone, made.name, made.password)
    reviewer = create_reviewer(app, "530102", make_id("530102", "19800101", "712"),
                               "13900000712", name="五华审核")
    tried_phone, new_phone = "13700000714", "13700000713"

    # The old holder is logged in on their phone.
    log_in(other_phone, holder)

    # The ID's owner tries to register and is told the number is taken; the notice leads on.
    page.goto("/register")
    field(page, "证件号码").fill(holder.id_number)
    field(page, "姓名").fill("李真")
    field(page, "手机号码").fill(tried_phone)
    field(page, "图形验证码").fill(CAPTCHA)
    button(page, "获取验证码").click()
    expect(page.locator(".sms__status")).to_contain_text("验证码已发送")
    field(page, "短信验证码").fill(last_code(outbox, tried_phone))
    field(page, "密码").fill(PASSWORD)
    field(page, "确认密码").fill(PASSWORD)
    page.get_by_label("我已阅读并同意《个人信息保护告知书》").check()
    button(page, "注册").click()
    expect(page.get_by_role("alert")).to_contain_text("该证件号码已注册")
    page.get_by_role("link", name="不是本人注册，提交申诉").click()
    loaded(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("账号申诉：证件号码已被注册")
    fill_appeal(page, outbox, holder.id_number, "李真", new_phone, photo_files, snapshot,
                "appeal_taken_id")
    check_page(page, "appeal_filed", snapshot)
    assert "已提交" in sms_to(outbox, new_phone)

    # The county's reviewer compares, reveals (logged) and approves.
    log_in(desk, reviewer)
    open_appeal(desk, "李真")
    expect(desk.get_by_role("img", name="申诉人的手持身份证照片")).to_be_visible()
    expect(desk.get_by_role("img", name="账号现有的证件正面")).to_be_visible()
    expect(desk.locator("#identity")).not_to_contain_text(holder.id_number)
    check_page(desk, "appeal_decide", snapshot)
    desk.get_by_role("button", name=re.compile("^显示完整证件号码")).click()
    expect(desk.locator("#identity")).to_contain_text(holder.id_number)
    group(desk, "处理结果").get_by_label("通过", exact=True).check()
    button(desk, "提交决定").click()
    expect(desk.locator("#messages")).to_contain_text("已通过")
    check_page(desk, "appeal_list_after", snapshot)

    # The old holder's next page is the login page; their phone was told why.
    other_phone.goto("/collection")
    expect(other_phone).to_have_url(re.compile(r"/login"))
    assert "已转由证件本人使用" in sms_to(outbox, holder.phone)

    # The appellant logs in with the password sent to the new phone and must replace it.
    password = re.search(r"临时密码：(\S+) ", sms_to(outbox, new_phone)).group(1)
    page.goto("/login")
    field(page, "证件号码").fill(holder.id_number)
    field(page, "密码").fill(password)
    field(page, "图形验证码").fill(CAPTCHA)
    button(page, "登录").click()
    expect(page).to_have_url(url_ending("/account/password"))


@pytest.mark.browser
def test_a_lost_phone_appeal_rejected_then_approved(page: Page, desk: Page, app, outbox,
                                                   photo_files, snapshot):
    person = register_applicant(app, make_id(seq="721"), "13800000721", name="钱失机")
    admin = create_admin(app, make_id("530102", "19750101", "722"), "13900000722")
    new_phone, newer_phone = "13700000723", "13700000724"

    page.goto("/forgot-password")
    page.get_by_role("link", name="原手机号无法使用，提交账号申诉").click()
    loaded(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("账号申诉：原手机号无法使用")
    fill_appeal(page, outbox, person.id_number, person.name, new_phone, photo_files, snapshot,
                "appeal_lost_phone", mistype_code=True)

    # No county yet (nothing submitted): the administrator decides. A rejection needs a reason.
    log_in(desk, admin)
    open_appeal(desk, person.name)
    group(desk, "处理结果").get_by_label("不通过", exact=True).check()
    button(desk, "提交决定").click()
    expect(desk.get_by_role("alert")).to_contain_text("请填写不通过的原因")
    check_page(desk, "appeal_decide_errors", snapshot)
    reason = "手持身份证照片中看不清证件号码，请重新拍摄后再次申诉"
    field(desk, "不通过的原因").fill(reason)
    button(desk, "提交决定").click()
    expect(desk.locator("#messages")).to_contain_text("未通过")
    assert reason in sms_to(outbox, new_phone)

    # Filed again (the first one is closed), approved: the account now answers to the new phone.
    page.goto("/appeal/lost-phone")
    loaded(page)
    fill_appeal(page, outbox, person.id_number, person.name, newer_phone, photo_files, snapshot,
                "appeal_lost_phone_again")
    open_appeal(desk, person.name)
    group(desk, "处理结果").get_by_label("通过", exact=True).check()
    button(desk, "提交决定").click()
    expect(desk.locator("#messages")).to_contain_text("已通过")
    assert "已改绑本手机号" in sms_to(outbox, newer_phone)
    desk.get_by_role("link", name="已处理").click()
    expect(desk.get_by_role("row").filter(has_text=person.name)).to_have_count(2)


@pytest.mark.browser
def test_a_taken_id_appeal_rejected_leaves_the_account_alone(page: Page, other_phone: Page,
                                                           desk: Page, app, outbox, photo_files,
                                                           snapshot):
    made = make_application(app, "530102", ApplicationStatus.PENDING, name="孙持有",
                            id_number=make_id(seq="731"), phone="13800000731")
    holder = Person(made.id_number, made.phone, made.name, made.password)
    reviewer = create_reviewer(app, "530102", make_id("530102", "19800101", "732"),
                               "13900000732", name="五华审核")
    appellant_phone = "13700000733"
    log_in(other_phone, holder)

    page.goto("/appeal/taken-id")
    loaded(page)
    fill_appeal(page, outbox, holder.id_number, "周冒认", appellant_phone, photo_files, snapshot,
                "appeal_taken_id_rejected")

    log_in(desk, reviewer)
    open_appeal(desk, "周冒认")
    group(desk, "处理结果").get_by_label("不通过", exact=True).check()
    reason = "手持证件照片与账号现有证件照片不是同一人"
    field(desk, "不通过的原因").fill(reason)
    button(desk, "提交决定").click()
    expect(desk.locator("#messages")).to_contain_text("未通过")

    # The appellant is told why; the holder keeps the account, the session and the phone.
    assert reason in sms_to(outbox, appellant_phone)
    assert [m for m in outbox_messages(outbox) if m["to"] == holder.phone] == []
    other_phone.goto("/collection")
    expect(other_phone).to_have_url(re.compile(r"/collection"))
    expect(other_phone.locator("main")).to_contain_text("审核中")
