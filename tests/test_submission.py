"""The accountant's side of 提交审核: the summary page, submitting once, the locks of 审核中 and
审核成功, a rejection that reopens only the marked sections, resubmission, and the decision SMS."""
import html
import io
import re
import threading

import pytest
import sqlalchemy as sa
from PIL import Image

from domain import submission
from domain.id_numbers import mask
from extensions import db
from models import Application, ApplicationStatus, Material, Role
from tests.factories import (
    application_row,
    audit_rows,
    fill_sections,
    form_answers,
    material_ids,
    register_applicant,
    save_section,
    staff_client,
    submit,
    submitted_via_http,
    upload,
    upload_materials,
    with_ids,
)
from tests.helpers import outbox_messages

SECTION_TITLES = {"basic": "基本信息", "work": "工作信息", "education": "学历信息",
                  "qualification": "专业技术资格信息"}


def text(response) -> str:
    return response.get_data(as_text=True)


def summary_cards(page: str) -> dict[str, dict]:
    """Each section card of the summary: its rows (label → value), links and thumbnails."""
    cards = {}
    for key, body in re.findall(
            r'<section class="summary-card" aria-labelledby="sum-(\w+)">(.*?)</section>',
            page, re.S):
        rows = {}
        for label, value in re.findall(r'<div class="summary__row"><dt>(.*?)</dt><dd>(.*?)</dd>',
                                       body, re.S):
            rows.setdefault(html.unescape(label), html.unescape(value))
        cards[key] = {"rows": rows, "body": body,
                      "edit": re.findall(r'<a href="([^"]+)">修改', body),
                      "thumbs": re.findall(r'src="/media/materials/(\d+)-thumb\.jpg"', body)}
    return cards


def task_statuses(page: str) -> dict[str, str]:
    return {name: status for name, status in re.findall(
        r'task-list__name">\d\. (.+?)</span>\s*<strong class="tag[^"]*">(.+?)</strong>', page)}


def missing_links(page: str) -> dict[str, str]:
    notice = re.search(r"以下部分尚未完成，完成后才能提交</h2>(.*?)</div>", page, re.S)
    if notice is None:
        return {}
    return {title: href for href, title in
            re.findall(r'<li><a href="([^"]+)">(.+?)</a></li>', notice.group(1))}


def submit_enabled(page: str) -> bool:
    form = re.search(r'<form method="post" action="/collection/submit".*?</form>', page, re.S)
    disabled = re.search(r'<button type="button"[^>]*disabled>提交审核</button>', page)
    assert not (form and disabled)
    return bool(form and "提交审核</button>" in form.group(0))


def reviewer_decides(app, person, data, region="530102"):
    client, _reviewer = staff_client(app, Role.REVIEWER, region)
    response = client.post(f"/review/{person.application_id}/decide", data=data)
    assert response.status_code == 303, text(response)[-2000:]
    return response


@pytest.fixture
def filled(client, outbox):
    """An accountant who has filled in everything (optional answers left empty) and uploaded
    every material, not yet submitted."""
    person = register_applicant(client, outbox)
    fill_sections(client, political_status="", email="", duty="")
    kinds = upload_materials(client)
    with_ids(client.application, person)
    person.kinds = kinds
    return person


@pytest.fixture
def submitted(client, outbox):
    return submitted_via_http(client, outbox)


# -- the summary ---------------------------------------------------------------------------------

