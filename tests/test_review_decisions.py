"""Review decisions (通过 / 不通过 with reasons and the sections to reopen), exactly one decision
per submission — over HTTP one after another, and in two threads at once on PostgreSQL — and
revealing the full ID number."""
import re
import threading

import pytest
import sqlalchemy as sa

from domain import review
from domain.audit import verify
from domain.id_numbers import mask
from domain.phones import mask as mask_phone
from extensions import db
from models import Account, Application, ApplicationStatus, ReviewDecision, Role
from tests.factories import application_row, audit_rows, make_application, make_staff, staff_client
from tests.helpers import htmx, outbox_messages

CONFLICT = "该申报已处理"


def text(response) -> str:
    return response.get_data(as_text=True)


def decision_rows(app, application_id=None) -> list[dict]:
    with app.app_context():
        query = sa.select(ReviewDecision).order_by(ReviewDecision.id)
        if application_id is not None:
            query = query.where(ReviewDecision.application_id == application_id)
        rows = [dict(application_id=d.application_id, reviewer_id=d.reviewer_id,
                     approved=d.approved, reasons=d.reasons, note=d.note, reopened=d.reopened)
                for d in db.session.scalars(query)]
        db.session.remove()
    return rows


def review_audit(app) -> list:
    return [r for r in audit_rows(app) if r.action.startswith("review.")]


def sms_to(outbox, phone) -> list[str]:
    return [m["body"] for m in outbox_messages(outbox) if m["to"] == phone]


@pytest.fixture
def pending(app):
    return make_application(app, "530102", name="陈待审")


@pytest.fixture
def reviewer(app):
    return staff_client(app, Role.REVIEWER, "530102")


# -- 通过 ----------------------------------------------------------------------------------------

def test_approve(app, outbox, pending, reviewer):
    client, member = reviewer
    page = text(client.get(f"/review/{pending.application_id}"))
    assert 'id="decision-form"' in page
    response = client.post(f"/review/{pending.application_id}/decide",
                           data={"decision": "approve"})
    assert response.status_code == 303 and response.headers["Location"] == "/review?status=pending"
    assert "已通过：陈待审" in text(client.get("/review"))
    row = application_row(app, pending.application_id)
    assert row["status"] == ApplicationStatus.APPROVED and row["decided_at"] is not None
    assert not any(needs for _d, _c, needs in row["sections"].values())
    assert decision_rows(app) == [dict(application_id=pending.application_id,
                                       reviewer_id=member.id, approved=True, reasons=[],
                                       note="", reopened=[])]
    [entry] = review_audit(app)
    assert entry.action == "review.approve" and entry.actor_id == member.id
    assert entry.subject == mask(pending.id_number)
    assert sms_to(outbox, pending.phone) == ["【云南省会计人员信息采集】您的会计人员信息采集已审核通过。"]
    # the decided application has no form any more, and shows its history
    page = text(client.get(f"/review/{pending.application_id}"))
    assert 'id="decision-form"' not in page and "审核记录" in page and "李审核：通过" in page


def test_approval_ignores_reasons_and_sections_sent_along(app, pending, reviewer):
    client, _member = reviewer
    response = client.post(f"/review/{pending.application_id}/decide", data={
        "decision": "approve", "reasons": ["其他"], "note": "x", "reopen": ["basic"]})
    assert response.status_code == 303
    [decision] = decision_rows(app)
    assert decision["approved"] and decision["reasons"] == [] and decision["reopened"] == []
    assert decision["note"] == ""
    assert not application_row(app, pending.application_id)["sections"]["basic"][2]


# -- 不通过 --------------------------------------------------------------------------------------

