"""The four data sections of 信息采集 at phone size, filled in by a newly registered person:
once with JavaScript (choices swap the form in place through HTMX, the draft saves itself) and
once without (the <noscript> 确定 buttons and plain form posts). A wrong credit code comes back
as a 422 with an error summary and every typed value kept, both ways."""
import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import (
    BAD_CREDIT_CODE,
    CREDIT_CODE,
    assert_not_reloaded,
    button,
    check_page,
    field,
    group,
    loaded,
    log_in,
    mark_window,
    posted_to,
    register_applicant,
    scripts_ran,
    status_bar,
    task_status,
    url_ending,
)
from tests.helpers import make_id

SECTIONS = ["基本信息", "工作信息", "学历信息", "专业技术资格信息"]
UNIT_NAME = "云南滇池会计服务有限公司"
ADDRESS = "昆明市五华区翠湖南路1号"
POSTS = ["出纳", "总账"]


class Sections:
    """The section pages as one person sees them, with JavaScript on or off. `choose` makes a
    choice that changes the form: with JavaScript the change itself re-renders the form in place
    (an HTMX POST, no page load); without, the <noscript> button next to it does, as a page."""

    def __init__(self, page: Page, js: bool, prefix: str, snapshot):
        self.page, self.js, self.prefix, self.snapshot = page, js, prefix, snapshot

    def check(self, name: str):
        check_page(self.page, f"{self.prefix}_{name}", self.snapshot)

    def open(self, title: str):
        """The section from the task list, or already open (保存并继续 led here)."""
        heading = self.page.get_by_role("heading", level=1)
        if heading.text_content() != title:
            self.page.locator(".task-list__link", has_text=title).click()
        expect(heading).to_have_text(title)
        loaded(self.page)
        if self.js:
            mark_window(self.page)

    def choose(self, path: str, make_choice, scope=None, button_name="确定"):
        page = self.page
        if self.js:
            with page.expect_response(posted_to(path)) as answer:
                make_choice()
            self._swapped_in_place(answer.value)
            return
        make_choice()
        self.press(path, scope or page, button_name)

    def press(self, path: str, scope, name: str):
        """A button that re-renders the form (添加 / 删除 a record): an HTMX swap or a page."""
        page = self.page
        if self.js:
            with page.expect_response(posted_to(path)) as answer:
                button(scope, name).click()
            self._swapped_in_place(answer.value)
            return
        with page.expect_navigation() as navigation:
            button(scope, name).click()
        assert navigation.value.status == 200
        assert navigation.value.request.method == "POST"

    def _swapped_in_place(self, response):
        assert response.status == 200
        assert response.request.all_headers().get("hx-request") == "true"
        expect(self.page.locator("#section-form")).to_have_count(1)
        assert_not_reloaded(self.page)

    def save(self, path: str, expected_status=None):
        """保存: with JavaScript an HTMX POST answered by HX-Redirect (204) or a 422 swapped in;
        without, a 303 to the task list or a 422 page."""
        page = self.page
        with page.expect_response(posted_to(path)) as answer:
            button(page, "保存，返回任务列表").click()
        response = answer.value
        assert ("hx-request" in response.request.all_headers()) == self.js
        if expected_status == 422:
            assert response.status == 422
            return response
        assert response.status == (204 if self.js else 303)
        expect(page).to_have_url(url_ending("/collection"))
        return response

    def save_and_continue(self, path: str, next_path: str, next_title: str):
        """保存并继续, as the manual walks it: straight on to the next section to do."""
        page = self.page
        with page.expect_response(posted_to(path)) as answer:
            button(page, "保存并继续").click()
        assert answer.value.status == (204 if self.js else 303)
        expect(page).to_have_url(url_ending(next_path))
        expect(page.get_by_role("heading", level=1)).to_have_text(next_title)

    # -- the sections -------------------------------------------------------------------------

    def basic(self):
        self.open("基本信息")
        self.check("basic")
        field(self.page, "民族").select_option(label="汉族")
        field(self.page, "通讯地址").fill(ADDRESS)
        self.save_and_continue("/collection/basic", "/collection/work", "工作信息")

    def work(self):
        page, path = self.page, "/collection/work"
        self.open("工作信息")
        self.check("work_empty")
        employed = group(page, "是否在岗")
        self.choose(path, lambda: employed.get_by_label("是", exact=True).check(), employed)
        expect(field(page, "工作单位名称")).to_be_visible()
        expect(group(page, "人员类别")).to_have_count(0)
        self.fill_employer()
        self.check("work_employed")

        # 否 and back: the form changes in place to the other set of fields.
        employed = group(page, "是否在岗")
        self.choose(path, lambda: employed.get_by_label("否", exact=True).check(), employed)
        expect(field(page, "人员类别")).to_be_visible()
        expect(field(page, "采集所在州（市）")).to_be_visible()
        expect(field(page, "学校名称")).to_be_visible()   # no round trip for 在校学生
        expect(field(page, "工作单位名称")).to_have_count(0)
        self.check("work_not_employed")
        employed = group(page, "是否在岗")
        self.choose(path, lambda: employed.get_by_label("是", exact=True).check(), employed)
        expect(field(page, "人员类别")).to_have_count(0)
        self.expect_employer_kept(CREDIT_CODE)   # what was typed before 否 is back

        # A wrong check character: 422, the summary of problems, nothing typed is lost.
        field(page, "统一社会信用代码").fill(BAD_CREDIT_CODE)
        if self.js:
            mark_window(page)
        self.save(path, 422)
        summary = page.get_by_role("alert")
        expect(summary).to_contain_text("请改正以下问题")
        expect(summary).to_contain_text("统一社会信用代码")
        expect(field(page, "统一社会信用代码")).to_have_attribute("aria-invalid", "true")
        if self.js:
            expect(summary).to_be_focused()
            assert_not_reloaded(page)
        self.expect_employer_kept(BAD_CREDIT_CODE)
        self.check("work_errors")

        field(page, "统一社会信用代码").fill(CREDIT_CODE)
        self.save(path)
        expect(task_status(page, "工作信息")).to_have_text("已完成")

    def fill_employer(self):
        page, path = self.page, "/collection/work"
        field(page, "工作单位名称").fill(UNIT_NAME)
        field(page, "统一社会信用代码").fill(CREDIT_CODE)
        field(page, "单位性质").select_option(label="企业")
        county = field(page, "单位所在县（市、区）")
        if self.js:   # the prefecture narrows the county list in place
            prefecture = field(page, "单位所在州（市）")
            self.choose(path, lambda: prefecture.select_option(label="昆明市"))
            expect(county.locator("optgroup")).to_have_count(0)
            expect(field(page, "工作单位名称")).to_have_value(UNIT_NAME)   # kept across the swap
        else:   # no round trip: every county, grouped by prefecture; the prefecture follows
            expect(county.locator("optgroup[label='大理白族自治州'] option",
                                  has_text="大理市")).to_have_count(1)
        expect(county.locator("option", has_text="五华区")).to_have_count(1)
        county.select_option(label="五华区")
        field(page, "参加工作日期").fill("2012-07-01")
        field(page, "从事会计工作日期").fill("2015-07-01")
        posts = group(page, "会计岗位")
        for post in POSTS:
            posts.get_by_label(post, exact=True).check()

    def expect_employer_kept(self, credit_code):
        page = self.page
        expect(group(page, "是否在岗").get_by_label("是", exact=True)).to_be_checked()
        expect(field(page, "工作单位名称")).to_have_value(UNIT_NAME)
        expect(field(page, "统一社会信用代码")).to_have_value(credit_code)
        expect(field(page, "单位性质")).to_have_value("企业")
        expect(field(page, "单位所在州（市）")).to_have_value("530100")
        expect(field(page, "单位所在县（市、区）")).to_have_value("530102")
        expect(field(page, "参加工作日期")).to_have_value("2012-07-01")
        expect(field(page, "从事会计工作日期")).to_have_value("2015-07-01")
        for post in POSTS:
            expect(group(page, "会计岗位").get_by_label(post, exact=True)).to_be_checked()

    def education(self):
        page, path = self.page, "/collection/education"
        self.open("学历信息")
        full_time = page.get_by_role("region", name="全日制最高学历", exact=True)
        has = group(full_time, "是否有此类学历")
        self.choose(path, lambda: has.get_by_label("有", exact=True).check(), has)
        full_time = page.get_by_role("region", name="全日制最高学历", exact=True)
        field(full_time, "学历").select_option(label="大学本科")
        field(full_time, "学位").select_option(label="学士")
        field(full_time, "毕业院校").fill("云南财经大学")
        field(full_time, "所学专业").fill("会计学")
        field(full_time, "毕业日期").fill("2012-07-01")
        part_time = page.get_by_role("region", name="非全日制最高学历", exact=True)
        expect(group(part_time, "是否有此类学历").get_by_label("无", exact=True)).to_be_checked()
        expect(field(part_time, "学历")).to_have_count(0)
        group(part_time, "是否有此类学历").get_by_label("无", exact=True).check()
        self.check("education")
        self.save(path)
        expect(task_status(page, "学历信息")).to_have_text("已完成")

    def qualification(self):
        page, path = self.page, "/collection/qualification"
        self.open("专业技术资格信息")
        has = group(page, "是否取得会计专业技术资格")
        self.choose(path, lambda: has.get_by_label("是", exact=True).check(), has)
        first = page.get_by_role("region", name="资格证书 1", exact=True)
        field(first, "资格级别").select_option(label="初级")
        field(first, "证书编号").fill("Z2014000123")
        field(first, "取得日期").fill("2014-05-20")

        self.press(path, page, "＋ 再添加一条资格")
        second = page.get_by_role("region", name="资格证书 2", exact=True)
        expect(second).to_be_visible()
        expect(field(second, "证书编号")).to_have_value("")
        expect(field(page.get_by_role("region", name="资格证书 1", exact=True), "证书编号")) \
            .to_have_value("Z2014000123")
        self.check("qualification_two_records")

        self.press(path, second, "删除这条记录")
        expect(page.get_by_role("region", name="资格证书 2", exact=True)).to_have_count(0)
        first = page.get_by_role("region", name="资格证书 1", exact=True)
        expect(field(first, "资格级别")).to_have_value("初级")
        expect(field(first, "证书编号")).to_have_value("Z2014000123")
        expect(field(first, "取得日期")).to_have_value("2014-05-20")
        self.save(path)
        expect(task_status(page, "专业技术资格信息")).to_have_text("已完成")

    def expect_all_done(self):
        for title in SECTIONS:
            expect(task_status(self.page, title)).to_have_text("已完成")
        expect(status_bar(self.page)).to_contain_text("所属会计管理部门：五华区财政局")
        self.check("index_done")