def test_summary_shows_every_answer_and_unanswered_optional_ones(app, client, filled):
    page = text(client.get("/collection/summary"))
    cards = summary_cards(page)
    assert list(cards) == list(SECTION_TITLES)
    for key, title in SECTION_TITLES.items():
        assert f'<h2 id="sum-{key}">{title}</h2>' in page
    basic, work = cards["basic"]["rows"], cards["work"]["rows"]
    assert basic["姓名"] == "张三"
    assert basic["证件类型"] == "居民身份证"
    assert basic["证件号码"] == filled.id_number       # the accountant's own page: in full
    assert basic["手机号码"] == filled.phone
    # derived from the ID number: its 17th digit, odd for 男
    assert basic["性别"] == ("男" if int(filled.id_number[16]) % 2 else "女")
    assert basic["出生日期"] == \
        f"{filled.id_number[6:10]}-{filled.id_number[10:12]}-{filled.id_number[12:14]}"
    assert basic["民族"] == "汉族"
    assert basic["通讯地址"] == "昆明市五华区某某路1号"
    assert basic["政治面貌"] == "未填写"
    assert basic["电子邮箱"] == "未填写"
    assert work["是否在岗"] == "是"
    assert work["工作单位名称"] == "云南某某会计服务有限公司"
    assert work["统一社会信用代码"] == "91110000600037341L"
    assert work["单位所在州（市）"] == "昆明市" and work["单位所在县（市、区）"] == "五华区"
    assert work["会计岗位"] == "出纳、总账"
    assert work["职务"] == "未填写"
    assert cards["education"]["rows"]["毕业院校"] == "云南财经大学"
    assert cards["education"]["rows"]["学历"] == "大学本科"
    assert cards["qualification"]["rows"]["资格级别"] == "初级"
    assert cards["qualification"]["rows"]["证书编号"] == "Z2014000123"


def test_summary_shows_a_thumbnail_of_every_material(app, client, filled):
    cards = summary_cards(text(client.get("/collection/summary")))
    stored = material_ids(app, filled.application_id)
    assert set(stored) == set(filled.kinds)
    shown = [int(i) for card in cards.values() for i in card["thumbs"]]
    assert sorted(shown) == sorted(stored.values())
    assert str(stored["id_photo"]) in cards["basic"]["thumbs"]
    assert str(stored["work_proof"]) in cards["work"]["thumbs"]
    assert str(stored["education_full_time"]) in cards["education"]["thumbs"]
    assert str(stored["qualification_junior"]) in cards["qualification"]["thumbs"]
    for material_id in shown:
        response = client.get(f"/media/materials/{material_id}-thumb.jpg")
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "image/jpeg"
        assert response.data[:2] == b"\xff\xd8"


def test_each_section_has_a_change_link_that_returns_to_the_summary(app, client, filled):
    cards = summary_cards(text(client.get("/collection/summary")))
    for key in SECTION_TITLES:
        assert cards[key]["edit"] == [f"/collection/{key}?return=summary"], key
    answers = form_answers()
    for key in SECTION_TITLES:
        page = text(client.get(f"/collection/{key}?return=summary"))
        assert '<input type="hidden" name="return" value="summary">' in page
        data = dict(answers[key], **{"return": "summary"})
        response = client.post(f"/collection/{key}", data=data)
        assert response.status_code == 303
        assert response.headers["Location"] == "/collection/summary", key
    # without return=summary a save goes back to the task list, as before
    response = client.post("/collection/basic", data=answers["basic"])
    assert response.headers["Location"] == "/collection"
    # an HTMX save from the summary's link
    response = client.post("/collection/basic", data=dict(answers["basic"], **{"return": "summary"}),
                           headers={"HX-Request": "true"})
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/collection/summary"
    # the change was kept
    changed = dict(answers["basic"], address="昆明市盘龙区新地址8号", **{"return": "summary"})
    assert client.post("/collection/basic", data=changed).status_code == 303
    assert summary_cards(text(client.get("/collection/summary")))["basic"]["rows"]["通讯地址"] \
        == "昆明市盘龙区新地址8号"


def test_submit_is_offered_only_when_everything_is_complete(app, client, outbox):
    person = register_applicant(client, outbox)
    page = text(client.get("/collection/summary"))
    assert not submit_enabled(page)
    assert re.search(r'<button type="button"[^>]*disabled>提交审核</button>', page)
    assert missing_links(page) == {
        "基本信息": "/collection/basic", "工作信息": "/collection/work",
        "学历信息": "/collection/education", "专业技术资格信息": "/collection/qualification",
        "证明材料": "/collection/materials"}

    fill_sections(client)
    page = text(client.get("/collection/summary"))
    assert not submit_enabled(page)
    assert missing_links(page) == {"证明材料": "/collection/materials"}

    # a POST before everything is done submits nothing
    response = client.post("/collection/submit")
    assert response.status_code == 303 and response.headers["Location"] == "/collection/summary"
    with_ids(app, person)
    assert application_row(app, person.application_id)["status"] == ApplicationStatus.DRAFT
    assert audit_rows(app, "application.submit") == []
    assert "还有未完成的部分" in text(client.get("/collection/summary"))

    upload_materials(client)
    page = text(client.get("/collection/summary"))
    assert submit_enabled(page)
    assert missing_links(page) == {}
    assert "五华区财政局审核" in page


