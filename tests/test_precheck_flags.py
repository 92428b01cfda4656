"""The machine pre-checks in the app (domain/prechecks.py): the job queued after an upload, a
replacement, the 1-inch photo's confirmation and a changed answer; what is stored per material;
the flags on the reviewer's detail page; the list filter 机器核对有疑点; who sees what.

Tests marked with the `engines` fixture read generated pictures (tests/precheck_images.py) with
the real engines, loaded once per test session; the others put a stand-in engine behind the same
job, so they run without the engines installed."""
import html
import io
import json
import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

import precheck
from domain import prechecks, review_queue
from extensions import db
from jobs.handlers import HANDLERS
from models import (
    Account,
    Application,
    Job,
    JobStatus,
    Material,
    MaterialPrecheck,
)
from precheck import faces, ocr
from precheck.result import FieldResult, summarise
from tests import precheck_images as pictures
from tests.factories import (
    document_jpeg,
    form_answers,
    make_application,
    make_applications,
    save_section,
    staff_client,
    submit,
    unique_phone,
    upload,
)
from tests.helpers import htmx, register

SEED = 100
BASE = datetime(2025, 3, 1, 2, 0, 0)


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def checks_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "PRECHECK_ENABLED", True)


@pytest.fixture
def reviewer(app):
    return staff_client(app)[0]


class StandIn:
    """An engine that answers what the test says, behind the real job (Subject.run)."""

    def __init__(self):
        self.answers: dict[str, precheck.Result] = {}
        self.calls: list[tuple] = []

    def run(self, subject, image):
        self.calls.append((subject.check, subject.values))
        return self.answers.get(subject.check) or summarise(
            subject.check, {"x": FieldResult(precheck.MATCH, "一致")}, 5, "stand-in 1.0")


@pytest.fixture
def stand_in(monkeypatch, checks_on):
    engine = StandIn()
    monkeypatch.setattr(prechecks.Subject, "run", lambda subject, image: engine.run(subject,
                                                                                   image))
    return engine


def id_mismatch(read="530102********1234") -> precheck.Result:
    return summarise("id_card", {
        "id_number": FieldResult(precheck.MISMATCH, f"证件号码不一致：识别为{read}（第12位不同）",
                                 read, 0.98),
        "name": FieldResult(precheck.MATCH, "姓名与填写一致", "张三", 0.99)}, 412, "stand-in 1.0")


# -- an applicant whose typed values are those of the generated pictures ------------------------

class Applicant:
    """Registered over HTTP with the ID number and name on the generated card of `seed`; the
    four sections answered with the certificate numbers on that seed's certificates."""

    def __init__(self, app, client, outbox, seed=SEED):
        card = pictures.id_card_sample(seed, "clear")
        self.app, self.client, self.seed = app, client, seed
        self.id_number, self.name = card.typed["id_number"], card.typed["name"]
        self.education_number = pictures.certificate_sample(
            seed, "education").typed["certificate_number"]
        self.qualification_number = pictures.certificate_sample(
            seed, "accounting").typed["certificate_number"]
        response = register(client, outbox, self.id_number, unique_phone("136"), name=self.name)
        assert response.status_code == 303, text(response)[-2000:]
        answers = form_answers()
        answers["education"]["full_time-certificate_number"] = self.education_number
        answers["qualification"]["records-0-certificate_number"] = self.qualification_number
        for key, data in answers.items():
            save_section(client, key, data)
        self.answers = answers

    def upload(self, kind, data):
        response = upload(self.client, kind, data)
        assert response.status_code == 303, text(response)[-2000:]
        if kind == "id_photo":
            assert self.client.post("/collection/materials/id_photo/preview").status_code == 303

    def upload_all(self, **pictures_by_kind):
        """Every required material: the given pictures, a plain document for the rest."""
        defaults = {"id_photo": pictures.portrait_sample(self.seed, "one").image,
                    "id_front": document_jpeg(), "id_back": document_jpeg(),
                    "work_proof": document_jpeg(), "education_full_time": document_jpeg(),
                    "qualification_junior": document_jpeg()}
        for kind, data in {**defaults, **pictures_by_kind}.items():
            self.upload(kind, data)

    @property
    def application_id(self) -> int:
        with self.app.app_context():
            account = db.session.scalar(sa.select(Account).where(
                Account.id_number == self.id_number))
            found = db.session.scalar(sa.select(Application.id).where(
                Application.account_id == account.id))
            db.session.remove()
        return found


