"""Every page an accountant meets fits a phone 320, 360 and 414 px wide, with the browser's
default text size at 100 % and at 200 % (the person's own setting, as Chromium's font-size
preference: Page.setFontSizes): no sideways scrolling, every visible tap target (link, button,
input, select, and the label of a radio button or checkbox) at least 44×44 CSS px, and no two
tap targets on top of each other.

One page load per page: the widths and text sizes are changed in place. The people are seeded
through the domain (tests/factories.py, the archive import) and signed in once each with the
Flask test client; the browser starts on their pages."""
import re

import pytest
from playwright.sync_api import Page, expect

from models import ApplicationStatus
from tests.browser.pages import (
    VIEWPORT_HEIGHT,
    button,
    field,
    group,
    imported_person,
    set_text_size,
    sign_in_context,
    tap_target_problems,
)
from tests.factories import make_application
from tests.helpers import make_id


def choose(page: Page, legend: str, option: str, then_visible: str | None = None, scope=None):
    """A radio button that re-renders the section (HTMX); waits for what it reveals."""
    group(scope or page, legend).get_by_label(option, exact=True).check()
    if then_visible:
        expect(field(page, then_visible)).to_be_visible()


def with_errors(page: Page):
    field(page, "通讯地址").fill("")
    page.get_by_role("button", name="保存，返回任务列表", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="请改正以下问题")).to_be_visible()


def not_employed(page: Page):
    choose(page, "是否在岗", "否", "人员类别")


def student(page: Page):
    field(page, "人员类别").select_option("在校学生")
    expect(field(page, "学校名称")).to_be_visible()


def no_education(page: Page):
    for block in page.locator("section.subsection").all():
        group(block, "是否有此类学历").get_by_label("无", exact=True).check()
        expect(block.get_by_label("毕业院校")).to_have_count(0)


def both_educations(page: Page):
    part_time = page.locator("section.subsection").last
    group(part_time, "是否有此类学历").get_by_label("有", exact=True).check()
    expect(part_time.get_by_label("毕业院校")).to_be_visible()


def no_qualification(page: Page):
    choose(page, "是否取得会计专业技术资格", "否")
    expect(field(page, "证书编号")).to_have_count(0)


def copy_made(page: Page):
    button(page, "生成个人信息副本").click()
    expect(page.get_by_role("link", name="下载个人信息副本（ZIP）")).to_be_visible()


def closing_with_errors(page: Page):
    button(page, "注销账号并删除全部信息").click()
    expect(page.get_by_role("alert").filter(has_text="请改正以下问题")).to_be_visible()


def request_sent(page: Page):
    group(page, "请求内容").get_by_label("更正我的信息", exact=True).check()
    field(page, "需要删除或更正的内容和理由").fill("工作单位名称应为云南某某会计服务有限公司昆明分公司")
    button(page, "发送请求").click()
    expect(page.locator(".request")).to_contain_text("待处理")


def appeal_with_errors(page: Page):
    button(page, "提交申诉").click()
    expect(page.get_by_role("alert").filter(has_text="请改正以下问题")).to_be_visible()


# (name, path, what to do on the page before measuring; None: the page as it opens)
PUBLIC = [
    ("登录", "/login", None),
    ("注册", "/register", None),
    ("忘记密码", "/forgot-password", None),
    ("个人信息保护告知书", "/privacy", None),
    ("账号申诉·证件号码已被注册", "/appeal/taken-id", None),
    ("账号申诉·有错误", None, appeal_with_errors),
    ("账号申诉·原手机号无法使用", "/appeal/lost-phone", None),
    ("账号申诉·已提交", "/appeal/filed", None),
]
# The applicant's application is complete but not submitted: employed, one full-time degree,
# one certificate (tests/factories.py), every material uploaded.
APPLICANT = [
    ("信息采集", "/collection", None),
    ("基本信息", "/collection/basic", None),
    ("基本信息·有错误", None, with_errors),
    ("工作信息·在岗", "/collection/work", None),
    ("工作信息·不在岗", None, not_employed),
    ("工作信息·在校学生", None, student),
    ("学历信息·全日制有", "/collection/education", None),
    ("学历信息·全日制和非全日制都有", None, both_educations),
    ("学历信息·无", None, no_education),
    ("专业技术资格信息·有", "/collection/qualification", None),
    ("专业技术资格信息·无", None, no_qualification),
    ("证明材料", "/collection/materials", None),
    ("个人信息汇总", "/collection/summary", None),
    ("修改密码", "/account/password", None),
    ("更换手机号", "/account/phone", None),
    ("个人信息副本", "/account/copy", None),
    ("个人信息副本·已生成", None, copy_made),
    ("注销账号", "/account/close", None),
    ("注销账号·有错误", None, closing_with_errors),
]
# A submitted application: the bureau keeps it, the person asks to delete or correct it.
SUBMITTED = [
    ("删除或更正个人信息", "/account/close", None),
    ("删除或更正个人信息·已发送", None, request_sent),
]
IMPORTED = [("绑定手机号", "/account/bind-phone", None)]


def change_started(page: Page):
    group(page, "要变更的内容").get_by_label(re.compile("^工作单位")).check()
    page.get_by_role("button", name="开始变更", exact=True).click()
    expect(page).to_have_url(re.compile(r"/collection$"))
    page.wait_for_load_state("load")


# An approved record: 信息变更 from choosing to the change's pages.
APPROVED = [
    ("个人信息汇总·已通过", "/collection/summary", None),
    ("信息变更·选择", "/collection/change", None),
    ("信息变更·任务列表", None, change_started),
    ("信息变更·工作信息", "/collection/work", None),
    ("信息变更·证明材料", "/collection/materials", None),
    ("信息变更·汇总", "/collection/summary", None),
]


@pytest.mark.browser
def test_every_applicant_page_fits_a_phone_at_100_and_200_percent_text(
        browser, browser_context_args, app, base_url):
    applicant = make_application(app, status=ApplicationStatus.DRAFT)
    submitted = make_application(app, status=ApplicationStatus.PENDING)
    imported = imported_person(app, make_id(seq="414"))
    approved = make_application(app, status=ApplicationStatus.APPROVED)
    problems = []
    for person, visits in ((None, PUBLIC), (applicant, APPLICANT), (submitted, SUBMITTED),
                           (imported, IMPORTED), (approved, APPROVED)):
        context = browser.new_context(**browser_context_args)
        if person is not None:
            sign_in_context(context, app, person, base_url)
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        for name, path, step in visits:
            if path is not None:
                set_text_size(cdp, 100)
                page.set_viewport_size({"width": 390, "height": VIEWPORT_HEIGHT})
                response = page.goto(path)
                assert response.status == 200 and response.url.endswith(path), (name, response.url)
                page.wait_for_load_state("load")
            if step is not None:
                set_text_size(cdp, 100)
                page.set_viewport_size({"width": 390, "height": VIEWPORT_HEIGHT})
                step(page)
            problems += tap_target_problems(page, cdp, name)
        context.close()
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
