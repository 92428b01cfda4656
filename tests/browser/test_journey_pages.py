"""What issue 12's people see in a browser: an imported accountant's qualification already
answered from the archive; a reviewer training on demo data meets real-looking photos; an auditor
reads the log in Chinese and filters it. Each page passes axe."""
import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from domain import demo
from domain.accounts import hasher
from domain.staff import create_staff
from extensions import db
from models import Account, Application, ApplicationStatus, Material
from tests.browser.pages import (
    DESKTOP,
    Person,
    button,
    check_page,
    field,
    imported_person,
    in_app,
    log_in,
    register_applicant,
    task_status,
)
from tests.helpers import PASSWORD, make_id


@pytest.fixture
def desk(browser, browser_context_args):
    context = browser.new_context(**{**browser_context_args, **DESKTOP})
    yield context.new_page()
    context.close()


@pytest.mark.browser
def test_an_imported_accountant_finds_the_qualification_answered(page: Page, app, snapshot):
    person = imported_person(app, make_id(seq="421"), name="赵档案")

    def bound():   # past the first login's phone binding and new password (tested elsewhere)
        account = db.session.scalar(sa.select(Account).where(
            Account.id_number == person.id_number))
        account.phone, account.must_bind_phone, account.must_change_password = \
            "13800000421", False, False
        account.password_hash = hasher().hash(PASSWORD)
        db.session.commit()
    in_app(app, bound)
    person.password = PASSWORD
    log_in(page, person)
    page.goto("/collection")
    expect(task_status(page, "专业技术资格信息")).to_have_text("已完成")
    expect(page.locator(".task-list__hint")).to_have_text("已按档案填入，请核对")
    expect(task_status(page, "基本信息")).to_have_text("未填写")
    check_page(page, "journey_imported_index", snapshot)
    page.locator(".task-list__link", has_text="专业技术资格信息").click()
    expect(page.locator(".notice--info")).to_contain_text("已按会计人员档案自动填入")
    first = page.get_by_role("region", name="资格证书 1", exact=True)
    expect(field(first, "资格级别")).to_have_value("中级")
    expect(field(first, "证书编号")).to_have_value("ZJ0001")
    expect(field(first, "取得日期")).to_have_value("2010-05-01")
    check_page(page, "journey_imported_qualification", snapshot)


@pytest.mark.browser
def test_a_reviewer_training_on_demo_data_sees_photos(desk: Page, app, snapshot):
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--applicants", "40",
                                                "--photos", "8"])
    assert result.exit_code == 0, result.output

    def oldest_pending():
        application = db.session.scalar(
            sa.select(Application).where(Application.status == ApplicationStatus.PENDING)
            .order_by(Application.submitted_at).limit(1))
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Material).where(
            Material.application_id == application.id)) == 4
        [(_role, _bureau, login_id)] = [row for row in demo.staff_logins()
                                        if row[1] == application.jurisdiction.bureau_name]
        phone = db.session.scalar(sa.select(Account.phone).where(Account.id_number == login_id))
        return application.id, application.account.name, login_id, phone
    application_id, name, login_id, phone = in_app(app, oldest_pending)
    reviewer = Person(login_id, phone, "演示审核员", demo.DEMO_PASSWORD, app.config["SMS_OUTBOX"])
    log_in(desk, reviewer)
    desk.goto("/review")
    desk.get_by_role("row").filter(has_text=name).get_by_role("link").first.click()
    expect(desk).to_have_url(re.compile(rf"/review/{application_id}\b"))
    expect(desk.locator("main")).not_to_contain_text("未上传")
    for title in ("1寸白底证件照", "身份证正面", "身份证反面", "工作证明"):
        image = desk.get_by_role("img", name=title)
        image.scroll_into_view_if_needed()   # the tiles load lazily
        expect(image).to_have_js_property("complete", True)
        assert image.evaluate("img => img.naturalWidth") > 0, title
    check_page(desk, "journey_demo_photos", snapshot)


@pytest.mark.browser
def test_an_auditor_reads_the_log_in_chinese_and_filters_it(desk: Page, app, snapshot):
    register_applicant(app, make_id(seq="422"), "13800000422", name="钱审计")

    def auditor():
        account, password = create_staff("auditor", "530000", make_id("530102", "19800101", "423"),
                                         "孙审计", "13900000423")
        account.must_change_password = False
        db.session.commit()
        return Person(account.id_number, account.phone, "孙审计", password,
                      app.config["SMS_OUTBOX"])
    person = in_app(app, auditor)
    log_in(desk, person)
    desk.goto("/audit")
    table = desk.get_by_role("table")
    expect(table).to_contain_text("注册")
    expect(table).to_contain_text("工作人员登录短信验证")
    field(desk, "操作类型").select_option("register")
    button(desk, "筛选").click()
    expect(desk).to_have_url(re.compile(r"action=register"))
    body_rows = table.locator("tbody tr")
    expect(body_rows).to_have_count(1)
    expect(body_rows).to_contain_text("注册")
    check_page(desk, "journey_audit_filtered", snapshot)
