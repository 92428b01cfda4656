"""管理 → 档案导入: an administrator uploads the archive; a job imports it, its progress in
job.result after every batch; the result page lists the rejected rows and offers them as a CSV
that, fixed and uploaded again, imports; everything audited; nobody else sees these pages."""
import io
import re

import pytest
import sqlalchemy as sa

from domain import archive_import
from extensions import db
from jobs.execution import run_job
from models import Account, ArchiveRecord, Job, JobStatus, Role, StoredFile
from tests.archive_files import HEADER, archive_bytes, csv_bytes, read_csv
from tests.factories import applicant_client, audit_rows, make_application, staff_client
from tests.helpers import htmx, make_id

ID_A = make_id(seq="611")
ID_B = make_id(region="530103", birth="19851231", seq="622")
ID_C = make_id(region="532301", birth="19720229", seq="633")
ROWS = [
    ["王五", ID_A, "会计师", "Z1", "2010年9月1日"],
    ["赵六", ID_B, "特级", "Z2", "2011-01-01"],          # refused: level
    ["孙八", ID_C, "中级", "Z3", "2010年2月30日"],        # refused: date
]


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def admin(app):
    return staff_client(app, Role.ADMIN, "530000")


def upload(client, content: bytes, filename="archive.csv", **kwargs):
    return client.post("/admin/imports", data={"archive": (io.BytesIO(content), filename)},
                       content_type="multipart/form-data", **kwargs)


def job_of(response) -> int:
    assert response.status_code == 303, text(response)[-2000:]
    return int(re.fullmatch(r"/admin/imports/(\d+)", response.headers["Location"]).group(1))


def table_counts(app):
    with app.app_context():
        counts = (db.session.scalar(sa.select(sa.func.count()).select_from(Account)
                                    .where(Account.imported)),
                  db.session.scalar(sa.select(sa.func.count()).select_from(ArchiveRecord)))
        db.session.remove()
    return counts


def stored_job(app, job_id) -> Job:
    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        db.session.remove()
    return job


# --- the form ---------------------------------------------------------------------------------

def test_the_page_offers_the_upload_form(app, admin):
    client, _me = admin
    page = text(client.get("/admin/imports"))
    assert 'enctype="multipart/form-data"' in page and 'type="file"' in page
    assert "上传并导入" in page and "尚无导入记录" in page and "不超过32MB" in page
    fragment = client.get("/admin/imports", headers=htmx())
    assert fragment.status_code == 200 and text(fragment).lstrip().startswith("<form")


@pytest.mark.parametrize("content, filename, status, words", [
    (None, "", 422, "请选择要上传的档案文件"),
    (b"", "archive.csv", 422, "文件是空的"),
    (b"\xd0\xcf\x11\xe0" + b"\0" * 64, "old.xls", 422, "旧版Excel（.xls）"),
    ("姓名,证件号码\n王五,1\n".encode(), "archive.csv", 422, "文件缺少列：资格级别、证书编号、取得日期"),
    (b"\xff\xfe\xff\xff\x80\x80", "archive.csv", 422, "文件编码无法识别"),
])
def test_a_file_that_cannot_be_imported_is_refused_at_once(app, admin, content, filename,
                                                          status, words):
    client, _me = admin
    if content is None:
        response = client.post("/admin/imports", data={}, content_type="multipart/form-data")
    else:
        response = upload(client, content, filename)
    assert response.status_code == status
    assert words in text(response)
    assert 'aria-invalid="true"' in text(response)
    fragment = upload(client, content or b"", filename or "x.csv", headers=htmx())
    assert fragment.status_code == 422 and text(fragment).lstrip().startswith("<form")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Job).where(
            Job.kind == "archive.import")) == 0
        db.session.remove()


def test_a_file_over_the_limit_gets_a_413_saying_what_to_do(app, admin, monkeypatch):
    client, _me = admin
    # (kept under 500 KB: a larger test body is spooled by Werkzeug to a file nobody closes)
    monkeypatch.setitem(app.config, "ARCHIVE_MAX_BYTES", 100 * 1024)
    response = upload(client, csv_bytes([["王五", ID_A, "中级", "Z" * 30, "2010-01-01"]] * 2000))
    assert response.status_code == 413
    assert "文件超过100KB，请把档案拆成几个较小的文件分别上传" in text(response)
    # the limit of this form only: an archive larger than other uploads may be (16 MiB) passes
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    assert upload(client, csv_bytes(ROWS[:1])).status_code == 303


