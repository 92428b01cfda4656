"""A person's rights over their own data, in a real browser at phone size (the bureau at a desk):
the copy of everything held about them, downloaded as one ZIP from 账号设置 and read; closing an
account that never submitted, then registering again with the same ID number; and a request
about a submitted record that the bureau answers on its own pages."""
import json
import re
import zipfile

import pytest
from playwright.sync_api import Page, expect

from domain.id_numbers import mask
from tests.browser.pages import (
    DESKTOP,
    Person,
    application_status,
    assert_accessible,
    button,
    check_page,
    create_reviewer,
    field,
    group,
    log_in,
    register_applicant,
    url_ending,
)
from tests.factories import make_application
from tests.helpers import CAPTCHA, PASSWORD, last_code, make_id, outbox_messages

REASON = "工作证明未加盖公章"


@pytest.fixture
def desk(browser, browser_context_args):
    """The bureau's reviewer at 1280×800, in a browser context of their own."""
    context = browser.new_context(**{**browser_context_args, **DESKTOP})
    yield context.new_page()
    context.close()


def submitted_person(app, seq: str, name: str) -> Person:
    """A complete application in 五华区, submitted (tests/factories.py)."""
    made = make_application(app, "530102", name=name, id_number=make_id(seq=seq),
                            phone=f"13800000{seq}")
    return Person(made.id_number, made.phone, made.name)


def let_a_minute_pass(app):
    """One code per phone per minute: forget the sends so far instead of sleeping 60 s."""
    app.extensions["sms_limits"].limiter.storage.reset()


def account_settings(page: Page, link: str):
    page.goto("/collection")
    expect(page.get_by_role("heading", name="账号设置")).to_be_visible()
    page.get_by_role("link", name=link).click()


@pytest.mark.browser
def test_a_copy_of_everything_held_downloaded_as_one_zip(page: Page, desk: Page, app, snapshot,
                                                         tmp_path):
    accountant = submitted_person(app, "611", "周敏")
    reviewer = create_reviewer(app, "530102", make_id("530102", "19800101", "612"),
                               "13900000612", name="李审核")

    # The bureau opens the record (its photos load), reveals the number and rejects.
    log_in(desk, reviewer)
    desk.goto("/review")
    desk.get_by_role("row").filter(has_text=accountant.name) \
        .get_by_role("link", name=re.compile(r"^审核")).click()
    expect(desk.get_by_role("img", name="1寸白底证件照")).to_be_visible()
    button(desk, "显示完整证件号码和手机号码（将记录日志）").click()
    expect(desk.locator("#identity")).to_contain_text(accountant.id_number)
    group(desk, "审核结果").get_by_label("不通过", exact=True).check()
    group(desk, "不通过原因").get_by_label(REASON, exact=True).check()
    group(desk, "需要修改的部分").get_by_label("证明材料", exact=True).check()
    button(desk, "提交，审核下一份").click()
    expect(desk.locator("#messages")).to_contain_text("已退回")

    # The accountant asks for the copy from 账号设置 and downloads it.
    log_in(page, accountant)
    account_settings(page, "下载个人信息副本")
    expect(page.get_by_role("heading", level=1)).to_have_text("个人信息副本")
    check_page(page, "rights_copy", snapshot)
    button(page, "生成个人信息副本").click()
    download_link = page.get_by_role("link", name="下载个人信息副本（ZIP）")
    expect(download_link).to_be_visible()
    expect(page.locator("#copy-status")).to_contain_text("副本已生成")
    check_page(page, "rights_copy_ready", snapshot)
    with page.expect_download() as downloading:
        download_link.click()
    download = downloading.value
    assert download.suggested_filename == "个人信息副本.zip"
    folder = tmp_path / "copy"
    with zipfile.ZipFile(download.path()) as archive:
        archive.extractall(folder)
        names = set(archive.namelist())

    data = json.loads((folder / "data.json").read_text(encoding="utf-8"))
    assert {"index.html", "data.json"} <= names
    assert {m["file"] for m in data["materials"]} == names - {"index.html", "data.json"}
    assert {m["kind"] for m in data["materials"]} == {"id_photo", "id_front", "id_back",
                                                      "work_proof", "education_full_time",
                                                      "qualification_junior"}
    account = {row["key"]: row["value"] for row in data["account"]}
    assert account["id_number"] == accountant.id_number and account["name"] == "周敏"
    assert [d["reasons"] for d in data["decisions"]] == [[REASON]]
    assert data["decisions"][0]["by"] == {"role": "审核员", "bureau": "五华区财政局"}
    whats = [v["what"] for v in data["views"]]
    assert "查看了完整证件号码和手机号码" in whats and "查看了证明材料图片" in whats
    assert all(v["by"] == {"role": "审核员", "bureau": "五华区财政局"} for v in data["views"])
    html = (folder / "index.html").read_text(encoding="utf-8")
    for text in (html, json.dumps(data, ensure_ascii=False)):
        assert "李审核" not in text and reviewer.id_number not in text
        assert mask(reviewer.id_number) not in text

    # The readable summary, opened from disk as the person would: every photo shows.
    page.goto(folder.joinpath("index.html").as_uri())
    expect(page.get_by_role("heading", level=1)).to_have_text("个人信息副本")
    expect(page.locator("body")).to_contain_text(REASON)
    expect(page.locator("body")).to_contain_text("五华区财政局审核员")
    images = page.locator("figure img")
    expect(images).to_have_count(len(data["materials"]))
    for index in range(images.count()):
        images.nth(index).scroll_into_view_if_needed()
        assert images.nth(index).evaluate("img => img.complete && img.naturalWidth > 0")
    assert_accessible(page, "the copy's index.html")
    snapshot(page, "rights_copy_document")


