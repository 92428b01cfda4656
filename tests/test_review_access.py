"""Jurisdiction: who may reach each reviewer route and the proof photos.

One application whose 属地 is 五华区 (530102). Reviewers of 五华区, of 昆明市 (530100) and of the
province (530000) see it everywhere; the reviewer of the neighbouring 盘龙区 (530103), and of
another prefecture, get 404 and never find it in a list or an export. Applicants, administrators
and auditors get 404 on every /review route; reviewers get 404 on /admin and /audit; auditors
only read /audit."""
import io
import re

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from extensions import db
from models import ApplicationStatus, ReviewDecision, Role
from tests.factories import (
    applicant_client,
    application_row,
    audit_rows,
    make_application,
    make_staff,
    material_ids,
    staff_client,
)
from tests.helpers import full_export

INSIDE = ["530102", "530100", "530000"]
OUTSIDE = ["530103", "530300", "530302"]


def text(response) -> str:
    return response.get_data(as_text=True)


def listed_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/review/(\d+)[?"]', page)]


def exported_id_numbers(data: bytes) -> list[str]:
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    return [row[2] for row in sheet.iter_rows(min_row=2, values_only=True)]


def decisions(app) -> int:
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(ReviewDecision))
        db.session.remove()
    return count


@pytest.fixture
def target(app):
    """A pending application in 五华区 with its photos."""
    person = make_application(app, "530102", name="王五华")
    person.materials = material_ids(app, person.application_id)
    assert "id_photo" in person.materials and "work_proof" in person.materials
    return person


@pytest.mark.parametrize("region", INSIDE, ids=["county", "prefecture", "province"])
def test_reviewer_inside_the_jurisdiction_reaches_everything(app, target, region):
    client, reviewer = staff_client(app, Role.REVIEWER, region)
    aid = target.application_id

    page = text(client.get("/review"))
    assert aid in listed_ids(page) and "王五华" in page

    response = client.get(f"/review/{aid}")
    assert response.status_code == 200 and "审核决定" in text(response)

    response = client.post(f"/review/{aid}/reveal")
    assert response.status_code == 200 and target.id_number in text(response)

    for material_id in target.materials.values():
        for url in (f"/media/materials/{material_id}.jpg",
                    f"/media/materials/{material_id}-thumb.jpg"):
            response = client.get(url)
            assert response.status_code == 200, url
            assert response.headers["Content-Type"] == "image/jpeg"
            assert response.headers["Cache-Control"] == "private, no-store"

    response = full_export(client)
    assert response.status_code == 200
    assert exported_id_numbers(response.data) == [target.id_number]

    response = client.get("/review/progress")
    assert response.status_code == 200 and "<svg" in text(response)

    response = client.post(f"/review/{aid}/decide", data={"decision": "approve"})
    assert response.status_code == 303
    assert application_row(app, aid)["status"] == ApplicationStatus.APPROVED
    assert decisions(app) == 1


@pytest.mark.parametrize("region", OUTSIDE, ids=["neighbour-county", "other-prefecture",
                                                 "county-of-other-prefecture"])
def test_reviewer_outside_the_jurisdiction_gets_404(app, target, region):
    client, reviewer = staff_client(app, Role.REVIEWER, region)
    aid = target.application_id
    for status in ("pending", "rejected", "approved"):
        page = text(client.get("/review", query_string={"status": status}))
        assert aid not in listed_ids(page) and "王五华" not in page
    # searching by the full ID number or the phone does not reach across either
    for query in (target.id_number, target.phone, "王五华"):
        page = text(client.get("/review", query_string={"q": query}))
        assert aid not in listed_ids(page) and "没有符合条件的申报" in page
    # nor does asking for the county by its code
    page = text(client.get("/review", query_string={"county": "530102"}))
    assert aid not in listed_ids(page)

    assert client.get(f"/review/{aid}").status_code == 404
    assert client.post(f"/review/{aid}/reveal").status_code == 404
    response = client.post(f"/review/{aid}/decide", data={"decision": "approve"})
    assert response.status_code == 404
    for material_id in target.materials.values():
        assert client.get(f"/media/materials/{material_id}.jpg").status_code == 404
        assert client.get(f"/media/materials/{material_id}-thumb.jpg").status_code == 404

    response = client.get("/review/export.xlsx")
    assert response.status_code == 200 and exported_id_numbers(response.data) == []
    response = client.get("/review/export.xlsx", query_string={"county": "530102",
                                                                "q": target.id_number})
    assert exported_id_numbers(response.data) == []

    page = text(client.get("/review/progress"))
    assert "五华区" not in page

    assert application_row(app, aid)["status"] == ApplicationStatus.PENDING
    assert decisions(app) == 0
    assert audit_rows(app, "id.reveal") == [] and audit_rows(app, "image.view") == []


def test_a_draft_is_not_shown_to_the_reviewer(app):
    draft = make_application(app, "530102", ApplicationStatus.DRAFT)
    client, _reviewer = staff_client(app, Role.REVIEWER, "530102")
    assert client.get(f"/review/{draft.application_id}").status_code == 404
    assert client.post(f"/review/{draft.application_id}/decide",
                       data={"decision": "approve"}).status_code == 404
    assert application_row(app, draft.application_id)["status"] == ApplicationStatus.DRAFT