def test_one_missing_material_keeps_submit_disabled(app, client, outbox):
    register_applicant(client, outbox)
    fill_sections(client)
    upload_materials(client)
    # the answers now ask for a second certificate, not yet uploaded
    answers = form_answers()["qualification"]
    answers.update({"records-1-level": "中级", "records-1-certificate_number": "Z2019000456",
                    "records-1-obtained_on": "2019-09-01"})
    save_section(client, "qualification", answers)
    page = text(client.get("/collection/summary"))
    assert not submit_enabled(page)
    assert missing_links(page) == {"证明材料": "/collection/materials"}
    assert "未上传" in summary_cards(page)["qualification"]["body"]


def test_submitting_twice_makes_one_submission(app, client, filled):
    first = client.post("/collection/submit")
    assert first.status_code == 303 and first.headers["Location"] == "/collection/summary"
    submitted_at = application_row(app, filled.application_id)["submitted_at"]
    assert submitted_at is not None
    again = client.post("/collection/submit")          # a double tap, or the POST replayed
    assert again.status_code == 303 and again.headers["Location"] == "/collection/summary"
    htmx = client.post("/collection/submit", headers={"HX-Request": "true"})
    assert htmx.status_code == 204 and htmx.headers["HX-Redirect"] == "/collection/summary"
    row = application_row(app, filled.application_id)
    assert row["status"] == ApplicationStatus.PENDING
    assert row["submitted_at"] == submitted_at
    rows = audit_rows(app, "application.submit")
    assert len(rows) == 1
    assert rows[0].subject == mask(filled.id_number) and rows[0].actor_id == filled.account_id
    page = text(client.get("/collection/summary"))
    assert "已提交审核，审核期间不能修改" in page
    assert "审核中" in page


def test_a_replayed_submit_that_passed_the_page_check_still_submits_once(app, client, filled):
    """Two requests that both read 未提交 before either wrote: the conditional UPDATE lets only
    one through."""
    with app.app_context():
        first = db.session.get(Application, filled.application_id)
        assert first.status == ApplicationStatus.DRAFT
        db.session.expunge(first)
        second = db.session.get(Application, filled.application_id)
        assert submission.submit(second, "127.0.0.1") is True
        db.session.expunge_all()
        db.session.add(first)                   # still says 未提交, as the other request saw it
        assert first.status == ApplicationStatus.DRAFT
        assert submission.submit(first, "127.0.0.1") is False
        db.session.remove()
    assert application_row(app, filled.application_id)["status"] == ApplicationStatus.PENDING
    assert len(audit_rows(app, "application.submit")) == 1


def test_two_submits_at_the_same_moment(app, client, filled):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL): SQLite allows one writer at a time, "
                    "so two transactions never race on the application row")
    barrier = threading.Barrier(2, timeout=10)
    results = []

    def tap():
        with app.app_context():
            try:
                application = db.session.get(Application, filled.application_id)
                assert application.status == ApplicationStatus.DRAFT
                barrier.wait()
                results.append(submission.submit(application, "127.0.0.1"))
            except Exception as error:  # noqa: BLE001 - reported below
                results.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=tap) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results, key=str) == [False, True], results
    assert application_row(app, filled.application_id)["status"] == ApplicationStatus.PENDING
    assert len(audit_rows(app, "application.submit")) == 1


# -- 审核中 --------------------------------------------------------------------------------------

