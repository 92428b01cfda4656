"""A submitted record is kept by the finance bureau: the person's page says what is kept, why and
until when, and sends a deletion or correction request to the bureau of the record's 属地; a
reviewer whose jurisdiction covers it answers (已办理 / 不予办理 with the reason) on the staff
pages; the person reads the answer and gets an SMS. Everything is audit-logged. Reviewers
outside the jurisdiction, administrators, auditors and other applicants reach nothing."""
import re

import pytest
import sqlalchemy as sa

from domain.id_numbers import mask
from extensions import db
from models import (
    Account,
    Application,
    ApplicationStatus,
    Material,
    RightsRequest,
    Role,
    StoredFile,
)
from tests.factories import (
    applicant_client,
    audit_rows,
    make_application,
    staff_client,
)
from tests.helpers import body, htmx, outbox_messages

CLOSE = "/account/close"
SEND = "/account/requests"
DETAILS = "工作单位名称应为云南某某会计服务有限公司昆明分公司"
INSIDE = ["530102", "530100", "530000"]
OUTSIDE = ["530103", "530300"]


@pytest.fixture
def submitted(app):
    person = make_application(app, "530102", name="王五华")
    person.client = applicant_client(app, person)
    return person


def sent(person, kind="correction", details=DETAILS) -> int:
    response = person.client.post(SEND, data={"kind": kind, "details": details})
    assert response.status_code == 303, body(response)[-1500:]
    with person.client.application.app_context():
        request_id = db.session.scalar(sa.select(sa.func.max(RightsRequest.id)))
        db.session.remove()
    return request_id


def request_row(app, request_id) -> dict:
    with app.app_context():
        row = db.session.get(RightsRequest, request_id)
        result = {"status": row.status, "answer": row.answer, "answered_by": row.answered_by,
                  "jurisdiction": row.jurisdiction_code}
        db.session.remove()
    return result


def record_left(app, person) -> dict[str, int]:
    with app.app_context():
        result = {
            "account": db.session.scalar(sa.select(sa.func.count()).select_from(Account)
                                         .where(Account.id == person.account_id)),
            "application": db.session.scalar(sa.select(sa.func.count()).select_from(
                Application).where(Application.id == person.application_id)),
            "materials": db.session.scalar(sa.select(sa.func.count()).select_from(Material)
                                           .where(Material.owner_id == person.account_id)),
        }
        db.session.remove()
    return result


# -- the person's page ---------------------------------------------------------------------------

def test_the_page_says_what_is_kept_why_and_until_when(submitted):
    page = body(submitted.client.get(CLOSE))
    assert "<h1>删除或更正个人信息</h1>" in page
    for words in ("一、保存的信息", "二、为什么保存", "三、保存到什么时候", "《中华人民共和国会计法》",
                  "《会计人员管理办法》（财会〔2018〕33号）", "履行法定职责所必需",
                  "纳入财政部门管理期间", "不少于6个月", "五华区财政局", "下载个人信息副本"):
        assert words in page, words
    assert 'id="close-form"' not in page and 'id="request-form"' in page
    assert submitted.id_number not in page


def test_the_task_list_links_the_right_page(app, submitted):
    assert "申请删除或更正个人信息" in body(submitted.client.get("/collection"))
    draft = applicant_client(app, make_application(app, status=ApplicationStatus.DRAFT))
    page = body(draft.get("/collection"))
    assert "注销账号（撤回同意）" in page and "下载个人信息副本" in page
    approved = applicant_client(app, make_application(app, status=ApplicationStatus.APPROVED))
    page = body(approved.get("/collection/summary"))
    assert "申请删除或更正个人信息" in page and "下载个人信息副本" in page


def test_an_incomplete_request_is_422_with_what_was_typed(submitted):
    response = submitted.client.post(SEND, data={"kind": "", "details": "  "})
    assert response.status_code == 422
    page = body(response)
    assert "请选择要更正还是删除" in page and "请写明需要删除或更正的内容和理由" in page
    assert "<html" in page and 'aria-invalid="true"' in page
    fragment = submitted.client.post(SEND, data={"kind": "bogus", "details": DETAILS},
                                     headers=htmx())
    assert fragment.status_code == 422
    assert body(fragment).lstrip().startswith('<form id="request-form"')
    assert DETAILS in body(fragment)
    too_long = submitted.client.post(SEND, data={"kind": "deletion", "details": "字" * 501})
    assert too_long.status_code == 422 and "最多500字" in body(too_long)


