"""The whole review loop with two people in two browsers: an accountant on a phone submits, a
county reviewer at a desk (1280×800) rejects with a reason and reopens 证明材料 only, the
accountant re-uploads 工作证明 and resubmits, the reviewer approves; each decision reaches the
accountant by SMS and on the page."""
import re

import pytest
from playwright.sync_api import Page, expect

from domain.id_numbers import mask
from tests import images_factory
from tests.browser.pages import (
    HttpApplicant,
    application_status,
    button,
    check_page,
    create_reviewer,
    field,
    group,
    loaded,
    log_in,
    register_applicant,
    status_bar,
    task_status,
    url_ending,
)
from tests.helpers import make_id, outbox_messages

REASON = "工作证明未加盖公章"
DATA_SECTIONS = ["基本信息", "工作信息", "学历信息", "专业技术资格信息"]


# --- the accountant (phone) ----------------------------------------------------------------

def submit_from_summary(page: Page, snapshot, name: str):
    page.goto("/collection")
    page.get_by_role("link", name=re.compile("信息汇总与提交")).click()
    expect(page).to_have_url(url_ending("/collection/summary"))
    expect(page.get_by_role("heading", level=1)).to_have_text("个人信息汇总")
    check_page(page, f"{name}_summary", snapshot)
    button(page, "提交审核").click()
    expect(page).to_have_url(url_ending("/collection/summary"))
    expect(page.locator("#messages")).to_contain_text("已提交审核")
    expect(status_bar(page)).to_contain_text("审核中")
    expect(button(page, "提交审核")).to_have_count(0)
    check_page(page, f"{name}_submitted", snapshot)


# --- the reviewer (desktop) ----------------------------------------------------------------