def test_pending_locks_every_section_and_every_upload(app, client, submitted):
    before = application_row(app, submitted.application_id)
    for key, data in form_answers(unit_name="改过的单位").items():
        response = client.post(f"/collection/{key}", data=data)
        assert response.status_code == 409, key
        assert "审核期间不能修改" in text(response)
        assert client.post(f"/collection/{key}/draft", data=data).status_code == 409
        # the page shows the form disabled and no 保存 button
        page = text(client.get(f"/collection/{key}"))
        assert "<fieldset class=\"plain-fieldset\" disabled>" in page and ">保存</button>" not in page
    stored = material_ids(app, submitted.application_id)
    for kind in stored:
        response = upload(client, kind)
        assert response.status_code == 409, kind
    assert client.post("/collection/materials/id_photo/preview").status_code == 409
    assert material_ids(app, submitted.application_id) == stored
    after = application_row(app, submitted.application_id)
    assert after == before
    page = text(client.get("/collection/summary"))
    assert not summary_cards(page)["basic"]["edit"] and not submit_enabled(page)
    assert 'action="/collection/submit"' not in page


# -- 审核失败 -------------------------------------------------------------------------------------

def test_rejection_shows_the_reasons_and_reopens_only_the_marked_sections(app, client, outbox,
                                                                           submitted):
    reviewer_decides(app, submitted, {"decision": "reject",
                                      "reasons": ["工作证明未加盖公章", "其他"],
                                      "note": "单位名称与公章不一致", "reopen": ["work", "materials"]})
    page = text(client.get("/collection"))
    assert "审核失败" in page
    assert "原因：工作证明未加盖公章、其他" in page and "说明：单位名称与公章不一致" in page
    assert task_statuses(page) == {"基本信息": "已完成", "工作信息": "需修改", "学历信息": "已完成",
                                   "专业技术资格信息": "已完成", "证明材料": "需修改",
                                   "信息汇总与提交": "去核对"}
    summary = text(client.get("/collection/summary"))
    assert "原因：工作证明未加盖公章、其他" in summary
    cards = summary_cards(summary)
    assert cards["work"]["edit"] == ["/collection/work?return=summary"]
    assert all(not cards[key]["edit"] for key in ("basic", "education", "qualification"))
    # not yet resubmittable: the reopened parts are listed
    assert not submit_enabled(summary)
    assert set(missing_links(summary)) == {"工作信息", "证明材料"}

    answers = form_answers(unit_name="云南某某会计服务有限公司（盖章）")
    for key in ("basic", "education", "qualification"):
        assert client.post(f"/collection/{key}", data=answers[key]).status_code == 409, key
        assert client.post(f"/collection/{key}/draft", data=answers[key]).status_code == 409
    stored = material_ids(app, submitted.application_id)
    assert client.post("/collection/submit").status_code == 303
    assert application_row(app, submitted.application_id)["status"] == ApplicationStatus.REJECTED

    assert client.post("/collection/work", data=dict(answers["work"], **{"return": "summary"})) \
        .headers["Location"] == "/collection/summary"
    assert upload(client, "work_proof").status_code == 303
    assert set(material_ids(app, submitted.application_id)) == set(stored)
    page = text(client.get("/collection"))
    assert task_statuses(page)["工作信息"] == "已完成"
    assert task_statuses(page)["证明材料"] == "已完成"
    summary = text(client.get("/collection/summary"))
    assert submit_enabled(summary)

    submit(client)
    row = application_row(app, submitted.application_id)
    assert row["status"] == ApplicationStatus.PENDING and row["decided_at"] is None
    assert row["sections"]["work"][0]["unit_name"] == ["云南某某会计服务有限公司（盖章）"]
    assert not any(needs for _data, _done, needs in row["sections"].values())
    assert len(audit_rows(app, "application.submit")) == 2
    # and locked again
    assert client.post("/collection/work", data=answers["work"]).status_code == 409