def test_a_request_goes_to_the_bureau_and_is_logged(app, submitted):
    response = submitted.client.post(SEND, data={"kind": "correction", "details": DETAILS},
                                     headers=htmx())
    assert response.status_code == 204 and response.headers["HX-Redirect"] == CLOSE
    page = body(submitted.client.get(CLOSE))
    assert "请求已发送至五华区财政局" in page
    assert "更正请求" in page and "待处理" in page and DETAILS in page
    [row] = audit_rows(app, "rights.request")
    assert row.subject == mask(submitted.id_number) and '"kind": "correction"' in row.details
    assert DETAILS not in row.details  # the log says that, not what


def test_one_open_request_at_a_time(submitted):
    sent(submitted)
    response = submitted.client.post(SEND, data={"kind": "deletion", "details": "请删除"})
    assert response.status_code == 422 and "已有一条请求正在处理" in body(response)


def test_a_draft_sends_no_request(app):
    person = make_application(app, status=ApplicationStatus.DRAFT)
    client = applicant_client(app, person)
    response = client.post(SEND, data={"kind": "deletion", "details": "请删除"}, headers=htmx())
    assert response.status_code == 422
    assert "您的信息尚未提交审核，可以直接修改，或注销账号删除全部信息" in body(response)
    assert client.post(SEND, data={"kind": "deletion", "details": "请删除"}).status_code == 422


# -- who may answer ------------------------------------------------------------------------------

@pytest.mark.parametrize("region", INSIDE, ids=["county", "prefecture", "province"])
def test_reviewers_covering_the_record_see_and_open_it(app, submitted, region):
    request_id = sent(submitted)
    client, _reviewer = staff_client(app, Role.REVIEWER, region)
    page = body(client.get("/review/requests"))
    assert f'href="/review/requests/{request_id}"' in page and "王五华" in page
    assert mask(submitted.id_number) in page and submitted.id_number not in page
    detail = body(client.get(f"/review/requests/{request_id}"))
    assert DETAILS in detail and 'id="answer-form"' in detail
    assert f'href="/review/{submitted.application_id}"' in detail


@pytest.mark.parametrize("region", OUTSIDE)
def test_reviewers_elsewhere_reach_nothing(app, submitted, region):
    request_id = sent(submitted)
    client, _reviewer = staff_client(app, Role.REVIEWER, region)
    assert f"/review/requests/{request_id}" not in body(client.get("/review/requests"))
    assert client.get(f"/review/requests/{request_id}").status_code == 404
    response = client.post(f"/review/requests/{request_id}/answer",
                           data={"outcome": "refused", "text": "不予办理"})
    assert response.status_code == 404
    assert request_row(app, request_id)["status"] == "open"


@pytest.mark.parametrize("role", [Role.ADMIN, Role.AUDITOR])
def test_administrators_and_auditors_do_not_answer(app, submitted, role):
    """Separation of duties: administrators see no application, so they answer no request."""
    request_id = sent(submitted)
    client, _member = staff_client(app, role, "530000")
    assert client.get("/review/requests").status_code == 404
    assert client.get(f"/review/requests/{request_id}").status_code == 404
    assert client.post(f"/review/requests/{request_id}/answer",
                       data={"outcome": "refused", "text": "x"}).status_code == 404


def test_applicants_reach_no_staff_page(app, submitted):
    request_id = sent(submitted)
    assert submitted.client.get("/review/requests").status_code == 404
    assert submitted.client.get(f"/review/requests/{request_id}").status_code == 404


# -- the answer ----------------------------------------------------------------------------------

@pytest.fixture
def reviewer(app):
    client, member = staff_client(app, Role.REVIEWER, "530102", name="李审核")
    client.member = member
    return client


