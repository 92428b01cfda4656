"""信息变更 in two browsers (issue 14): an approved accountant on a phone changes employer to a
company in another county; the new county's reviewer at a desk sees old beside new and rejects
(the approved record stays as it was), the accountant uploads a new 工作证明 and resubmits, the
reviewer approves, and the record the accountant sees is the new one with the old as history."""
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
    task_status,
    url_ending,
)
from tests.factories import make_application
from tests.helpers import make_id

OLD_UNIT, NEW_UNIT = "云南某某会计服务有限公司", "昆明盘龙新单位有限公司"


@pytest.fixture
def desk(browser, browser_context_args):
    context = browser.new_context(**{**browser_context_args, **DESKTOP})
    yield context.new_page()
    context.close()


def upload_work_proof(page: Page, tmp_path, name: str):
    proof = tmp_path / name
    proof.write_bytes(images_factory.camera_document(2000, 1500))
    page.locator("#photo-work_proof").set_input_files(proof)
    material = page.locator("#material-work_proof")
    if material.get_by_role("button", name=re.compile("^上传")).count():
        material.get_by_role("button", name=re.compile("^上传")).click()
    expect(page.locator("#messages")).to_contain_text("工作证明已上传")
    expect(material.locator(".tag")).to_have_text("已上传")


@pytest.mark.browser
def test_a_change_of_employer_reviewed_by_the_new_county(page: Page, desk: Page, app, snapshot,
                                                        tmp_path):
    made = make_application(app, "530102", ApplicationStatus.APPROVED, name="吴变更",
                            id_number=make_id(seq="611"), phone="13800000611")
    accountant = Person(made.id_number, made.phone, made.name, made.password)
    reviewer = create_reviewer(app, "530103", make_id("530103", "19800101", "612"),
                               "13900000612", name="盘龙审核")

    # The accountant asks for a change of 工作单位.
    log_in(page, accountant)
    page.goto("/collection/summary")
    page.get_by_role("link", name="信息变更", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("信息变更")
    check_page(page, "change_choose", snapshot)
    group(page, "要变更的内容").get_by_label(re.compile("^工作单位")).check()
    button(page, "开始变更").click()
    expect(page).to_have_url(url_ending("/collection"))
    expect(page.get_by_role("heading", level=1)).to_have_text("信息变更")
    expect(task_status(page, "工作信息")).to_have_text("需修改")
    expect(task_status(page, "基本信息")).to_have_text("已完成")
    check_page(page, "change_index", snapshot)

    page.locator(".task-list__link", has_text="工作信息").click()
    loaded(page)
    field(page, "工作单位名称").fill(NEW_UNIT)
    county = field(page, "单位所在县（市、区）")
    county.select_option(label="盘龙区")
    button(page, "保存并继续").click()
    expect(page).to_have_url(url_ending("/collection/materials"))   # nothing else to edit
    material = page.locator("#material-work_proof")
    expect(material).to_contain_text("需重新上传")
    expect(page.locator("#material-id_photo")).to_have_count(0)     # not part of the change
    check_page(page, "change_materials", snapshot)
    upload_work_proof(page, tmp_path, "proof1.jpg")

    page.goto("/collection/summary")
    expect(page.locator("main")).to_contain_text(f"变更前：{OLD_UNIT}")
    expect(page.locator(".status-bar")).to_contain_text("盘龙区财政局")
    check_page(page, "change_summary", snapshot)
    button(page, "提交审核").click()
    expect(page.locator("#messages")).to_contain_text("已提交审核")

    # The new county's reviewer: the change is in their queue, old beside new.
    log_in(desk, reviewer)
    desk.goto("/review?kind=change")
    row = desk.get_by_role("row").filter(has_text=accountant.name)
    expect(row).to_contain_text("信息变更")
    row.get_by_role("link", name=re.compile("^审核")).click()
    loaded(desk)
    changed = desk.locator("tr.diff__changed").filter(has_text="工作单位名称")
    expect(changed).to_contain_text(OLD_UNIT)
    expect(changed).to_contain_text(NEW_UNIT)
    expect(desk.get_by_role("img", name="工作证明")).to_be_visible()
    expect(desk.get_by_role("img", name="1寸白底证件照")).to_have_count(0)
    check_page(desk, "change_review_detail", snapshot)
    group(desk, "审核结果").get_by_label("不通过", exact=True).check()
    group(desk, "不通过原因").get_by_label("工作证明未加盖公章", exact=True).check()
    expect(group(desk, "需要修改的部分").get_by_label("证明材料", exact=True)).to_be_checked()
    button(desk, "提交，审核下一份").click()
    expect(desk.locator("#messages")).to_contain_text("已退回")

    # Rejected: the approved record is untouched; the change is fixed and resubmitted.
    page.goto("/collection/summary")
    expect(page.locator("main")).to_contain_text("工作证明未加盖公章")
    page.get_by_role("link", name="查看原已审核通过的信息").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("当前有效信息")
    expect(page.locator("main")).to_contain_text(OLD_UNIT)
    expect(page.locator("main")).not_to_contain_text(NEW_UNIT)
    page.goto("/collection/materials")
    upload_work_proof(page, tmp_path, "proof2.jpg")
    page.goto("/collection/summary")
    button(page, "提交审核").click()
    expect(page.locator("#messages")).to_contain_text("已提交审核")

    # Approved: the change is the record, the old one a past version.
    desk.goto("/review?kind=change")
    desk.get_by_role("row").filter(has_text=accountant.name) \
        .get_by_role("link", name=re.compile("^审核")).click()
    group(desk, "审核结果").get_by_label("通过", exact=True).check()
    button(desk, "提交，审核下一份").click()
    expect(desk.locator("#messages")).to_contain_text("已通过")

    page.goto("/collection/summary")
    expect(page.locator("main")).to_contain_text(NEW_UNIT)
    versions = page.get_by_role("region", name="已审核通过的版本")
    expect(versions.get_by_role("link")).to_have_count(2)
    expect(versions).to_contain_text("信息变更（当前有效）")
    expect(versions).to_contain_text("首次采集（历史版本）")
    check_page(page, "change_approved_summary", snapshot)
    versions.get_by_role("link", name=re.compile("首次采集")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("历史版本")
    expect(page.locator("main")).to_contain_text(OLD_UNIT)