@pytest.fixture
def person(app, client, outbox):
    return Applicant(app, client, outbox)


def stored(app, application_id) -> dict[str, dict]:
    """The kept results by material kind, each with `current`: made from the kept picture."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(Material.kind, Material.sha256, MaterialPrecheck)
            .join(MaterialPrecheck, MaterialPrecheck.material_id == Material.id)
            .where(Material.application_id == application_id)).all()
        found = {kind: {"status": row.status, "message": row.message, "result": row.result,
                        "confidence": row.confidence, "duration_ms": row.duration_ms,
                        "engine": row.engine, "current": row.sha256 == sha}
                 for kind, sha, row in rows}
        db.session.remove()
    return found


def doubt(app, application_id) -> bool:
    with app.app_context():
        value = db.session.get(Application, application_id).precheck_doubt
        db.session.remove()
    return value


def check_jobs(app) -> list[Job]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Job).where(Job.kind == prechecks.JOB_KIND)
                                       .order_by(Job.id)))
        db.session.expunge_all()
        db.session.remove()
    return rows


def flags_on_page(page: str) -> dict[str, str]:
    """Each photo tile's title → the text of its flag (tags stripped, spaces collapsed)."""
    found = {}
    for figure in re.findall(r'<figure class="viewer">(.*?)</figure>', page, re.S):
        title = re.search(r'<span class="viewer__title">(.*?)</span>', figure).group(1)
        flag = re.search(r'<div class="precheck precheck--(\w+)">(.*?)</div>', figure, re.S)
        if flag:
            words = " ".join(re.sub(r"<[^>]+>", " ", flag.group(2)).split())
            found[title] = f"{flag.group(1)}: {html.unescape(words)}"
    return found


# -- when checks run, and what is stored --------------------------------------------------------

def test_the_job_kind_is_registered_and_labelled():
    from domain.job_admin import KIND_LABELS
    assert HANDLERS[prechecks.JOB_KIND] == "domain.prechecks:run_check_job"
    assert KIND_LABELS[prechecks.JOB_KIND] == "材料机器核对"


def test_an_id_card_as_typed_is_stored_as_a_match(app, person, engines, checks_on):
    person.upload("id_front", pictures.id_card_sample(SEED, "clear").image)
    result = stored(app, person.application_id)["id_front"]
    assert result["status"] == precheck.MATCH and result["current"]
    assert result["message"] == "证件号码与填写一致；姓名与填写一致"
    masked = person.id_number[:6] + "********" + person.id_number[-4:]
    assert result["result"]["fields"]["id_number"]["read"] == masked
    assert person.id_number not in json.dumps(result, ensure_ascii=False)
    assert 0.5 <= result["confidence"] <= 1 and result["duration_ms"] > 0
    assert result["engine"].startswith("rapidocr-onnxruntime 1.4.4")
    assert not doubt(app, person.application_id)
    [job] = check_jobs(app)
    assert job.status == JobStatus.DONE and job.result["kept"] is True


def test_a_card_one_digit_away_is_a_mismatch_and_a_doubt(app, person, engines, checks_on):
    card = pictures.id_card_sample(SEED, "wrong_digit")
    assert card.typed["id_number"] == person.id_number
    person.upload("id_front", card.image)
    result = stored(app, person.application_id)["id_front"]
    assert result["status"] == precheck.MISMATCH
    shown = card.shown["id_number"]
    assert result["result"]["fields"]["id_number"]["read"] == shown[:6] + "********" + shown[-4:]
    assert shown not in json.dumps(result, ensure_ascii=False)
    assert doubt(app, person.application_id)


def test_a_replaced_picture_never_shows_the_old_result(app, person, engines, checks_on):
    person.upload("id_front", pictures.id_card_sample(SEED, "wrong_digit").image)
    assert doubt(app, person.application_id)
    person.upload("id_front", pictures.id_card_sample(SEED, "clear").image)
    result = stored(app, person.application_id)["id_front"]
    assert (result["status"], result["current"]) == (precheck.MATCH, True)
    assert not doubt(app, person.application_id)
    assert [job.result["kept"] for job in check_jobs(app)] == [True, True]