def open_from_pending_list(page: Page, accountant, snapshot, name: str):
    page.goto("/review")
    pending_tab = page.get_by_role("link", name="待审核")
    expect(pending_tab).to_have_attribute("aria-current", "page")
    row = page.get_by_role("row").filter(has_text=accountant.name)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(mask(accountant.id_number))
    expect(row).to_contain_text(accountant.phone[:3] + "****" + accountant.phone[-4:])
    expect(page.locator("main")).not_to_contain_text(accountant.id_number)
    expect(page.locator("main")).not_to_contain_text(accountant.phone)
    check_page(page, f"{name}_list", snapshot)
    row.get_by_role("link", name=re.compile(r"^审核")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(accountant.name)
    loaded(page)
    check_page(page, f"{name}_detail", snapshot)
    expect(page.locator("main")).not_to_contain_text(accountant.id_number)


def decide(page: Page, outcome: str, reasons=(), reopen=()):
    group(page, "审核结果").get_by_label(outcome, exact=True).check()
    for reason in reasons:
        group(page, "不通过原因").get_by_label(reason, exact=True).check()
    for key in reopen:
        group(page, "需要修改的部分").get_by_label(key, exact=True).check()
    button(page, "提交，审核下一份").click()
    expect(page).to_have_url(re.compile(r"/review\?status=pending$"))   # none left: the list


def expect_sections_beside_photos(page: Page):
    """At desk width each section's answers and its photos sit side by side."""
    section = page.get_by_role("region", name="基本信息")
    data = section.locator(".review-section__data").bounding_box()
    photos = section.locator(".review-section__photos").bounding_box()
    assert photos["x"] >= data["x"] + data["width"] - 1, (data, photos)
    assert photos["y"] < data["y"] + data["height"], "the photos should be beside, not below"
    for title in ("1寸白底证件照", "身份证正面", "身份证反面"):
        expect(section.get_by_role("img", name=title)).to_be_visible()
    expect(page.get_by_role("region", name="工作信息").get_by_role("img", name="工作证明")) \
        .to_be_visible()
    expect(section.get_by_role("button", name="旋转").first).to_be_visible()


# --- the loop ------------------------------------------------------------------------------

@pytest.mark.browser
def test_reject_fix_resubmit_approve(page: Page, desk: Page, app, outbox, snapshot, tmp_path):
    accountant = register_applicant(app, make_id(seq="531"), "13800000531", name="孙丽")
    ready = HttpApplicant(app, accountant)
    ready.fill_sections()
    ready.upload_materials()
    reviewer = create_reviewer(app, "530102", make_id("530102", "19800101", "555"),
                               "13900000555")

    # The accountant submits on the phone.
    log_in(page, accountant)
    submit_from_summary(page, snapshot, "loop_first")

    # The reviewer, at a desk, in a browser of their own.
    assert desk.viewport_size == {"width": 1280, "height": 800}
    log_in(desk, reviewer, check=lambda: check_page(desk, "review_login", snapshot))
    expect(desk).to_have_url(url_ending("/review"))
    open_from_pending_list(desk, accountant, snapshot, "review_first")
    expect_sections_beside_photos(desk)
    identity = desk.locator("#identity")
    expect(identity).to_contain_text(mask(accountant.id_number))
    desk.evaluate("window.__marker = 1")
    button(desk, "显示完整证件号码和手机号码（将记录日志）").click()
    expect(identity).to_contain_text(accountant.id_number)
    assert desk.evaluate("window.__marker") == 1, "the number is swapped in, not a new page"
    check_page(desk, "review_detail_revealed", snapshot)
    group(desk, "审核结果").get_by_label("不通过", exact=True).check()
    group(desk, "不通过原因").get_by_label(REASON, exact=True).check()
    # the reason is about 证明材料: ticking it ticks that part too
    expect(group(desk, "需要修改的部分").get_by_label("证明材料", exact=True)).to_be_checked()
    expect(group(desk, "需要修改的部分").get_by_label("工作信息", exact=True)).not_to_be_checked()
    decide(desk, "不通过", reasons=[REASON], reopen=["证明材料"])
    expect(desk.locator("#messages")).to_contain_text(f"已退回：{accountant.name}")
    expect(desk.get_by_role("row").filter(has_text=accountant.name)).to_have_count(0)
    check_page(desk, "review_after_reject", snapshot)

    # The accountant sees why, and only 证明材料 is open again.
    page.reload()
    expect(status_bar(page)).to_contain_text("审核失败")
    notice = page.get_by_role("alert").filter(has_text="审核未通过")
    expect(notice).to_contain_text(f"原因：{REASON}")
    check_page(page, "loop_rejected_summary", snapshot)
    page.goto("/collection")
    expect(task_status(page, "证明材料")).to_have_text("需修改")
    for title in DATA_SECTIONS:
        expect(task_status(page, title)).to_have_text("已完成")
    check_page(page, "loop_rejected_index", snapshot)
    page.locator(".task-list__link", has_text="基本信息").click()
    expect(page.get_by_role("alert")).to_contain_text("此部分无需修改")
    expect(field(page, "通讯地址")).to_be_disabled()
    expect(page.get_by_role("button", name=re.compile("^保存"))).to_have_count(0)
    check_page(page, "loop_basic_locked", snapshot)

    page.goto("/collection/materials")
    proof = tmp_path / "work_proof.jpg"
    proof.write_bytes(images_factory.camera_document(2000, 1500))
    page.locator("#photo-work_proof").set_input_files(proof)
    expect(page.locator("#messages")).to_contain_text("工作证明已上传")
    expect(page.locator("#material-work_proof .tag")).to_have_text("已上传")
    check_page(page, "loop_proof_reuploaded", snapshot)
    page.goto("/collection")
    expect(task_status(page, "证明材料")).to_have_text("已完成")
    submit_from_summary(page, snapshot, "loop_second")
    assert application_status(app, accountant) == "pending"

    # The reviewer approves.
    open_from_pending_list(desk, accountant, snapshot, "review_second")
    expect(desk.locator(".history")).to_contain_text(REASON)
    decide(desk, "通过")
    expect(desk.locator("#messages")).to_contain_text(f"已通过：{accountant.name}")
    desk.get_by_role("link", name="审核成功").click()
    expect(desk.get_by_role("row").filter(has_text=accountant.name)).to_have_count(1)
    check_page(desk, "review_approved_tab", snapshot)

    # The accountant: 审核成功, and no way back into the collection.
    page.goto("/collection")
    expect(page).to_have_url(url_ending("/collection/summary"))
    expect(status_bar(page)).to_contain_text("审核成功")
    expect(page.locator(".task-list")).to_have_count(0)
    # no 修改, no 返回: the only ways on are 信息变更 and the record's versions
    expect(page.locator("main a[href^='/collection']:not([href^='/collection/change'])"
                        ":not([href^='/collection/versions'])")).to_have_count(0)
    expect(page.get_by_role("link", name="信息变更")).to_have_count(1)
    expect(button(page, "提交审核")).to_have_count(0)
    check_page(page, "loop_approved", snapshot)
    assert application_status(app, accountant) == "approved"

    notices = [m["body"] for m in outbox_messages(outbox) if m["to"] == accountant.phone]
    assert notices == [
        f"【云南省会计人员信息采集】您的会计人员信息采集未通过审核（{REASON}），"
        "请登录系统按提示修改后重新提交。",
        "【云南省会计人员信息采集】您的会计人员信息采集已审核通过。",
    ]


@pytest.mark.browser
def test_a_reviewer_works_down_the_filtered_queue_without_the_list(desk: Page, app, snapshot):
    """审核下一份: each decision opens the next pending application of the same list (its filter
    kept), the last one returns to that list; a reason that reopens nothing it is about is refused
    with everything ticked kept."""
    first, second, elsewhere = (
        register_applicant(app, make_id(seq=seq), phone, name=name)
        for seq, phone, name in (("541", "13800000541", "周一"), ("542", "13800000542", "吴二"),
                                 ("543", "13800000543", "郑三")))
    for person, county in ((first, "530102"), (second, "530102"), (elsewhere, "530103")):
        ready = HttpApplicant(app, person)
        ready.fill_sections(county=county)
        ready.upload_materials()
        ready.submit()
    reviewer = create_reviewer(app, "530100", make_id("530100", "19800101", "556"),
                               "13900000556")
    log_in(desk, reviewer)
    desk.goto("/review?status=pending&county=530102")
    desk.get_by_role("row").filter(has_text="周一").get_by_role("link").click()
    expect(desk.get_by_role("heading", level=1)).to_contain_text("周一")

    group(desk, "审核结果").get_by_label("不通过", exact=True).check()
    group(desk, "不通过原因").get_by_label("照片不符合要求", exact=True).check()
    group(desk, "需要修改的部分").get_by_label("证明材料", exact=True).uncheck()
    group(desk, "需要修改的部分").get_by_label("工作信息", exact=True).check()
    button(desk, "提交，审核下一份").click()
    expect(desk.locator("#reopen-error")).to_contain_text("请勾选“证明材料”")
    expect(group(desk, "不通过原因").get_by_label("照片不符合要求", exact=True)).to_be_checked()
    expect(group(desk, "需要修改的部分").get_by_label("工作信息", exact=True)).to_be_checked()
    check_page(desk, "review_reason_not_reopened", snapshot)

    group(desk, "需要修改的部分").get_by_label("证明材料", exact=True).check()
    button(desk, "提交，审核下一份").click()
    expect(desk.locator("#messages")).to_contain_text("已退回：周一。下面是下一份待审核的申报")
    expect(desk.get_by_role("heading", level=1)).to_contain_text("吴二")   # not 郑三: other county
    expect(desk).to_have_url(re.compile(r"/review/\d+\?status=pending&county=530102$"))
    check_page(desk, "review_next", snapshot)

    group(desk, "审核结果").get_by_label("通过", exact=True).check()
    button(desk, "提交，审核下一份").click()
    expect(desk.locator("#messages")).to_contain_text("已通过：吴二。本列表的待审核申报已全部处理完")
    expect(desk).to_have_url(re.compile(r"/review\?status=pending&county=530102$"))
    expect(desk.get_by_label("县（市、区）")).to_have_value("530102")
