"""个人信息副本: a person asks for a copy of everything held about them; a job builds one ZIP
(index.html, data.json, their photos); they alone download it until it expires; asking,
building and every download are audit-logged. The list of who viewed their full ID number or
photos names the staff's role and bureau, never their name, and only this person's record."""
import io
import json
import zipfile
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from domain import personal_copy
from domain.id_numbers import mask
from extensions import db
from models import ApplicationStatus, Material, Role, StoredFile, utcnow
from tests.factories import (
    applicant_client,
    audit_rows,
    make_application,
    material_ids,
    staff_client,
)
from tests.helpers import body, htmx, make_id

URL = "/account/copy"
REASON_NOTE = "工作证明上的单位名称与填写的不一致"


def copy_link(page: str) -> str:
    start = page.index('href="/account/copy/') + len('href="')
    return page[start:page.index('"', start)]


def made_copy(client):
    response = client.post(URL)
    assert response.status_code == 303 and response.headers["Location"].endswith(URL)
    page = body(client.get(URL))
    assert "副本已生成" in page, page[-2000:]
    return copy_link(page)


def opened(response) -> tuple[zipfile.ZipFile, dict, str]:
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    data = json.loads(archive.read("data.json"))
    return archive, data, archive.read("index.html").decode("utf-8")


def twin_id(id_number: str) -> str:
    """Another valid number that masks the same: same region, same last four characters."""
    for days in range(1, 4000):
        born = date(1985, 1, 1) + timedelta(days=days)
        candidate = make_id(id_number[:6], f"{born:%Y%m%d}", id_number[14:17])
        if candidate != id_number and candidate[-4:] == id_number[-4:]:
            return candidate
    raise AssertionError("no twin found")


@pytest.fixture
def reviewed(app):
    """A rejected application in 五华区 whose number a reviewer revealed and whose photos the
    reviewer opened; and another person whose number masks the same, seen by the same
    reviewer — none of which may appear in the first person's copy."""
    person = make_application(app, "530102", name="王五华")
    twin = make_application(app, "530102", name="赵同号", id_number=twin_id(person.id_number))
    assert mask(twin.id_number) == mask(person.id_number)
    reviewer_client, reviewer = staff_client(app, Role.REVIEWER, "530102", name="李审核")
    materials = material_ids(app, person.application_id)
    assert reviewer_client.post(f"/review/{person.application_id}/reveal").status_code == 200
    assert reviewer_client.get(f"/media/materials/{materials['id_photo']}.jpg").status_code == 200
    assert reviewer_client.get(
        f"/media/materials/{materials['work_proof']}-thumb.jpg").status_code == 200
    assert reviewer_client.post(f"/review/{twin.application_id}/reveal").status_code == 200
    twin_photo = material_ids(app, twin.application_id)["id_photo"]
    assert reviewer_client.get(f"/media/materials/{twin_photo}.jpg").status_code == 200
    response = reviewer_client.post(f"/review/{person.application_id}/decide", data={
        "decision": "reject", "reasons": ["工作证明未加盖公章"], "note": REASON_NOTE,
        "reopen": ["materials"]})
    assert response.status_code == 303
    person.reviewer = reviewer
    return person


def test_the_copy_holds_everything_and_names_no_staff(app, reviewed):
    client = applicant_client(app, reviewed)
    response = client.get(made_copy(client))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "attachment;" in response.headers["Content-Disposition"]
    archive, data, html = opened(response)

    account = {row["key"]: row["value"] for row in data["account"]}
    assert account["id_number"] == reviewed.id_number and account["phone"] == reviewed.phone
    assert account["name"] == "王五华"
    assert [s["title"] for s in data["sections"]] == ["基本信息", "工作信息", "学历信息",
                                                      "专业技术资格信息"]
    work = {row["label"]: row["value"] for row in data["sections"][1]["rows"]}
    assert work["工作单位名称"] == "云南某某会计服务有限公司" and work["单位所在县（市、区）"] == "五华区"
    assert data["application"]["status_label"] == "审核失败"
    assert data["application"]["bureau"] == "五华区财政局"

    with app.app_context():
        stored = {m.kind: m.content for m in db.session.scalars(sa.select(Material).where(
            Material.application_id == reviewed.application_id))}
        db.session.remove()
    assert {m["kind"] for m in data["materials"]} == set(stored)
    for material in data["materials"]:
        assert archive.read(material["file"]) == stored[material["kind"]]
        assert f'src="{material["file"]}"' in html

    [decision] = data["decisions"]
    assert decision["outcome"] == "不通过" and decision["reasons"] == ["工作证明未加盖公章"]
    assert decision["note"] == REASON_NOTE and decision["reopened"] == ["证明材料"]
    assert decision["by"] == {"role": "审核员", "bureau": "五华区财政局"}

    views = data["views"]
    assert [v["what"] for v in views] == ["查看了完整证件号码和手机号码", "查看了证明材料图片",
                                          "查看了证明材料图片"]
    assert [v.get("material") for v in views] == [None, "1寸白底证件照", "工作证明"]
    assert [v.get("variant") for v in views] == [None, "原图", "缩略图"]
    assert all(v["by"] == {"role": "审核员", "bureau": "五华区财政局"} for v in views)

    everything = html + json.dumps(data, ensure_ascii=False)
    assert "李审核" not in everything and reviewed.reviewer.id_number not in everything
    assert "赵同号" not in everything
    for words in ("王五华", REASON_NOTE, "五华区财政局审核员", "查看了证明材料图片", "云南财经大学"):
        assert words in html, words
    assert sorted(archive.namelist())[:2] == ["data.json", "images/education_full_time.jpg"]