def test_reject_records_the_reasons_and_reopens_only_the_chosen_sections(app, outbox, pending,
                                                                        reviewer):
    client, member = reviewer
    response = client.post(f"/review/{pending.application_id}/decide", data={
        "decision": "reject", "reasons": ["工作证明未加盖公章", "其他"],
        "note": "  单位名称与公章不一致  ", "reopen": ["work", "materials"]})
    assert response.status_code == 303
    row = application_row(app, pending.application_id)
    assert row["status"] == ApplicationStatus.REJECTED
    assert {key: needs for key, (_d, _c, needs) in row["sections"].items()} == {
        "basic": False, "work": True, "education": False, "qualification": False,
        "materials": True}
    assert decision_rows(app) == [dict(
        application_id=pending.application_id, reviewer_id=member.id, approved=False,
        reasons=["工作证明未加盖公章", "其他"], note="单位名称与公章不一致",
        reopened=["work", "materials"])]
    [entry] = review_audit(app)
    assert entry.action == "review.reject" and entry.subject == mask(pending.id_number)
    assert '"reopened": ["work", "materials"]' in entry.details
    [sms] = sms_to(outbox, pending.phone)
    assert "未通过审核（工作证明未加盖公章）" in sms


@pytest.mark.parametrize("data, messages", [
    ({}, ["请选择通过或不通过"]),
    ({"decision": "maybe"}, ["请选择通过或不通过"]),
    ({"decision": "reject"}, ["请选择不通过的原因，或填写说明", "请选择需要申报人修改的部分"]),
    ({"decision": "reject", "reopen": ["basic"]}, ["请选择不通过的原因，或填写说明"]),
    ({"decision": "reject", "reasons": ["照片不符合要求"]}, ["请选择需要申报人修改的部分"]),
    ({"decision": "reject", "reasons": ["其他"], "reopen": ["basic"]},
     ["选择“其他”时请填写具体说明"]),
    ({"decision": "reject", "reasons": ["其他"], "note": "   ", "reopen": ["basic"]},
     ["选择“其他”时请填写具体说明"]),
    ({"decision": "reject", "reasons": ["不喜欢"], "reopen": ["basic"]}, ["请从列表中选择原因"]),
    ({"decision": "reject", "reasons": ["照片不符合要求"], "reopen": ["status"]},
     ["请从列表中选择需要修改的部分"]),
    ({"decision": "reject", "note": "长" * 501, "reopen": ["basic"]}, ["说明最多500字"]),
    ({"decision": "reject", "reasons": ["照片不符合要求"], "reopen": ["work"]},
     ["原因“照片不符合要求”涉及证明材料，请勾选“证明材料”，否则申报人无法修改"]),
    ({"decision": "reject", "reasons": ["工作信息填写有误", "学历信息与证书不符"],
      "reopen": ["work", "basic"]},
     ["原因“学历信息与证书不符”涉及“学历信息”、“证明材料”，请至少勾选其中一项"]),
], ids=["nothing", "unknown-decision", "reject-bare", "no-reason", "no-section", "other-no-note",
        "other-blank-note", "unknown-reason", "unknown-section", "long-note",
        "reason-not-reopened", "one-of-two-reasons-not-reopened"])
@pytest.mark.parametrize("as_htmx", [False, True], ids=["plain", "htmx"])
def test_an_incomplete_rejection_is_422_with_chinese_errors(app, outbox, pending, reviewer, data,
                                                            messages, as_htmx):
    client, _member = reviewer
    response = client.post(f"/review/{pending.application_id}/decide", data=data,
                           headers=htmx() if as_htmx else {})
    assert response.status_code == 422
    page = text(response)
    for message in messages:
        assert message in page, message
    if as_htmx:
        assert page.lstrip().startswith('<div id="decision-panel">') and "<html" not in page
    else:
        assert "<html" in page and "工作信息" in page
    # what was chosen is kept
    for reason in data.get("reasons", []):
        if reason in review.COMMON_REASONS:
            assert re.search(rf'value="{reason}"[^>]*checked', page) or \
                re.search(rf'checked[^>]*value="{reason}"', page), reason
    assert application_row(app, pending.application_id)["status"] == ApplicationStatus.PENDING
    assert decision_rows(app) == [] and review_audit(app) == []
    assert sms_to(outbox, pending.phone) == []