@pytest.mark.parametrize("data, field, message", [
    ({"text": "已更正"}, "outcome", "请选择已办理或不予办理"),
    ({"outcome": "refused", "text": ""}, "text", "请填写不予办理的理由"),
    ({"outcome": "done", "text": ""}, "text", "请填写办理情况"),
    ({"outcome": "refused", "text": "理" * 501}, "text", "最多500字"),
])
def test_an_incomplete_answer_is_422(app, submitted, reviewer, data, field, message):
    request_id = sent(submitted)
    url = f"/review/requests/{request_id}/answer"
    response = reviewer.post(url, data=data)
    assert response.status_code == 422 and message in body(response)
    assert f'id="{field}-error"' in body(response) and "<html" in body(response)
    fragment = reviewer.post(url, data=data, headers=htmx())
    assert fragment.status_code == 422
    assert body(fragment).lstrip().startswith('<div id="answer-panel"')
    assert request_row(app, request_id)["status"] == "open"


def test_a_refusal_reaches_the_person_with_its_reason(app, outbox, submitted, reviewer):
    request_id = sent(submitted, "deletion", "本人申请删除全部信息")
    reason = "您仍在职从事会计工作，依照《会计法》和《会计人员管理办法》，信息须由财政局保存"
    response = reviewer.post(f"/review/requests/{request_id}/answer",
                             data={"outcome": "refused", "text": reason})
    assert response.status_code == 303 and response.headers["Location"].endswith("/review/requests")
    row = request_row(app, request_id)
    assert row["status"] == "refused" and row["answer"] == reason
    assert row["answered_by"] == reviewer.member.id
    assert record_left(app, submitted) == {"account": 1, "application": 1,
                                           "materials": record_left(app, submitted)["materials"]}
    page = body(submitted.client.get(CLOSE))
    assert "不予办理" in page and reason in page
    message = outbox_messages(outbox)[-1]
    assert message["to"] == submitted.phone and "已答复（不予办理）" in message["body"]
    [logged] = audit_rows(app, "rights.answer")
    assert logged.subject == mask(submitted.id_number) and '"outcome": "refused"' in logged.details
    assert "已处理" in body(reviewer.get("/review/requests?status=answered"))
    assert f"/review/requests/{request_id}" not in body(reviewer.get("/review/requests"))


def test_a_correction_done_over_htmx(app, submitted, reviewer):
    request_id = sent(submitted)
    response = reviewer.post(f"/review/requests/{request_id}/answer",
                             data={"outcome": "done", "text": "已退回，请修改工作信息后重新提交"},
                             headers=htmx())
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/review/requests"
    assert "已办理" in body(submitted.client.get(CLOSE))
    assert record_left(app, submitted)["application"] == 1  # a correction erases nothing


def test_a_deletion_agreed_erases_the_record_and_the_person_may_then_close(app, submitted,
                                                                           reviewer):
    assert submitted.client.post("/account/copy").status_code == 303
    request_id = sent(submitted, "deletion", "本人已不从事会计工作，申请删除")
    url = f"/review/requests/{request_id}/answer"
    unconfirmed = reviewer.post(url, data={"outcome": "done", "text": "已删除"})
    assert unconfirmed.status_code == 422 and "请确认删除" in body(unconfirmed)
    assert record_left(app, submitted)["application"] == 1
    response = reviewer.post(url, data={"outcome": "done", "text": "经核实已删除您的全部信息",
                                        "confirm": "y"})
    assert response.status_code == 303
    assert record_left(app, submitted) == {"account": 1, "application": 0, "materials": 0}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StoredFile)) == 0
        db.session.remove()
    page = body(submitted.client.get(CLOSE))
    assert "经核实已删除您的全部信息" in page and 'id="close-form"' in page
    [logged] = audit_rows(app, "rights.answer")
    assert re.search(r'"erased": \{[^}]*"materials": [1-9]', logged.details)
    assert reviewer.get(f"/review/requests/{request_id}").status_code == 200  # still listed


def test_two_reviewers_answer_one_after_the_other(app, submitted, reviewer):
    request_id = sent(submitted)
    other, _member = staff_client(app, Role.REVIEWER, "530100")
    url = f"/review/requests/{request_id}/answer"
    assert reviewer.post(url, data={"outcome": "done", "text": "已更正"}).status_code == 303
    late = other.post(url, data={"outcome": "refused", "text": "不予办理"})
    assert late.status_code == 409 and "已由其他审核员答复" in body(late)
    assert request_row(app, request_id)["status"] == "done"


def test_the_request_follows_the_record_s_jurisdiction_when_sent(app, submitted):
    request_id = sent(submitted)
    assert request_row(app, request_id)["jurisdiction"] == "530102"
