"""Machine pre-checks end to end: an accountant on a phone uploads the front of the ID card and a
certificate whose number is one digit off what they typed; within seconds a reviewer at a desk
sees the flags beside the photos and finds the application under 机器核对有疑点. The accountant
sees none of it. (The app in these tests runs jobs inline, right after the upload's commit.)"""
import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests import images_factory
from tests import precheck_images as pictures
from tests.browser.pages import (
    HttpApplicant,
    button,
    check_page,
    create_reviewer,
    field,
    loaded,
    log_in,
    register_applicant,
)
from tests.helpers import make_id

SEED = 102
WITHIN_SECONDS = 15


def upload_in_browser(page: Page, tmp_path, kind: str, data: bytes):
    path = tmp_path / f"IMG_{kind}.jpg"
    path.write_bytes(data)
    page.locator(f"#photo-{kind}").set_input_files(path)
    expect(page.locator(f"#material-{kind} .tag")).to_have_text("已上传")
    loaded(page)


def flag(section, title: str):
    return section.locator("figure.viewer", has=section.page.locator(
        ".viewer__title", has_text=re.compile(f"^{re.escape(title)}$"))).locator(".precheck")


@pytest.mark.browser
def test_an_upload_leads_to_the_flags_on_the_reviewers_page(page: Page, desk: Page, app,
                                                             engines, monkeypatch, snapshot,
                                                             tmp_path):
    monkeypatch.setitem(app.config, "PRECHECK_ENABLED", True)
    card = pictures.id_card_sample(SEED, "clear")
    certificate = pictures.certificate_sample(SEED, "accounting", "wrong_number")
    accountant = register_applicant(app, card.typed["id_number"], "13800000615",
                                    name=card.typed["name"])
    ready = HttpApplicant(app, accountant)
    ready.fill_sections()
    ready.post("/collection/qualification", {
        "has": "yes", "records-0-level": "初级",
        "records-0-certificate_number": certificate.typed["certificate_number"],
        "records-0-obtained_on": "2014-05-20"})
    ready.upload("id_photo", pictures.portrait_sample(SEED, "one").image)
    ready.post("/collection/materials/id_photo/preview", {})
    for kind in ("id_back", "work_proof"):
        ready.upload(kind, images_factory.small_jpeg())
    reviewer = create_reviewer(app, "530102", make_id("530102", "19800101", "615"),
                               "13900000615")
    log_in(desk, reviewer)

    # The accountant uploads the two pictures on the phone, and submits.
    log_in(page, accountant)
    page.goto("/collection/materials")
    started = time.monotonic()
    upload_in_browser(page, tmp_path, "id_front", card.image)
    upload_in_browser(page, tmp_path, "qualification_junior", certificate.image)
    expect(page.locator("main")).not_to_contain_text("机器核对")
    page.goto("/collection/summary")
    button(page, "提交审核").click()
    expect(page.locator("#messages")).to_contain_text("已提交审核")
    expect(page.locator("main")).not_to_contain_text("机器核对")
    expect(page.locator("main")).not_to_contain_text("识别为")

    # The reviewer filters the list and opens the application: the flags are there.
    desk.goto("/review")
    field(desk, "机器核对有疑点").check()
    button(desk, "筛选").click()
    expect(desk).to_have_url(re.compile(r"doubt=y"))
    row = desk.get_by_role("row").filter(has_text=accountant.name)
    expect(row).to_contain_text("机器核对有疑点")
    check_page(desk, "precheck_list_filtered", snapshot)
    row.get_by_role("link", name=re.compile(r"^审核")).click()
    expect(desk.get_by_role("heading", level=1)).to_contain_text(accountant.name)
    basic = desk.get_by_role("region", name="基本信息")
    expect(flag(basic, "身份证正面")).to_contain_text("机器核对：一致")
    elapsed = time.monotonic() - started
    id_flag = flag(basic, "身份证正面")
    expect(id_flag).to_contain_text("证件号码与填写一致")
    expect(id_flag).to_contain_text("姓名与填写一致")
    expect(flag(basic, "1寸白底证件照")).to_contain_text("检测到1张人脸")
    expect(flag(basic, "身份证反面")).to_contain_text("机器核对：未检查")
    qualification = desk.get_by_role("region", name="专业技术资格信息")
    mismatch = flag(qualification, "会计专业技术资格证书（初级）")
    expect(mismatch).to_contain_text("机器核对：不一致")
    expect(mismatch).to_contain_text(
        f"证书编号不一致：识别为{certificate.shown['certificate_number']}")
    expect(desk.locator("main")).not_to_contain_text(accountant.id_number)
    # Colours differ, and the status is in the words too.
    assert mismatch.evaluate("e => getComputedStyle(e).backgroundColor") != \
        id_flag.evaluate("e => getComputedStyle(e).backgroundColor")
    check_page(desk, "precheck_detail_flags", snapshot)
    assert elapsed < WITHIN_SECONDS, f"{elapsed:.1f} s from the upload to the flags"

    # The accountant, on every page, sees nothing of it.
    for path in ("/collection", "/collection/materials", "/collection/summary"):
        page.goto(path)
        expect(page.locator("main")).not_to_contain_text("机器核对")
    response = page.goto(f"/review/{desk.url.rsplit('/', 1)[1]}")
    assert response.status == 404
    expect(page.locator("body")).not_to_contain_text("机器核对")