@pytest.mark.parametrize("data", [
    {"decision": "reject", "note": "请补充社保缴费证明", "reopen": ["materials"]},
    {"decision": "reject", "reasons": ["其他"], "note": "请补充社保缴费证明",
     "reopen": ["materials"]},
], ids=["note-only", "other-with-note"])
def test_a_note_alone_or_other_with_a_note_is_enough(app, outbox, pending, reviewer, data):
    client, _member = reviewer
    response = client.post(f"/review/{pending.application_id}/decide", data=data)
    assert response.status_code == 303
    assert application_row(app, pending.application_id)["status"] == ApplicationStatus.REJECTED
    assert "（请补充社保缴费证明）" in sms_to(outbox, pending.phone)[0]


# -- only a pending application, and only once ---------------------------------------------------

@pytest.mark.parametrize("status", [ApplicationStatus.APPROVED, ApplicationStatus.REJECTED])
def test_only_a_pending_application_can_be_decided(app, outbox, reviewer, status):
    person = make_application(app, "530102", status)
    client, _member = reviewer
    for data in ({"decision": "approve"},
                 {"decision": "reject", "reasons": ["照片不符合要求"], "reopen": ["materials"]}):
        response = client.post(f"/review/{person.application_id}/decide", data=data)
        assert response.status_code == 409
        assert CONFLICT in text(response)
    page = text(client.get(f"/review/{person.application_id}"))
    assert 'id="decision-form"' not in page
    assert application_row(app, person.application_id)["status"] == status
    assert decision_rows(app) == [] and review_audit(app) == []
    assert sms_to(outbox, person.phone) == []


def test_a_draft_cannot_be_decided(app, reviewer):
    person = make_application(app, "530102", ApplicationStatus.DRAFT)
    client, _member = reviewer
    assert client.post(f"/review/{person.application_id}/decide",
                       data={"decision": "approve"}).status_code == 404
    with app.app_context():
        application = db.session.get(Application, person.application_id)
        member = db.session.get(Account, _member.id)
        with pytest.raises(review.AlreadyDecided):
            review.decide(application, member, review.Decision(approved=True), "127.0.0.1")
        db.session.remove()
    assert application_row(app, person.application_id)["status"] == ApplicationStatus.DRAFT


@pytest.mark.parametrize("as_htmx", [False, True], ids=["plain", "htmx"])
def test_two_reviewers_one_after_the_other(app, outbox, pending, as_htmx):
    first, first_member = staff_client(app, Role.REVIEWER, "530102")
    second, _second_member = staff_client(app, Role.REVIEWER, "530100")
    url = f"/review/{pending.application_id}"
    # both have the form open
    assert 'id="decision-form"' in text(first.get(url))
    assert 'id="decision-form"' in text(second.get(url))
    response = first.post(f"{url}/decide", data={"decision": "approve"},
                          headers=htmx() if as_htmx else {})
    assert response.status_code == (204 if as_htmx else 303)
    response = second.post(f"{url}/decide", data={
        "decision": "reject", "reasons": ["照片不符合要求"], "reopen": ["materials"]},
        headers=htmx() if as_htmx else {})
    assert response.status_code == 409
    page = text(response)
    assert CONFLICT in page and "当前状态：审核成功" in page and "您的决定未保存" in page
    if as_htmx:
        assert "<html" not in page
    [decision] = decision_rows(app)
    assert decision["approved"] and decision["reviewer_id"] == first_member.id
    assert [e.action for e in review_audit(app)] == ["review.approve"]
    assert len(sms_to(outbox, pending.phone)) == 1
    row = application_row(app, pending.application_id)
    assert row["status"] == ApplicationStatus.APPROVED
    assert not any(needs for _d, _c, needs in row["sections"].values())


def test_a_resubmission_is_decided_anew(app, pending, reviewer):
    client, _member = reviewer
    url = f"/review/{pending.application_id}"
    assert client.post(f"{url}/decide", data={"decision": "reject", "reasons": ["基本信息填写有误"],
                                              "reopen": ["basic"]}).status_code == 303
    assert client.post(f"{url}/decide", data={"decision": "approve"}).status_code == 409
    # the accountant fixes 基本信息 and resubmits
    from domain import answers, applications, submission
    from tests.factories import stored_answers
    with app.app_context():
        application = db.session.get(Application, pending.application_id)
        applications.save_section(application, "basic",
                                  answers.from_stored("basic", stored_answers()["basic"]))
        assert submission.submit(application, "127.0.0.1")
        db.session.remove()
    page = text(client.get(url))
    assert 'id="decision-form"' in page and "缺少居住证明" in page       # the history
    assert client.post(f"{url}/decide", data={"decision": "approve"}).status_code == 303
    assert [d["approved"] for d in decision_rows(app)] == [False, True]