def test_a_check_of_a_picture_replaced_meanwhile_is_not_kept(app, person, stand_in):
    """The picture is replaced while the engine reads the old one: the old one's result is
    thrown away, the new picture's own job keeps its result."""
    replaced = []

    def replace_while_reading(subject, image):
        if not replaced:
            replaced.append(True)
            person.upload("id_front", pictures.id_card_sample(SEED, "clear").image)
        return id_mismatch()

    stand_in.run = replace_while_reading
    person.upload("id_front", document_jpeg())
    jobs = check_jobs(app)
    # The inner upload's job ran (and kept its result) before the outer one finished.
    assert [job.result["kept"] for job in jobs] == [False, True]
    result = stored(app, person.application_id)["id_front"]
    assert result["current"] and result["status"] == precheck.MISMATCH


def test_a_stored_result_of_another_picture_is_not_shown(app, person, stand_in, reviewer):
    person.upload_all()
    submit(person.client)
    with app.app_context():      # a result whose picture changed without a new check
        db.session.execute(sa.update(Material).where(Material.kind == "id_front")
                           .values(sha256="0" * 64))
        db.session.commit()
        db.session.remove()
    page = text(reviewer.get(f"/review/{person.application_id}"))
    assert flags_on_page(page)["身份证正面"] == "not_checked: – 机器核对：未检查 尚无核对结果"


def test_a_job_for_an_old_picture_is_skipped(app, person, stand_in):
    person.upload("id_front", document_jpeg())
    with app.app_context():
        material = db.session.scalar(sa.select(Material).where(Material.kind == "id_front"))
        job = Job(kind=prechecks.JOB_KIND, payload={"material_id": material.id,
                                                     "sha256": "f" * 64})
        assert prechecks.run_check_job(job) == {"kept": False, "why": "replaced"}
        job.payload["sha256"] = material.sha256
        assert prechecks.run_check_job(job) == {"kept": False, "why": "already checked"}
        db.session.remove()
    assert len(stand_in.calls) == 1


def test_what_is_checked_against_what(app, person, stand_in):
    person.upload_all()
    checked = sorted(stand_in.calls)
    assert checked == sorted([
        ("portrait", ()),
        ("id_card", ("居民身份证", person.id_number, person.name)),
        ("certificate", (person.education_number, person.name)),
        ("certificate", (person.qualification_number, person.name)),
    ])
    results = stored(app, person.application_id)
    assert set(results) == {"id_photo", "id_front", "education_full_time",
                            "qualification_junior"}   # not the back, not the work certificate


def test_the_1_inch_photo_is_checked_once_confirmed(app, person, engines, checks_on):
    response = upload(person.client, "id_photo", pictures.portrait_sample(SEED, "one").image)
    assert response.status_code == 303
    assert check_jobs(app) == [] and stored(app, person.application_id) == {}
    assert person.client.post("/collection/materials/id_photo/preview").status_code == 303
    result = stored(app, person.application_id)["id_photo"]
    assert (result["status"], result["message"]) == (precheck.MATCH, "检测到1张人脸，位置正常")
    assert result["engine"].startswith("opencv 4.")


def test_a_new_1_inch_photo_replaces_the_old_result(app, person, stand_in):
    two_faces = summarise("portrait", {"face": FieldResult(precheck.MISMATCH, "检测到2张人脸",
                                                           "2")}, 20, "stand-in 1.0")
    stand_in.answers["portrait"] = two_faces
    person.upload("id_photo", pictures.portrait_sample(SEED, "one").image)
    assert stored(app, person.application_id)["id_photo"]["status"] == precheck.MISMATCH
    assert doubt(app, person.application_id)
    del stand_in.answers["portrait"]
    person.upload("id_photo", pictures.portrait_sample(SEED + 1, "one").image)
    result = stored(app, person.application_id)["id_photo"]
    assert (result["status"], result["current"]) == (precheck.MATCH, True)
    assert not doubt(app, person.application_id)


def test_certificates_against_their_typed_numbers(app, person, engines, checks_on):
    person.upload("education_full_time",
                  pictures.certificate_sample(SEED, "education", "clear").image)
    wrong = pictures.certificate_sample(SEED, "accounting", "wrong_number")
    person.upload("qualification_junior", wrong.image)
    results = stored(app, person.application_id)
    assert results["education_full_time"]["message"] == "证书编号与填写一致；姓名与填写一致"
    assert results["qualification_junior"]["status"] == precheck.MISMATCH
    assert results["qualification_junior"]["message"].startswith(
        f"证书编号不一致：识别为{wrong.shown['certificate_number']}（第")
    assert doubt(app, person.application_id)