def test_the_form_checks_its_csrf_token(app, admin):
    client, _me = admin
    app.config["WTF_CSRF_ENABLED"] = True
    response = upload(client, csv_bytes(ROWS))
    assert response.status_code == 422 and "CSRF" in text(response)
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      text(client.get("/admin/imports"))).group(1)
    response = client.post("/admin/imports", data={
        "archive": (io.BytesIO(csv_bytes(ROWS)), "archive.csv"), "csrf_token": token},
        content_type="multipart/form-data")
    assert response.status_code == 303


# --- upload → job → result → rejected rows → fixed → uploaded again ------------------------------

@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_upload_import_rejected_rows_and_the_fixed_file_again(app, admin, kind):
    client, me = admin
    job_id = job_of(upload(client, archive_bytes(kind, ROWS), f"省档案.{kind}"))
    job = stored_job(app, job_id)
    assert job.status == JobStatus.DONE and job.created_by == me.id
    assert {k: job.result[k] for k in ("total", "done", "accepted", "unchanged", "rejected")} \
        == {"total": 3, "done": 3, "accepted": 1, "unchanged": 0, "rejected": 2}
    assert table_counts(app) == (1, 1)

    page = text(client.get(f"/admin/imports/{job_id}"))
    assert "导入已完成" in page and "hx-trigger" not in page
    assert "已处理 3 / 3 行（100%）" in page
    assert "资格级别“特级”无法识别" in page and "不是有效的日期" in page
    assert ID_B not in page and "530103********" in page          # masked on the page
    assert "下载被拒绝的行（2行）" in page

    download = client.get(f"/admin/imports/{job_id}/rejected.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert "attachment" in download.headers["Content-Disposition"]
    assert "private" in download.headers["Cache-Control"]
    lines = read_csv(download.data)
    assert lines[0] == HEADER + ["拒绝原因"]
    assert [line[0] for line in lines[1:]] == ["赵六", "孙八"]
    assert lines[1][1] == f'="{ID_B}"'                     # Excel keeps every digit
    assert "特级" in lines[1][5] and "日期" in lines[2][5]

    # the administrator fixes the two rows in the file and uploads it again, 拒绝原因 and all
    lines[1][2] = "高级会计师"
    lines[2][4] = "2010年2月28日"
    fixed = io.StringIO(newline="")
    import csv
    csv.writer(fixed).writerows(lines)
    again = job_of(upload(client, fixed.getvalue().encode("utf-8-sig"), "拒绝的行.csv"))
    result = stored_job(app, again).result
    assert (result["accepted"], result["rejected"], result["rejected_file_id"]) == (2, 0, None)
    assert table_counts(app) == (3, 3)
    assert "被拒绝的行" not in text(client.get(f"/admin/imports/{again}"))
    assert client.get(f"/admin/imports/{again}/rejected.csv").status_code == 404

    listing = text(client.get("/admin/imports"))
    assert listing.count("已完成") == 2 and f"省档案.{kind}" in listing

    uploads, imports = audit_rows(app, "archive.upload"), audit_rows(app, "archive.import")
    assert [e.subject for e in uploads] == [f"省档案.{kind}", "拒绝的行.csv"]
    assert all(e.actor_id == me.id for e in uploads + imports)
    assert '"accepted": 1' in imports[0].details and '"rejected": 2' in imports[0].details
    assert f'"job": {job_id}' in imports[0].details
    [downloaded] = audit_rows(app, "archive.rejected_download")
    assert downloaded.actor_id == me.id and '"rows": 2' in downloaded.details


def test_progress_is_committed_after_every_batch(app, admin, monkeypatch):
    client, _me = admin
    monkeypatch.setattr(archive_import, "BATCH_ROWS", 2)
    seen = []
    original = archive_import._import_batch

    def watched(batch, report, rejections, on_batch):
        written = original(batch, report, rejections, on_batch)
        with db.engine.connect() as other:   # what the progress page would read now
            seen.append(other.execute(sa.select(Job.result).where(
                Job.kind == "archive.import")).scalar_one())
        return written

    monkeypatch.setattr(archive_import, "_import_batch", watched)
    rows = [[f"李{chr(0x4e00 + n)}", make_id(seq=f"{n:03d}"), "中级", f"Z{n}", "2010-01-01"]
            for n in range(5)] + [ROWS[1]]
    job_of(upload(client, csv_bytes(rows)))
    assert [(r["done"], r["total"], r["accepted"], r["rejected"]) for r in seen] == \
        [(2, 6, 2, 0), (4, 6, 4, 0), (6, 6, 5, 1)]


def test_the_page_polls_while_the_job_runs_and_works_without_javascript(app, admin, monkeypatch):
    client, me = admin
    monkeypatch.setitem(app.extensions, "jobs", type("Held", (), {"push": lambda *_: None})())
    job_id = job_of(upload(client, csv_bytes(ROWS)))
    page = text(client.get(f"/admin/imports/{job_id}"))
    assert "已排队" in page and 'hx-trigger="every 2s"' in page
    assert f'href="/admin/imports/{job_id}">刷新</a>' in page
    with app.app_context():   # halfway, as the job writes it
        db.session.execute(sa.update(Job).where(Job.id == job_id).values(
            status=JobStatus.RUNNING, result={"total": 4000, "done": 1000, "accepted": 900,
                                              "unchanged": 50, "rejected": 50}))
        db.session.commit()
        db.session.remove()
    fragment = client.get(f"/admin/imports/{job_id}", headers=htmx())
    body = text(fragment)
    assert body.lstrip().startswith('<div id="import-status"') and "<html" not in body
    assert "已处理 1000 / 4000 行（25%）" in body and 'value="1000"' in body
    assert "正在导入" in body and 'hx-trigger="every 2s"' in body
    with app.app_context():
        db.session.execute(sa.update(Job).where(Job.id == job_id).values(
            status=JobStatus.QUEUED))
        db.session.commit()
        run_job(job_id)
        db.session.remove()
    done = text(client.get(f"/admin/imports/{job_id}", headers=htmx()))
    assert "导入已完成" in done and "hx-trigger" not in done


def test_an_unreadable_stored_file_ends_the_job_with_a_message(app, admin):
    client, _me = admin
    job_id = job_of(upload(client, csv_bytes(ROWS)))
    with app.app_context():   # the file as the job finds it, later: now missing a column
        stored = db.session.scalar(sa.select(StoredFile).where(StoredFile.purpose == "archive"))
        stored.content = "姓名\n王五\n".encode()
        db.session.execute(sa.update(Job).where(Job.id == job_id).values(
            status=JobStatus.QUEUED))
        db.session.commit()
        run_job(job_id)
        db.session.remove()
    page = text(client.get(f"/admin/imports/{job_id}"))
    assert "文件无法读取：文件缺少列：证件号码" in page


# --- who may ----------------------------------------------------------------------------------

def import_urls(job_id):
    return [("get", "/admin/imports"), ("post", "/admin/imports"),
            ("get", f"/admin/imports/{job_id}"), ("get", f"/admin/imports/{job_id}/rejected.csv")]


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.AUDITOR, Role.APPLICANT])
def test_only_administrators_see_the_import_pages(app, admin, role):
    job_id = job_of(upload(admin[0], csv_bytes(ROWS)))
    if role == Role.APPLICANT:
        client = applicant_client(app, make_application(app, "530102"))
    else:
        client, _member = staff_client(app, role, "530000")
    for method, url in import_urls(job_id):
        data = {"archive": (io.BytesIO(csv_bytes(ROWS)), "a.csv")} if method == "post" else None
        assert getattr(client, method)(url, data=data).status_code == 404, url
    anonymous = app.test_client()
    for method, url in import_urls(job_id):
        response = getattr(anonymous, method)(url)
        assert response.status_code == 303 and "/login" in response.headers["Location"], url
    assert len(audit_rows(app, "archive.upload")) == 1
    assert audit_rows(app, "archive.rejected_download") == []


def test_another_kind_of_job_is_no_import(app, admin):
    client, me = admin
    with app.app_context():
        job = Job(kind="review.export", payload={}, result={"file_id": 1}, created_by=me.id)
        db.session.add(job)
        db.session.commit()
        job_id = job.id
        db.session.remove()
    assert client.get(f"/admin/imports/{job_id}").status_code == 404
    assert client.get(f"/admin/imports/{job_id}/rejected.csv").status_code == 404
