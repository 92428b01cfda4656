"""信息变更 over HTTP (issue 14): an approved person changes their employer to another county;
the approved record stays in force and visible while the new county reviews the change; a
rejected change leaves it untouched; approval makes the change the record and the old one a
past version; one open change at a time; withdrawing."""
import re

import pytest
import sqlalchemy as sa

from extensions import db
from models import Application, ApplicationKind, ApplicationStatus, Material, Role
from tests.factories import (
    applicant_client,
    form_answers,
    make_application,
    staff_client,
    upload,
)
from tests.helpers import htmx, outbox_messages

NEW_EMPLOYER = {**form_answers("530103")["work"], "unit_name": "昆明盘龙新单位有限公司"}


def text(response) -> str:
    return response.get_data(as_text=True)


def rows_of(app, account_id) -> list[dict]:
    with app.app_context():
        rows = [dict(id=a.id, kind=a.kind, status=a.status, base_id=a.base_id,
                     county=a.jurisdiction_code, parts=a.change_parts,
                     work=next((s.data for s in a.sections if s.key == "work"), None))
                for a in db.session.scalars(sa.select(Application).where(
                    Application.account_id == account_id).order_by(Application.id))]
        db.session.remove()
    return rows


@pytest.fixture
def approved(app):
    return make_application(app, "530102", ApplicationStatus.APPROVED, name="周变更")


@pytest.fixture
def person(app, approved):
    return applicant_client(app, approved)


def start(client, *parts, expect=303):
    response = client.post("/collection/change", data={"parts": list(parts)})
    assert response.status_code == expect, text(response)[-2000:]
    return response


def test_an_approved_person_is_offered_a_change_and_chooses_what_changed(app, approved, person):
    summary = text(person.get("/collection/summary"))
    assert 'href="/collection/change"' in summary and "信息变更" in summary
    page = text(person.get("/collection/change"))
    for words in ("工作单位 / 岗位", "学历", "专业技术资格", "通讯地址 / 邮箱"):
        assert words in page
    # nothing chosen: 422, the record unchanged
    response = person.post("/collection/change", data={})
    assert response.status_code == 422 and "请至少选择一项要变更的内容" in text(response)
    fragment = person.post("/collection/change", data={"parts": ["nonsense"]}, headers=htmx())
    assert fragment.status_code == 422 and "<html" not in text(fragment)
    assert [r["kind"] for r in rows_of(app, approved.account_id)] == [ApplicationKind.FIRST]

    start(person, "work")
    record, change = rows_of(app, approved.account_id)
    assert change["kind"] == ApplicationKind.CHANGE and change["base_id"] == record["id"]
    assert change["status"] == ApplicationStatus.DRAFT and change["parts"] == ["work"]
    assert change["work"] == record["work"] and record["status"] == ApplicationStatus.APPROVED
    with app.app_context():   # the pictures are copied, marked carried
        kinds = {(m.kind, m.carried) for m in db.session.scalars(
            sa.select(Material).where(Material.application_id == change["id"]))}
        db.session.remove()
    assert ("work_proof", True) in kinds and ("id_photo", True) in kinds
    # the task list is the change's: 工作信息 open, the others locked
    index = text(person.get("/collection"))
    assert "<h1>信息变更</h1>" in index
    assert "此部分不在本次信息变更的范围内" in text(person.get("/collection/basic"))
    assert person.post("/collection/basic", data=form_answers()["basic"]).status_code == 409
    # a second change while this one is open goes back to it
    assert person.get("/collection/change").headers["Location"] == "/collection"


def test_a_change_with_nothing_changed_cannot_be_submitted(app, approved, person):
    start(person, "basic")
    assert "基本信息" in text(person.get("/collection/summary"))   # still to look at
    # saved as it was: nothing changed
    assert person.post("/collection/basic", data=form_answers()["basic"]).status_code == 303
    summary = text(person.get("/collection/summary"))
    assert "您还没有修改任何内容" in summary
    person.post("/collection/submit")
    assert rows_of(app, approved.account_id)[1]["status"] == ApplicationStatus.DRAFT


def test_a_new_employer_needs_a_new_work_proof_and_moves_the_review(app, approved, person):
    start(person, "work")
    assert person.post("/collection/work", data=NEW_EMPLOYER).status_code == 303
    change = rows_of(app, approved.account_id)[1]
    assert change["county"] == "530103"   # reviewed by the new county
    summary = text(person.get("/collection/summary"))
    assert "请上传能证明新情况的工作证明" in summary
    assert "变更前：云南某某会计服务有限公司" in summary
    materials_page = text(person.get("/collection/materials"))
    assert "需重新上传" in materials_page
    assert 'action="/collection/materials/id_photo"' not in materials_page   # not in the change
    assert upload(person, "id_photo").status_code == 404
    assert upload(person, "work_proof").status_code == 303
    person.post("/collection/submit")
    record, change = rows_of(app, approved.account_id)
    assert change["status"] == ApplicationStatus.PENDING
    assert record["status"] == ApplicationStatus.APPROVED and record["county"] == "530102"


def _submitted_change(app, approved, person):
    start(person, "work")
    person.post("/collection/work", data=NEW_EMPLOYER)
    upload(person, "work_proof")
    person.post("/collection/submit")
    return rows_of(app, approved.account_id)


def listed(client, **query) -> list[int]:
    page = text(client.get("/review", query_string=query))
    return [int(i) for i in re.findall(r'href="/review/(\d+)[?"]', page)]