def test_a_changed_answer_is_checked_again(app, person, stand_in):
    person.upload("qualification_junior", document_jpeg())
    person.upload("education_full_time", document_jpeg())
    assert len(stand_in.calls) == 2
    stand_in.answers["certificate"] = summarise("certificate", {"certificate_number": FieldResult(
        precheck.MISMATCH, "证书编号不一致：识别为Z1（第2位不同）", "Z1", 0.9)}, 5, "stand-in 1.0")
    qualification = {**person.answers["qualification"], "records-0-certificate_number": "Z2"}
    save_section(person.client, "qualification", qualification)
    assert stand_in.calls[-1] == ("certificate", ("Z2", person.name))
    assert len(stand_in.calls) == 3                   # the degree's number did not change
    results = stored(app, person.application_id)
    assert results["qualification_junior"]["status"] == precheck.MISMATCH
    assert results["education_full_time"]["status"] == precheck.MATCH
    assert doubt(app, person.application_id)
    save_section(person.client, "qualification", qualification)      # saved as it was
    assert len(stand_in.calls) == 3
    save_section(person.client, "qualification", {"has": "no"})    # the record is gone
    assert "qualification_junior" not in stored(app, person.application_id)
    assert not doubt(app, person.application_id)


def test_submission_asks_for_the_checks_a_picture_lacks(app, person, stand_in, monkeypatch):
    monkeypatch.setitem(app.config, "PRECHECK_ENABLED", False)
    person.upload_all()
    assert stand_in.calls == [] and check_jobs(app) == []
    monkeypatch.setitem(app.config, "PRECHECK_ENABLED", True)
    submit(person.client)
    assert len(stand_in.calls) == 4
    assert {r["status"] for r in stored(app, person.application_id).values()} == {precheck.MATCH}


# -- an absent or failing engine: 未检查, never an error page -------------------------------------

@pytest.fixture
def no_engines(monkeypatch):
    monkeypatch.setattr(ocr, "available", lambda: False)
    monkeypatch.setattr(faces, "available", lambda: False)


def test_without_the_engines_every_check_is_not_checked(app, person, checks_on, no_engines,
                                                        reviewer):
    person.upload_all()
    results = stored(app, person.application_id)
    assert len(results) == 4
    assert {(r["status"], r["message"]) for r in results.values()} == \
        {(precheck.NOT_CHECKED, "未检查：识别组件未安装")}
    submit(person.client)
    response = reviewer.get(f"/review/{person.application_id}")
    assert response.status_code == 200
    flags = flags_on_page(text(response))
    assert flags["身份证正面"] == "not_checked: – 机器核对：未检查 识别组件未安装"
    assert flags["身份证反面"] == "not_checked: – 机器核对：未检查 此类材料不做机器核对"
    assert not doubt(app, person.application_id)


def test_a_failing_engine_is_not_checked(app, person, engines, checks_on, monkeypatch, caplog):
    def broken(picture):
        raise RuntimeError("onnxruntime exploded")

    monkeypatch.setattr(ocr, "read", broken)
    person.upload("id_front", pictures.id_card_sample(SEED, "clear").image)
    result = stored(app, person.application_id)["id_front"]
    assert (result["status"], result["message"]) == (precheck.NOT_CHECKED, "未检查：识别出错")
    assert "onnxruntime exploded" in caplog.text


def test_a_job_that_fails_leaves_the_flag_unchecked(app, person, checks_on, monkeypatch,
                                                    reviewer):
    def crash(subject, image):
        raise RuntimeError("worker out of memory")

    monkeypatch.setattr(prechecks.Subject, "run", crash)
    person.upload_all()
    jobs = check_jobs(app)
    assert jobs and {job.status for job in jobs} == {JobStatus.FAILED}
    submit(person.client)
    response = reviewer.get(f"/review/{person.application_id}")
    assert response.status_code == 200
    assert flags_on_page(text(response))["身份证正面"] == \
        "not_checked: – 机器核对：未检查 尚无核对结果"