def test_decide_refuses_a_reviewer_outside_the_jurisdiction(app, pending):
    outsider = make_staff(app, Role.REVIEWER, "530103")
    with app.app_context():
        application = db.session.get(Application, pending.application_id)
        with pytest.raises(PermissionError):
            review.decide(application, db.session.get(Account, outsider.id),
                          review.Decision(approved=True), "127.0.0.1")
        db.session.remove()
    assert application_row(app, pending.application_id)["status"] == ApplicationStatus.PENDING


def _is_postgresql(app) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


def test_two_reviewers_at_the_same_moment(app):
    """Two threads, each with its own app context, session and connection, decide the same
    application at once: one wins, the other gets AlreadyDecided, one decision row."""
    if not _is_postgresql(app):
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL): SQLite allows one writer at a time, "
                    "so two transactions never race on the application row")
    reviewers = [make_staff(app, Role.REVIEWER, "530102"), make_staff(app, Role.REVIEWER, "530100")]
    decisions = [review.Decision(approved=True),
                 review.Decision(approved=False, reasons=["照片不符合要求"], reopen=["materials"])]
    for _round in range(5):
        person = make_application(app, "530102")
        barrier = threading.Barrier(2, timeout=10)
        outcome = {}

        def decide(index, person=person, barrier=barrier, outcome=outcome):
            with app.app_context():
                try:
                    application = db.session.get(Application, person.application_id)
                    member = db.session.get(Account, reviewers[index].id)
                    assert application.status == ApplicationStatus.PENDING
                    connection = db.session.connection().connection.dbapi_connection
                    outcome[f"connection{index}"] = id(connection)
                    barrier.wait()
                    review.decide(application, member, decisions[index], "127.0.0.1")
                    outcome[index] = "won"
                except review.AlreadyDecided:
                    outcome[index] = "already decided"
                except Exception as error:  # noqa: BLE001 - reported below
                    outcome[index] = error
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=decide, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert not any(thread.is_alive() for thread in threads)
        assert outcome["connection0"] != outcome["connection1"]
        assert sorted(str(outcome[i]) for i in range(2)) == ["already decided", "won"], outcome
        winner = 0 if outcome[0] == "won" else 1
        [decision] = decision_rows(app, person.application_id)
        assert decision["approved"] == decisions[winner].approved
        assert decision["reviewer_id"] == reviewers[winner].id
        expected = ApplicationStatus.APPROVED if winner == 0 else ApplicationStatus.REJECTED
        assert application_row(app, person.application_id)["status"] == expected
    assert len(review_audit(app)) == 5
    with app.app_context():
        assert verify() == []
        db.session.remove()


# -- the full ID number --------------------------------------------------------------------------

def test_the_detail_shows_the_masked_id_number_only(app, pending, reviewer):
    client, _member = reviewer
    page = text(client.get(f"/review/{pending.application_id}"))
    assert pending.id_number not in page
    masked = mask(pending.id_number)
    assert re.fullmatch(r"530102\*{8}[0-9X]{4}", masked)
    assert page.count(masked) >= 2          # the identity line and the 基本信息 row
    assert pending.phone not in page and page.count(mask_phone(pending.phone)) >= 2
    assert "显示完整证件号码和手机号码（将记录日志）" in page
    assert audit_rows(app, "id.reveal") == []