def test_the_new_county_reviews_the_change_and_sees_old_beside_new(app, approved, person):
    record, change = _submitted_change(app, approved, person)
    new_county, _member = staff_client(app, Role.REVIEWER, "530103")
    old_county, _other = staff_client(app, Role.REVIEWER, "530102")
    assert listed(new_county) == [change["id"]]
    assert listed(new_county, kind="change") == [change["id"]]
    assert listed(new_county, kind="first") == []
    assert listed(old_county) == []
    assert listed(old_county, status="approved") == [record["id"]]   # still in force
    assert new_county.get(f"/review/{record['id']}").status_code == 404
    detail = text(new_county.get(f"/review/{change['id']}"))
    assert "信息变更" in detail and "变更前" in detail and "变更后" in detail
    assert "云南某某会计服务有限公司" in detail and "昆明盘龙新单位有限公司" in detail
    assert "（已变更）" in detail
    # only the picture uploaded for the change is shown beside it
    with app.app_context():
        fresh = db.session.scalar(sa.select(Material.id).where(
            Material.application_id == change["id"], Material.carried.is_(False)))
        carried = db.session.scalar(sa.select(Material.id).where(
            Material.application_id == change["id"], Material.kind == "id_photo"))
        db.session.remove()
    assert f"/materials/{fresh}.jpg" in detail and f"/materials/{carried}.jpg" not in detail


def test_a_rejected_change_leaves_the_record_and_approval_replaces_it(app, approved, person,
                                                                     outbox):
    record, change = _submitted_change(app, approved, person)
    reviewer, _member = staff_client(app, Role.REVIEWER, "530103")
    response = reviewer.post(f"/review/{change['id']}/decide", data={
        "decision": "reject", "reasons": ["工作证明未加盖公章"], "reopen": ["materials"]})
    assert response.status_code == 303
    record_now, change_now = rows_of(app, approved.account_id)
    assert record_now == record and change_now["status"] == ApplicationStatus.REJECTED
    assert any("信息变更未通过审核（工作证明未加盖公章）" in m["body"]
               for m in outbox_messages(outbox))
    # fixed and resubmitted, then approved
    assert upload(person, "work_proof").status_code == 303
    person.post("/collection/submit")
    assert reviewer.post(f"/review/{change['id']}/decide",
                         data={"decision": "approve"}).status_code == 303
    record_now, change_now = rows_of(app, approved.account_id)
    assert record_now["status"] == ApplicationStatus.SUPERSEDED
    assert change_now["status"] == ApplicationStatus.APPROVED
    assert any(m["body"].endswith("您的信息变更已审核通过。") for m in outbox_messages(outbox))
    # the old county no longer lists it; the new one holds the record
    old_county, _other = staff_client(app, Role.REVIEWER, "530102")
    assert listed(old_county, status="approved") == []
    assert listed(reviewer, status="approved") == [change["id"]]
    # the person: the new record, and both versions with dates
    summary = text(person.get("/collection/summary"))
    assert "昆明盘龙新单位有限公司" in summary and "已审核通过的版本" in summary
    assert f'href="/collection/versions/{record["id"]}"' in summary
    past = text(person.get(f"/collection/versions/{record['id']}"))
    assert "历史版本" in past and "云南某某会计服务有限公司" in past
    # another person cannot open it
    other = applicant_client(app, make_application(app, "530102", ApplicationStatus.APPROVED))
    assert other.get(f"/collection/versions/{record['id']}").status_code == 404
    # and a new change can start from the new record
    start(person, "basic")
    assert rows_of(app, approved.account_id)[-1]["base_id"] == change["id"]


def test_withdrawing_a_draft_removes_it_and_a_rejected_one_is_kept_withdrawn(app, approved,
                                                                            person):
    start(person, "work")
    assert person.post("/collection/change/withdraw").status_code == 303
    assert [r["kind"] for r in rows_of(app, approved.account_id)] == [ApplicationKind.FIRST]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Material).where(
            Material.carried.is_(True))) == 0
        db.session.remove()
    _record, change = _submitted_change(app, approved, person)
    reviewer, _member = staff_client(app, Role.REVIEWER, "530103")
    reviewer.post(f"/review/{change['id']}/decide", data={
        "decision": "reject", "reasons": ["工作信息填写有误"], "reopen": ["work"]})
    assert person.post("/collection/change/withdraw").status_code == 303
    record_now, change_now = rows_of(app, approved.account_id)
    assert change_now["status"] == ApplicationStatus.WITHDRAWN
    assert record_now["status"] == ApplicationStatus.APPROVED
    assert "信息变更" in text(person.get("/collection/summary"))   # free to start another


def test_a_pending_change_cannot_be_withdrawn_or_edited(app, approved, person):
    _record, change = _submitted_change(app, approved, person)
    assert person.post("/collection/change/withdraw").status_code == 303
    assert rows_of(app, approved.account_id)[1]["status"] == ApplicationStatus.PENDING
    assert person.post("/collection/work", data=NEW_EMPLOYER).status_code == 409


def test_the_export_says_which_kind(app, approved, person):
    import io

    from openpyxl import load_workbook
    _record, change = _submitted_change(app, approved, person)
    reviewer, _member = staff_client(app, Role.REVIEWER, "530103")
    book = load_workbook(io.BytesIO(reviewer.get("/review/export.xlsx").data), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][-1] == "类型" and rows[1][-1] == "信息变更"