def test_with_the_checks_off_nothing_is_queued(app, person, reviewer):
    assert app.config["PRECHECK_ENABLED"] is False            # the test configuration
    person.upload_all()
    submit(person.client)
    assert check_jobs(app) == []
    flags = flags_on_page(text(reviewer.get(f"/review/{person.application_id}")))
    assert flags["1寸白底证件照"] == "not_checked: – 机器核对：未检查 机器核对未开启"


# -- the reviewer's detail page -----------------------------------------------------------------

def test_the_flags_on_the_detail_page(app, person, engines, checks_on, reviewer):
    person.upload_all(
        id_front=pictures.id_card_sample(SEED, "wrong_digit").image,
        education_full_time=pictures.certificate_sample(SEED, "education", "clear").image,
        qualification_junior=pictures.certificate_sample(SEED, "accounting", "unreadable").image)
    submit(person.client)
    page = text(reviewer.get(f"/review/{person.application_id}"))
    flags = flags_on_page(page)
    shown = pictures.id_card_sample(SEED, "wrong_digit").shown["id_number"]
    assert flags["身份证正面"].startswith(
        f"mismatch: ✗ 机器核对：不一致 证件号码不一致：识别为{shown[:6]}********{shown[-4:]}（第")
    assert "位不同） 姓名与填写一致 置信度" in flags["身份证正面"]
    assert re.search(r"置信度\d+%，用时(\d+毫秒|\d+\.\d秒) rapidocr-onnxruntime", flags["身份证正面"])
    assert flags["1寸白底证件照"].startswith("match: ✓ 机器核对：一致 检测到1张人脸，位置正常")
    assert flags["全日制最高学历（学位）证书"].startswith(
        "match: ✓ 机器核对：一致 证书编号与填写一致 姓名与填写一致")
    assert flags["会计专业技术资格证书（初级）"].startswith(
        "unreadable: ? 机器核对：未识别 未能识别证书编号 未能识别姓名")
    assert flags["身份证反面"] == "not_checked: – 机器核对：未检查 此类材料不做机器核对"
    assert flags["工作证明"] == "not_checked: – 机器核对：未检查 此类材料不做机器核对"
    # Said in words, not by colour alone; the icon is decoration.
    assert page.count('class="precheck__icon" aria-hidden="true"') == 6
    assert "仅供参考，不作为审核结论" in page
    assert person.id_number not in page and shown not in page


def test_the_flags_come_with_every_rendering_of_the_detail(app, person, stand_in, reviewer):
    stand_in.answers["id_card"] = id_mismatch()
    person.upload_all()
    submit(person.client)
    url = f"/review/{person.application_id}"
    invalid = reviewer.post(f"{url}/decide", data={"decision": ""})
    assert invalid.status_code == 422
    assert flags_on_page(text(invalid))["身份证正面"].startswith("mismatch: ✗ 机器核对：不一致")
    revealed = reviewer.post(f"{url}/reveal")                 # without JavaScript: the whole page
    assert "证件号码不一致：识别为530102********1234" in text(revealed)
    fragment = reviewer.post(f"{url}/reveal", headers=htmx())  # HTMX: the identity block only
    assert "precheck" not in text(fragment)


# -- the list filter 机器核对有疑点 -----------------------------------------------------------------