@pytest.mark.browser
def test_closing_an_unsubmitted_account_then_registering_again(page: Page, app, outbox,
                                                                snapshot):
    person = register_applicant(app, make_id(seq="621"), "13800000621", name="吴芳")
    log_in(page, person)
    account_settings(page, "注销账号（撤回同意）")
    expect(page.get_by_role("heading", level=1)).to_have_text("注销账号")
    expect(page.locator("main")).to_contain_text(mask(person.id_number))
    check_page(page, "rights_close", snapshot)

    button(page, "注销账号并删除全部信息").click()  # neither the code nor the tick
    expect(page.get_by_role("alert").filter(has_text="请改正以下问题")).to_be_visible()
    check_page(page, "rights_close_errors", snapshot)

    let_a_minute_pass(app)
    button(page, "获取验证码").click()
    expect(page.locator(".sms__status")).to_contain_text("验证码已发送")
    assert "注销账号" in outbox_messages(outbox)[-1]["body"]
    field(page, "短信验证码").fill(last_code(outbox, person.phone))
    page.get_by_label("我已了解：注销后账号和上面列出的全部信息立即删除，无法恢复").check()
    button(page, "注销账号并删除全部信息").click()
    expect(page).to_have_url(url_ending("/login"))
    expect(page.locator("#messages")).to_contain_text("您的账号已注销，信息已全部删除")
    check_page(page, "rights_closed", snapshot)

    # The same ID number and phone register again.
    page.get_by_role("link", name="注册", exact=True).click()
    field(page, "证件号码").fill(person.id_number)
    field(page, "姓名").fill(person.name)
    field(page, "手机号码").fill(person.phone)
    field(page, "密码").fill(PASSWORD)
    field(page, "确认密码").fill(PASSWORD)
    field(page, "我已阅读并同意《个人信息保护告知书》").check()
    field(page, "图形验证码").fill(CAPTCHA)
    let_a_minute_pass(app)
    button(page, "获取验证码").click()
    expect(page.locator(".sms__status")).to_contain_text("验证码已发送")
    field(page, "短信验证码").fill(last_code(outbox, person.phone))
    button(page, "注册").click()
    expect(page.locator("#messages")).to_contain_text("注册成功")
    expect(page.locator("main")).to_contain_text(f"您好，{person.name}")
    expect(page.locator(".task-list .tag--done")).to_have_count(0)  # nothing of before


@pytest.mark.browser
def test_a_deletion_request_answered_by_the_bureau(page: Page, desk: Page, app, outbox,
                                                   snapshot):
    accountant = submitted_person(app, "631", "郑华")
    reviewer = create_reviewer(app, "530102", make_id("530102", "19800101", "632"),
                               "13900000632")

    # The accountant: the record is kept, says why, and the request goes to the bureau.
    log_in(page, accountant)
    account_settings(page, "申请删除或更正个人信息")
    expect(page.get_by_role("heading", level=1)).to_have_text("删除或更正个人信息")
    for words in ("《中华人民共和国会计法》", "财会〔2018〕33号", "纳入财政部门管理期间"):
        expect(page.locator("main")).to_contain_text(words)
    check_page(page, "rights_held", snapshot)
    button(page, "发送请求").click()
    expect(page.get_by_role("alert").filter(has_text="请改正以下问题")).to_be_visible()
    check_page(page, "rights_request_errors", snapshot)
    group(page, "请求内容").get_by_label("删除我的信息", exact=True).check()
    field(page, "需要删除或更正的内容和理由").fill("本人已不从事会计工作，申请删除全部信息")
    button(page, "发送请求").click()
    expect(page.locator("#messages")).to_contain_text("请求已发送至五华区财政局")
    expect(page.locator(".request")).to_contain_text("待处理")
    check_page(page, "rights_request_sent", snapshot)

    # The bureau answers: 已办理, confirming the deletion.
    log_in(desk, reviewer)
    desk.get_by_role("link", name="删除或更正请求").click()
    row = desk.get_by_role("row").filter(has_text=accountant.name)
    expect(row).to_contain_text(mask(accountant.id_number))
    check_page(desk, "review_requests", snapshot)
    row.get_by_role("link", name=re.compile(r"^处理")).click()
    expect(desk.locator("main")).to_contain_text("本人已不从事会计工作")
    group(desk, "处理结果").get_by_label("已办理", exact=True).check()
    field(desk, "答复内容").fill("经核实您已不从事会计工作，已删除您提交的全部信息")
    button(desk, "提交答复").click()
    expect(desk.get_by_role("alert")).to_contain_text("请确认删除")
    check_page(desk, "review_request_errors", snapshot)
    desk.get_by_label(re.compile("^确认删除该申报人已提交的全部信息")).check()
    button(desk, "提交答复").click()
    expect(desk.locator("#messages")).to_contain_text("已删除其已提交的信息")
    assert application_status(app, accountant) is None

    # The accountant reads the answer (and an SMS said so); closing is now open to them.
    page.reload()
    expect(page.locator(".request")).to_contain_text("已办理")
    expect(page.locator(".request")).to_contain_text("已删除您提交的全部信息")
    expect(page.get_by_role("heading", level=1)).to_have_text("注销账号")
    check_page(page, "rights_request_answered", snapshot)
    notice = [m["body"] for m in outbox_messages(outbox) if m["to"] == accountant.phone][-1]
    assert "五华区财政局" in notice and "已答复（已办理）" in notice