def test_reveal_shows_the_full_number_and_is_logged(app, pending, reviewer):
    client, member = reviewer
    response = client.post(f"/review/{pending.application_id}/reveal")
    assert response.status_code == 200
    page = text(response)
    assert pending.id_number in page
    assert "<html" in page
    # a reviewer without JavaScript still has the whole application in front of them
    assert "工作信息" in page and "云南某某会计服务有限公司" in page

    response = client.post(f"/review/{pending.application_id}/reveal", headers=htmx())
    assert response.status_code == 200
    fragment = text(response)
    assert fragment.lstrip().startswith('<div id="identity"') and "<html" not in fragment
    assert pending.id_number in fragment and "显示完整证件号码" not in fragment
    assert pending.phone in fragment

    entries = audit_rows(app, "id.reveal")
    assert len(entries) == 2
    for entry in entries:
        assert entry.actor_id == member.id and entry.subject == mask(pending.id_number)
        assert pending.id_number not in entry.details + entry.subject + entry.actor
    # revealing does not decide anything, and the next visit is masked again
    assert application_row(app, pending.application_id)["status"] == ApplicationStatus.PENDING
    assert pending.id_number not in text(client.get(f"/review/{pending.application_id}"))


def test_reveal_needs_post(app, pending, reviewer):
    client, _member = reviewer
    assert client.get(f"/review/{pending.application_id}/reveal").status_code == 405
    assert audit_rows(app, "id.reveal") == []


# -- 审核下一份 -----------------------------------------------------------------------------------

def test_a_decision_opens_the_next_pending_application_of_the_same_list(app, outbox):
    from datetime import datetime
    client, _member = staff_client(app, Role.REVIEWER, "530100")
    at = [datetime(2026, 3, 1, 2, minute) for minute in range(5)]
    skipped = make_application(app, "530102", name="甲跳过", submitted_at=at[0])
    current = make_application(app, "530102", name="乙当前", submitted_at=at[1])
    other_county = make_application(app, "530103", name="丙盘龙", submitted_at=at[2])
    following = make_application(app, "530102", name="丁下一", submitted_at=at[3])
    outside = make_application(app, "530402", name="戊玉溪", submitted_at=at[4])
    listing = "status=pending&county=530102"
    in_html = listing.replace("&", "&amp;")
    page = text(client.get(f"/review?{listing}"))
    assert f'href="/review/{current.application_id}?{in_html}"' in page   # the filter rides along
    page = text(client.get(f"/review/{current.application_id}?{listing}"))
    assert f'action="/review/{current.application_id}/decide?{in_html}"' in page
    assert f'href="/review?{in_html}">‹ 返回审核列表' in page

    response = client.post(f"/review/{current.application_id}/decide?{listing}",
                           data={"decision": "approve"})
    assert response.headers["Location"] == f"/review/{following.application_id}?{listing}"
    assert "下面是下一份待审核的申报" in text(client.get(response.headers["Location"]))
    # past the end of the list: the one skipped earlier, never another county's or jurisdiction's
    response = client.post(f"/review/{following.application_id}/decide?{listing}",
                           data={"decision": "approve"}, headers=htmx())
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == f"/review/{skipped.application_id}?{listing}"
    response = client.post(f"/review/{skipped.application_id}/decide?{listing}",
                           data={"decision": "approve"})
    assert response.headers["Location"] == f"/review?{listing}"
    assert "本列表的待审核申报已全部处理完" in text(client.get(response.headers["Location"]))
    # without a county filter the whole jurisdiction's queue is the list
    response = client.post(f"/review/{other_county.application_id}/decide",
                           data={"decision": "approve"})
    assert response.headers["Location"] == "/review?status=pending"
    assert outside.application_id not in (skipped.application_id, following.application_id)


def test_reasons_carry_the_parts_the_form_ticks_for_them(app, pending, reviewer):
    client, _member = reviewer
    page = text(client.get(f"/review/{pending.application_id}"))
    assert re.search(r'data-reopens="materials"[^>]*value="照片不符合要求"', page)
    assert re.search(r'data-reopens="education materials"[^>]*value="学历信息与证书不符"', page)
    assert not re.search(r'data-reopens="[^"]*"[^>]*value="填写信息与证明材料不一致"', page)
    assert set(review.REASON_PARTS) == set(review.COMMON_REASONS)