def listed(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/review/(\d+)[?"]', page)]


def next_link(page: str) -> str | None:
    found = re.search(r'<a class="button button--secondary" href="([^"]+)">下一页</a>', page)
    return html.unescape(found.group(1)) if found else None


def with_doubt(app, ids) -> None:
    with app.app_context():
        db.session.execute(sa.update(Application).where(Application.id.in_(ids))
                           .values(precheck_doubt=True))
        db.session.commit()
        db.session.remove()


def test_the_filter_lists_applications_with_a_mismatch(app, person, stand_in, reviewer):
    clean = make_application(app, submitted_at=BASE)        # checked at submission: a match
    stand_in.answers["id_card"] = id_mismatch()
    person.upload_all()
    submit(person.client)
    page = text(reviewer.get("/review"))
    assert set(listed(page)) == {person.application_id, clean.application_id}
    assert page.count("badge--doubt") == 1
    page = text(reviewer.get("/review", query_string={"doubt": "y"}))
    assert listed(page) == [person.application_id]
    assert "checked" in re.search(r'<input[^>]*name="doubt"[^>]*>', page).group()
    unticked = text(reviewer.get("/review"))
    assert "checked" not in re.search(r'<input[^>]*name="doubt"[^>]*>', unticked).group()


def test_the_filter_pages_by_keys_with_the_other_filters(app, reviewer):
    ids = [p.application_id for p in make_applications(app, 130, start=BASE, pairs=True)]
    doubtful = ids[::2]                                    # 65 of them
    with_doubt(app, doubtful)
    others = [p.application_id for p in make_applications(app, 3, "530103", start=BASE)]
    with_doubt(app, others)                                # another county: never listed
    page1 = text(reviewer.get("/review", query_string={"doubt": "y"}))
    assert listed(page1) == doubtful[:50]
    assert "共 65 条" in page1
    link = next_link(page1)
    assert "doubt=y" in link and "status=pending" in link
    page2 = text(reviewer.get(link))
    assert listed(page2) == doubtful[50:]
    assert next_link(page2) is None
    fragment = reviewer.get(link, headers=htmx())
    assert text(fragment).lstrip().startswith('<div id="results">')
    assert listed(text(fragment)) == doubtful[50:]
    # with a date range (local days), the status tab and a search
    day = (BASE + timedelta(hours=8)).date()
    page = text(reviewer.get("/review", query_string={
        "doubt": "y", "date_from": day.isoformat(), "date_to": day.isoformat()}))
    assert listed(page)[:3] == doubtful[:3]
    assert listed(text(reviewer.get("/review", query_string={
        "doubt": "y", "status": "approved"}))) == []
    with app.app_context():
        phone = db.session.scalar(sa.select(Account.phone).join(
            Application, Application.account_id == Account.id)
            .where(Application.id == doubtful[3]))
        other_phone = db.session.scalar(sa.select(Account.phone).join(
            Application, Application.account_id == Account.id).where(Application.id == ids[1]))
        db.session.remove()
    assert listed(text(reviewer.get("/review", query_string={"doubt": "y", "q": phone}))) == \
        [doubtful[3]]
    assert listed(text(reviewer.get("/review", query_string={
        "doubt": "y", "q": other_phone}))) == []


def test_the_filter_at_every_jurisdiction_level(app):
    kunming = [make_application(app, county, submitted_at=BASE + timedelta(minutes=n))
               for n, county in enumerate(("530102", "530103", "530102"))]
    elsewhere = make_application(app, "530302", submitted_at=BASE)
    with_doubt(app, [kunming[0].application_id, kunming[1].application_id,
                     elsewhere.application_id])
    expected = {"530102": [kunming[0].application_id],
                "530100": [kunming[0].application_id, kunming[1].application_id],
                "530000": [elsewhere.application_id, kunming[0].application_id,
                           kunming[1].application_id]}
    for region, ids in expected.items():
        client = staff_client(app, region=region)[0]
        page = text(client.get("/review", query_string={"doubt": "y"}))
        assert sorted(listed(page)) == sorted(ids), region
    prefecture = staff_client(app, region="530100")[0]
    page = text(prefecture.get("/review", query_string={"doubt": "y", "county": "530103"}))
    assert listed(page) == [kunming[1].application_id]


def test_the_export_follows_the_filter(app, reviewer, monkeypatch):
    from openpyxl import load_workbook

    from tests.factories import audit_rows

    def rows(data: bytes) -> int:
        return len(list(load_workbook(io.BytesIO(data)).active.iter_rows())) - 1

    ids = [p.application_id for p in make_applications(app, 4, start=BASE)]
    with_doubt(app, ids[:1])
    page = text(reviewer.get("/review", query_string={"doubt": "y"}))
    action = html.unescape(re.search(r'<form class="export" method="post" action="([^"]+)"',
                                     page).group(1))
    assert "doubt=y" in action
    streamed = reviewer.post(action)
    assert streamed.status_code == 200 and rows(streamed.data) == 1
    monkeypatch.setitem(app.config, "EXPORT_SYNC_MAX_ROWS", 0)     # built by a job
    queued = reviewer.post(action)
    assert queued.status_code == 303
    download = reviewer.get(queued.headers["Location"] + "/file")
    assert download.status_code == 200 and rows(download.data) == 1
    assert [json.loads(entry.details).get("doubt") for entry in audit_rows(app, "review.export")] == \
        [True, True]


def test_the_doubt_filter_uses_its_own_index_on_postgresql(app, ctx):
    """The plan of the filtered list, as PostgreSQL would run it with many rows: a range scan of
    a partial index of doubtful applications (sequential scans off, as they would lose; which
    of the three serves best shows only with real statistics: bench/precheck_filter_bench.py)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    from models import Region
    region = db.session.get(Region, "530102")
    query = review_queue.base_query(region, review_queue.ListFilter(doubt=True)) \
        .with_only_columns(Application.id) \
        .order_by(Application.submitted_at, Application.id).limit(51)
    compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
    db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(db.session.scalars(sa.text(f"EXPLAIN {compiled}")))
    assert "Index Scan using ix_applications_doubt_" in plan, plan


# -- who sees it --------------------------------------------------------------------------------

def test_the_applicant_sees_nothing_of_it(app, person, stand_in):
    stand_in.answers["id_card"] = id_mismatch()
    person.upload_all()
    assert doubt(app, person.application_id)
    pages = [text(person.client.get(path)) for path in (
        "/collection", "/collection/materials", "/collection/summary")]
    submit(person.client)
    pages += [text(person.client.get(path)) for path in ("/collection", "/collection/summary")]
    pages.append(text(person.client.get("/collection/materials",
                                        headers=htmx())))
    for page in pages:
        assert "机器核对" not in page and "precheck" not in page and "识别为" not in page
    assert person.client.get(f"/review/{person.application_id}").status_code == 404


def test_a_reviewer_elsewhere_sees_nothing_of_it(app, person, stand_in):
    stand_in.answers["id_card"] = id_mismatch()
    person.upload_all()
    submit(person.client)
    outsider = staff_client(app, region="530302")[0]
    assert outsider.get(f"/review/{person.application_id}").status_code == 404
    assert listed(text(outsider.get("/review", query_string={"doubt": "y"}))) == []


# -- the worker ---------------------------------------------------------------------------------

def test_the_worker_loads_the_models_before_its_first_job(app, monkeypatch):
    import jobs.worker
    loaded, served = [], []
    monkeypatch.setattr(precheck, "available", lambda: True)
    monkeypatch.setattr(precheck, "load", lambda: loaded.append(True))
    monkeypatch.setattr(jobs.worker, "work", lambda app, burst: served.append(loaded[:]))
    monkeypatch.setitem(app.config, "JOB_BACKEND", "rq")
    monkeypatch.setitem(app.config, "PRECHECK_ENABLED", True)
    result = app.test_cli_runner().invoke(args=["jobs", "work", "--burst"])
    assert result.exit_code == 0, result.output
    assert served == [[True]]
    monkeypatch.setitem(app.config, "PRECHECK_ENABLED", False)
    loaded.clear()
    app.test_cli_runner().invoke(args=["jobs", "work", "--burst"])
    assert loaded == []


def test_jobs_reuse_the_loaded_models(app, person, engines, checks_on):
    engine, cascade = ocr._get_engine(), faces._get_cascade()
    person.upload("id_front", pictures.id_card_sample(SEED, "clear").image)
    person.upload("id_photo", pictures.portrait_sample(SEED, "one").image)
    person.upload("education_full_time",
                  pictures.certificate_sample(SEED, "education", "clear").image)
    assert len(stored(app, person.application_id)) == 3
    assert ocr._engine is engine and faces._cascade is cascade


# -- the migration --------------------------------------------------------------------------------

def test_migration_0010_goes_down_and_up_again(tmp_path):
    from flask_migrate import downgrade, upgrade

    from app import create_app
    from config import TestConfig

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'migrate.db'}"

    app = create_app(Config)
    with app.app_context():
        upgrade()
        downgrade(revision="0008_login_lock")
        inspector = sa.inspect(db.engine)
        assert "material_prechecks" not in inspector.get_table_names()
        assert "precheck_doubt" not in {c["name"] for c in inspector.get_columns("applications")}
        upgrade()
        inspector = sa.inspect(db.engine)
        assert {"ix_applications_doubt_jurisdiction", "ix_applications_doubt_prefecture",
                "ix_applications_doubt_province"} <= \
            {index["name"] for index in inspector.get_indexes("applications")}
        db.engine.dispose()