def test_rejection_reopening_one_section_leaves_materials_locked(app, client, submitted):
    reviewer_decides(app, submitted, {"decision": "reject", "reasons": ["基本信息填写有误"],
                                      "reopen": ["basic"]})
    page = text(client.get("/collection"))
    assert task_statuses(page)["基本信息"] == "需修改"
    assert task_statuses(page)["证明材料"] == "已完成"
    assert upload(client, "work_proof").status_code == 409
    answers = form_answers()
    assert client.post("/collection/work", data=answers["work"]).status_code == 409
    assert client.post("/collection/basic", data=answers["basic"]).status_code == 303
    submit(client)
    assert application_row(app, submitted.application_id)["status"] == ApplicationStatus.PENDING


# -- 审核成功 -------------------------------------------------------------------------------------

def test_approval_makes_everything_read_only(app, client, outbox, submitted):
    reviewer_decides(app, submitted, {"decision": "approve"})
    response = client.get("/collection")
    assert response.status_code == 303 and response.headers["Location"] == "/collection/summary"
    page = text(client.get("/collection/summary"))
    assert "审核成功" in page and "您的信息已审核通过" in page
    assert "返回信息采集" not in page and "task-list" not in page
    assert all(not card["edit"] for card in summary_cards(page).values())
    assert 'action="/collection/submit"' not in page and ">提交审核</button>" not in page
    for key, data in form_answers().items():
        response = client.post(f"/collection/{key}", data=data)
        assert response.status_code == 409 and "已审核通过" in text(response), key
    for kind in material_ids(app, submitted.application_id):
        assert upload(client, kind).status_code == 409, kind
    assert client.post("/collection/submit").status_code == 303
    assert application_row(app, submitted.application_id)["status"] == ApplicationStatus.APPROVED
    assert len(audit_rows(app, "application.submit")) == 1


# -- the decision SMS ----------------------------------------------------------------------------

def test_approval_sms(app, client, outbox, submitted):
    reviewer_decides(app, submitted, {"decision": "approve"})
    to_person = [m["body"] for m in outbox_messages(outbox) if m["to"] == submitted.phone]
    assert to_person[-1] == "【云南省会计人员信息采集】您的会计人员信息采集已审核通过。"


@pytest.mark.parametrize("reasons, note, expected", [
    (["照片不符合要求", "其他"], "背景不是白色", "（照片不符合要求）"),
    ([], "请补充单位公章并重新上传工作证明，谢谢您的配合与支持！" * 2,
     "（" + ("请补充单位公章并重新上传工作证明，谢谢您的配合与支持！" * 2)[:30] + "）"),
], ids=["reasons", "note-only"])
def test_rejection_sms_has_the_short_reason(app, client, outbox, submitted, reasons, note,
                                           expected):
    reviewer_decides(app, submitted, {"decision": "reject", "reasons": reasons, "note": note,
                                      "reopen": ["materials"]})
    to_person = [m["body"] for m in outbox_messages(outbox) if m["to"] == submitted.phone]
    body = to_person[-1]
    assert body.startswith("【云南省会计人员信息采集】")
    assert "未通过" in body and expected in body
    assert "请登录系统按提示修改后重新提交" in body


def material_hashes(app, application_id) -> dict[str, str]:
    with app.app_context():
        rows = db.session.execute(sa.select(Material.kind, Material.sha256).where(
            Material.application_id == application_id)).all()
        db.session.remove()
    return dict(rows)


def test_a_photo_uploaded_after_a_rejection_replaces_the_old_one(app, client, submitted):
    reviewer_decides(app, submitted, {"decision": "reject", "reasons": ["证件照片不清晰"],
                                      "reopen": ["materials"]})
    before = material_hashes(app, submitted.application_id)
    other = io.BytesIO()
    Image.new("RGB", (700, 500), (120, 180, 120)).save(other, "JPEG")
    assert upload(client, "id_front", other.getvalue()).status_code == 303
    after = material_hashes(app, submitted.application_id)
    assert set(after) == set(before)
    assert after["id_front"] != before["id_front"]
    assert {k: v for k, v in after.items() if k != "id_front"} == \
        {k: v for k, v in before.items() if k != "id_front"}
    submit(client)
    assert application_row(app, submitted.application_id)["status"] == ApplicationStatus.PENDING