def _review_requests(aid):
    return [("get", "/review"), ("get", f"/review/{aid}"), ("post", f"/review/{aid}/reveal"),
            ("post", f"/review/{aid}/decide"), ("get", "/review/export.xlsx"),
            ("get", "/review/progress")]


def _nobody_decided(app, aid):
    assert application_row(app, aid)["status"] == ApplicationStatus.PENDING
    assert decisions(app) == 0
    assert audit_rows(app, "id.reveal") == [] and audit_rows(app, "review.export") == []


@pytest.mark.parametrize("role", [Role.ADMIN, Role.AUDITOR])
def test_admins_and_auditors_get_404_on_review_routes(app, target, role):
    client, _member = staff_client(app, role, "530000")
    aid = target.application_id
    for method, url in _review_requests(aid):
        response = getattr(client, method)(url, data={"decision": "approve"} if method == "post"
                                           else None)
        assert response.status_code == 404, (role, url)
    for material_id in target.materials.values():
        assert client.get(f"/media/materials/{material_id}.jpg").status_code == 404
    _nobody_decided(app, aid)


def test_applicants_get_404_on_review_routes_even_for_their_own(app, target):
    owner = applicant_client(app, target)
    stranger = applicant_client(app, make_application(app, "530102", ApplicationStatus.DRAFT))
    for client in (owner, stranger):
        for method, url in _review_requests(target.application_id):
            response = getattr(client, method)(url, data={"decision": "approve"}
                                               if method == "post" else None)
            assert response.status_code == 404, url
    _nobody_decided(app, target.application_id)
    # the owner sees their own photos; another applicant does not
    for material_id in target.materials.values():
        assert owner.get(f"/media/materials/{material_id}.jpg").status_code == 200
        assert stranger.get(f"/media/materials/{material_id}.jpg").status_code == 404


def test_anonymous_is_sent_to_login(client, target):
    for method, url in _review_requests(target.application_id):
        response = getattr(client, method)(url)
        assert response.status_code == 303, url
        assert response.headers["Location"].startswith("/login"), url
    response = client.get(f"/media/materials/{target.materials['id_photo']}.jpg")
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")


def admin_requests(account_id):
    return [("get", "/admin/staff"), ("get", "/admin/staff/new"), ("post", "/admin/staff/new"),
            ("post", f"/admin/staff/{account_id}/enable"),
            ("get", f"/admin/staff/{account_id}/region"),
            ("post", f"/admin/staff/{account_id}/region"),
            ("post", f"/admin/staff/{account_id}/reset-password"), ("get", "/admin/imports")]


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.AUDITOR, Role.APPLICANT])
def test_only_admins_reach_admin_pages(app, role):
    other = make_staff(app, Role.REVIEWER, "530103")
    if role == Role.APPLICANT:
        client = applicant_client(app, make_application(app, "530102"))
    else:
        client, _member = staff_client(app, role, "530102")
    for method, url in admin_requests(other.id):
        assert getattr(client, method)(url, data={"region": "530000"}).status_code == 404, url
    assert len(audit_rows(app, "staff.disable")) == len(audit_rows(app, "staff.region")) == 0
    assert audit_rows(app, "staff.reset_password") == []
    admin, _admin = staff_client(app, Role.ADMIN, "530000")
    for method, url in admin_requests(other.id)[:2] + admin_requests(other.id)[-1:]:
        assert getattr(admin, method)(url).status_code == 200, url


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.ADMIN, Role.APPLICANT])
def test_only_auditors_read_the_audit_log(app, role):
    if role == Role.APPLICANT:
        client = applicant_client(app, make_application(app, "530102"))
    else:
        client, _member = staff_client(app, role, "530102")
    assert client.get("/audit").status_code == 404
    assert client.get("/audit", query_string={"action": "login"}).status_code == 404


def test_auditors_only_read(app, target):
    client, _auditor = staff_client(app, Role.AUDITOR, "530000")
    response = client.get("/audit")
    assert response.status_code == 200 and "审计日志" in text(response)
    assert client.post("/audit").status_code == 405
    for url in ("/collection", "/collection/summary", "/review", "/admin/staff"):
        assert client.get(url).status_code == 404, url
    response = client.get("/home")
    assert response.status_code == 302 and response.headers["Location"] == "/audit"


def test_staff_start_on_their_own_page(app):
    for role, home in ((Role.REVIEWER, "/review"), (Role.ADMIN, "/admin/staff"),
                       (Role.AUDITOR, "/audit")):
        client, _member = staff_client(app, role, "530102")
        assert client.get("/home").headers["Location"] == home


def test_reviewer_cannot_reach_the_collection(app):
    client, _reviewer = staff_client(app, Role.REVIEWER, "530102")
    for url in ("/collection", "/collection/summary", "/collection/basic"):
        assert client.get(url).status_code == 404
    assert client.post("/collection/submit").status_code == 404


def test_moving_a_reviewer_moves_what_they_see(app, target):
    """The jurisdiction is read at every request, not remembered from the login."""
    client, reviewer = staff_client(app, Role.REVIEWER, "530102")
    assert client.get(f"/review/{target.application_id}").status_code == 200
    from domain.regions import get_region
    from models import Account
    with app.app_context():
        db.session.get(Account, reviewer.id).region_code = get_region("530103").code
        db.session.commit()
        db.session.remove()
    assert client.get(f"/review/{target.application_id}").status_code == 404
    assert target.application_id not in listed_ids(text(client.get("/review")))