def test_the_copy_includes_drafts_requests_and_logins(app):
    person = make_application(app, status=ApplicationStatus.DRAFT)
    client = applicant_client(app, person)
    client.post("/collection/basic/draft", data={"address": "昆明市盘龙区新地址8号"})
    _archive, data, html = opened(client.get(made_copy(client)))
    assert data["application"]["submitted_at"] is None
    [draft] = data["drafts"]
    assert draft["title"] == "基本信息"
    assert {"name": "address", "label": "通讯地址", "values": ["昆明市盘龙区新地址8号"]} \
        in draft["fields"]
    assert data["logins"] and data["logins"][0]["ip"] == "127.0.0.1"
    assert data["views"] == [] and data["decisions"] == []
    assert "没有工作人员查看过" in html


def test_asking_building_and_downloading_are_audit_logged(app):
    person = make_application(app)
    client = applicant_client(app, person)
    link = made_copy(client)
    client.get(link)
    client.get(link)
    subject = mask(person.id_number)
    for action, times in (("copy.request", 1), ("copy.build", 1), ("copy.download", 2)):
        rows = audit_rows(app, action)
        assert len(rows) == times and all(r.subject == subject for r in rows), action


def test_the_page_and_its_fragment(app):
    person = make_application(app)
    client = applicant_client(app, person)
    page = body(client.get(URL))
    assert "<h1>个人信息副本</h1>" in page and "生成个人信息副本" in page
    assert "保留7天" in page
    fragment = client.get(URL, headers=htmx())
    assert fragment.status_code == 200
    assert body(fragment).lstrip().startswith('<div id="copy-status"')
    response = client.post(URL, headers=htmx())
    assert response.status_code == 204 and response.headers["HX-Redirect"] == URL
    assert "下载个人信息副本（ZIP）" in body(client.get(URL, headers=htmx()))


def test_a_copy_being_built_is_followed_every_two_seconds(app, monkeypatch):
    person = make_application(app)
    client = applicant_client(app, person)
    monkeypatch.setattr(app.extensions["jobs"], "push", lambda job_id, kind="": None)  # not run yet
    assert client.post(URL).status_code == 303
    assert client.post(URL).status_code == 303  # a second press waits for the same job
    fragment = body(client.get(URL, headers=htmx()))
    assert "正在生成" in fragment and 'hx-trigger="every 2s"' in fragment
    assert len(audit_rows(app, "copy.request")) == 1


def test_a_new_copy_replaces_the_last_and_expires_after_seven_days(app):
    person = make_application(app)
    client = applicant_client(app, person)
    made_copy(client)
    second = made_copy(client)
    with app.app_context():
        [stored] = db.session.scalars(sa.select(StoredFile).where(
            StoredFile.owner_id == person.account_id)).all()
        assert stored.purpose == "copy"
        assert timedelta(days=6, hours=23) < stored.expires_at - utcnow() <= timedelta(days=7)
        stored.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        db.session.remove()
    assert client.get(second).status_code == 404
    assert "已超过保留期限" in body(client.get(URL))


def test_too_many_copies_in_a_day_is_429(app, monkeypatch):
    monkeypatch.setattr(personal_copy, "MAX_PER_DAY", 2)
    person = make_application(app)
    client = applicant_client(app, person)
    made_copy(client)
    made_copy(client)
    response = client.post(URL)
    assert response.status_code == 429 and "每天最多生成2次" in body(response)
    fragment = client.post(URL, headers=htmx())
    assert fragment.status_code == 429
    assert body(fragment).lstrip().startswith('<div id="copy-status"')


def test_only_its_owner_downloads_a_copy(app):
    person = make_application(app)
    link = made_copy(applicant_client(app, person))
    other = applicant_client(app, make_application(app))
    assert other.get(link).status_code == 404
    for role, region in ((Role.REVIEWER, "530102"), (Role.REVIEWER, "530000"),
                         (Role.ADMIN, "530000"), (Role.AUDITOR, "530000")):
        client, _member = staff_client(app, role, region)
        assert client.get(link).status_code == 404, role
        assert client.get(URL).status_code == 404, role
        assert client.post(URL).status_code == 404, role
    assert app.test_client().get(link).status_code == 303  # to the login page
    assert audit_rows(app, "copy.download") == []


def test_a_stored_file_of_another_purpose_is_not_a_copy(app):
    person = make_application(app)
    with app.app_context():
        stored = StoredFile(owner_id=person.account_id, purpose="export", filename="x.xlsx",
                            content_type="application/zip", content=b"x", size_bytes=1,
                            expires_at=utcnow() + timedelta(days=1))
        db.session.add(stored)
        db.session.commit()
        file_id = stored.id
        db.session.remove()
    assert applicant_client(app, person).get(f"{URL}/{file_id}.zip").status_code == 404
