"""管理 → 档案导入 in a browser: an administrator at a desk uploads the archive, watches the
progress bar move as the job runs (htmx asks every 2 s, no reload), and downloads the rejected
rows; without JavaScript the 刷新 link does the same. The pages pass axe and do not scroll
sideways on a 360 px phone."""
import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from extensions import db
from jobs.execution import run_job
from models import Job, JobStatus
from tests.archive_files import HEADER, csv_bytes, read_csv
from tests.browser.pages import (
    DESKTOP,
    Person,
    assert_not_reloaded,
    button,
    check_page,
    field,
    in_app,
    loaded,
    log_in,
    mark_window,
)
from tests.helpers import make_id

ROWS = [
    ["王五", make_id(seq="711"), "会计师", "Z1", "2010年9月1日"],
    ["赵六", make_id(seq="722"), "特级", "Z2", "2011-01-01"],
    ["孙八", make_id(seq="733"), "中级", "Z3", "2010年2月30日"],
]


class HeldRunner:
    """Imports wait until the test runs them, so the page can be seen while one is pending;
    other jobs (the staff login's SMS code) run as usual."""

    def __init__(self, app, usual):
        self.app, self.usual, self.pushed = app, usual, []

    def push(self, job_id, kind=""):
        if kind == "archive.import":
            self.pushed.append(job_id)
        else:
            self.usual.push(job_id, kind)


@pytest.fixture
def held_jobs(app, monkeypatch):
    runner = HeldRunner(app, app.extensions["jobs"])
    monkeypatch.setitem(app.extensions, "jobs", runner)
    return runner


@pytest.fixture
def admin(app) -> Person:
    from domain.staff import create_staff
    id_number, phone = make_id("530102", "19790101", "701"), "13900000701"

    def make():
        account, password = create_staff("admin", "530000", id_number, "钱管理", phone)
        account.must_change_password = False
        db.session.commit()
        return password
    return Person(id_number, phone, "钱管理", in_app(app, make), app.config["SMS_OUTBOX"])


@pytest.fixture
def desk(browser, browser_context_args):
    context = browser.new_context(**{**browser_context_args, **DESKTOP})
    yield context.new_page()
    context.close()


@pytest.fixture
def archive_file(tmp_path):
    path = tmp_path / "省档案.csv"
    path.write_bytes(csv_bytes(ROWS))
    return path


def run_pending(app, job_id):
    def run():
        db.session.execute(sa.update(Job).where(Job.id == job_id).values(
            status=JobStatus.QUEUED))
        db.session.commit()
        run_job(job_id)
    in_app(app, run)


def upload(page: Page, archive_file):
    page.goto("/admin/imports")
    field(page, "档案文件").set_input_files(archive_file)
    button(page, "上传并导入").click()
    expect(page).to_have_url(re.compile(r"/admin/imports/\d+$"))
    loaded(page)
    return int(page.url.rsplit("/", 1)[1])


def expect_rejected_download(page: Page, tmp_path):
    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载被拒绝的行（2行）").click()
    saved = tmp_path / "rejected.csv"
    download_info.value.save_as(saved)
    lines = read_csv(saved.read_bytes())
    assert lines[0] == HEADER + ["拒绝原因"]
    assert [line[0] for line in lines[1:]] == ["赵六", "孙八"]
    assert "资格级别“特级”无法识别" in lines[1][5] and "不是有效的日期" in lines[2][5]


@pytest.mark.browser
def test_upload_watch_the_progress_and_download_the_rejected_rows(desk: Page, app, admin,
                                                                  held_jobs, archive_file,
                                                                  snapshot, tmp_path):
    log_in(desk, admin)
    desk.goto("/admin/imports")
    expect(desk.get_by_role("heading", level=1)).to_have_text("档案导入")
    check_page(desk, "archive_upload_form", snapshot)
    button(desk, "上传并导入").click()                        # no file chosen: the form says so
    expect(desk.locator(".error-summary")).to_contain_text("请选择要上传的档案文件")
    expect(field(desk, "档案文件")).to_have_attribute("aria-invalid", "true")

    job_id = upload(desk, archive_file)
    assert held_jobs.pushed == [job_id]
    status = desk.locator("#import-status")
    expect(status).to_contain_text("已排队")
    expect(desk.get_by_role("link", name="刷新")).to_be_visible()
    check_page(desk, "archive_upload_queued", snapshot)

    mark_window(desk)
    run_pending(app, job_id)
    expect(status).to_contain_text("导入已完成", timeout=10_000)   # htmx polls every 2 s
    assert_not_reloaded(desk)
    expect(status).to_contain_text("已处理 3 / 3 行（100%）")
    expect(desk.locator("progress")).to_have_attribute("value", "3")
    rejected = desk.get_by_role("table").filter(has_text="拒绝原因")
    expect(rejected.get_by_role("row")).to_have_count(3)
    expect(rejected).to_contain_text("资格级别“特级”无法识别")
    check_page(desk, "archive_upload_done", snapshot)
    expect_rejected_download(desk, tmp_path)

    desk.get_by_role("link", name="返回档案导入").click()
    expect(desk.get_by_role("row").filter(has_text="省档案.csv")).to_contain_text("已完成")


@pytest.mark.browser
def test_without_javascript_the_refresh_link_shows_the_progress(new_context, app, admin,
                                                                held_jobs, archive_file,
                                                                snapshot, tmp_path):
    page = new_context(java_script_enabled=False).new_page()   # a phone, for once
    log_in(page, admin)
    job_id = upload(page, archive_file)
    expect(page.locator("#import-status")).to_contain_text("已排队")
    run_pending(app, job_id)
    page.get_by_role("link", name="刷新").click()
    expect(page.locator("#import-status")).to_contain_text("导入已完成")
    check_page(page, "archive_upload_done_nojs", snapshot)
    expect_rejected_download(page, tmp_path)


@pytest.mark.browser
def test_the_import_pages_fit_a_phone(page: Page, app, admin, archive_file):
    log_in(page, admin)
    page.set_viewport_size({"width": 360, "height": 740})
    job_id = upload(page, archive_file)
    too_wide = {}
    for path in ("/admin/imports", f"/admin/imports/{job_id}"):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 360:
            too_wide[path] = width
    assert too_wide == {}