def fill_all_four(page: Page, js: bool, prefix: str, snapshot):
    sections = Sections(page, js, prefix, snapshot)
    expect(page).to_have_url(url_ending("/collection"))
    for title in SECTIONS:
        expect(task_status(page, title)).to_have_text("未填写")
    sections.check("index")
    sections.basic()
    sections.work()
    sections.education()
    sections.qualification()
    sections.expect_all_done()


@pytest.mark.browser
def test_four_sections_with_javascript(page: Page, app, snapshot):
    person = register_applicant(app, make_id(seq="311"), "13800000311")
    log_in(page, person)
    fill_all_four(page, True, "collection_js", snapshot)


@pytest.mark.browser
def test_four_sections_without_javascript(new_context, app, snapshot):
    page = new_context(java_script_enabled=False).new_page()
    person = register_applicant(app, make_id(seq="312"), "13800000312")
    log_in(page, person)
    assert not scripts_ran(page)
    fill_all_four(page, False, "collection_nojs", snapshot)


@pytest.mark.browser
def test_typed_address_survives_a_reload_without_saving(page: Page, app, snapshot):
    person = register_applicant(app, make_id(seq="313"), "13800000313")
    log_in(page, person)
    page.goto("/collection/basic")
    address = field(page, "通讯地址")
    # The draft is sent 2 s after the last keystroke (input) or 0.5 s after a change.
    with page.expect_response(posted_to("/collection/basic/draft"), timeout=6000) as answer:
        address.press_sequentially("昆明市盘龙区北京路", delay=20)
    assert answer.value.status == 204
    assert "address=" in (answer.value.request.post_data or "")
    page.reload()
    expect(field(page, "通讯地址")).to_have_value("昆明市盘龙区北京路")
    expect(field(page, "通讯地址")).to_be_editable()
    check_page(page, "collection_basic_draft_kept", snapshot)
    page.goto("/collection")
    expect(task_status(page, "基本信息")).to_have_text("未填写")   # a draft is not a save

