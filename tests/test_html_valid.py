"""The main pages are valid HTML for the Nu Html Checker (vnu.jar from the npm package vnu-jar,
installed by `make install-dev`; Java runs it). The pages are rendered with the Flask test client, as a visitor, an
applicant (a complete application, a few branches and a page with errors), an imported
accountant and a reviewer, written to a folder and checked in one run (`make check-html` runs
this file alone). The only messages let through are about htmx's hx-* attributes, which HTML
does not define."""
import io
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from models import ApplicationStatus
from tests.factories import (
    applicant_client,
    document_jpeg,
    make_appeal,
    make_application,
    staff_client,
)
from tests.helpers import CAPTCHA, login, make_id

HTMX_ATTRIBUTE = re.compile(r"^Attribute “hx-[a-z-]+” ")
VNU_JAR = Path(__file__).resolve().parent.parent / "node_modules/vnu-jar/build/dist/vnu.jar"


def imported_client(app):
    from domain.archive_import import import_rows
    from extensions import db
    id_number = make_id(seq="616")
    with app.app_context():
        assert import_rows([{"姓名": "李四", "证件号码": id_number, "资格级别": "中级",
                             "证书编号": "ZJ0001", "取得日期": "2010-05-01"}]).accepted == 1
        db.session.remove()
    client = app.test_client()
    assert login(client, id_number, id_number[-6:]).status_code == 303
    return client


def rendered_pages(app) -> dict[str, tuple[int, str]]:
    """{name: (status, html)} of the main pages, each a whole document."""
    visitor = app.test_client()
    applicant = applicant_client(app, make_application(app, status=ApplicationStatus.DRAFT))
    reviewer, _member = staff_client(app)
    pending = make_application(app)
    pages = {}

    def get(name, client, path):
        response = client.get(path)
        pages[name] = (response.status_code, response.get_data(as_text=True))

    def post(name, client, path, data):
        response = client.post(path, data=data)
        pages[name] = (response.status_code, response.get_data(as_text=True))

    get("login", visitor, "/login")
    post("login-errors", visitor, "/login", {"id_number": "1", "password": "x",
                                             "captcha": CAPTCHA + "X"})
    get("register", visitor, "/register")
    get("forgot-password", visitor, "/forgot-password")
    get("privacy", visitor, "/privacy")
    get("not-found", visitor, "/no-such-page")
    for path in ("/collection", "/collection/basic", "/collection/work", "/collection/education",
                 "/collection/qualification", "/collection/materials", "/collection/summary",
                 "/account/password", "/account/phone"):
        get(path.strip("/").replace("/", "-"), applicant, path)
    post("collection-work-not-employed", applicant, "/collection/work",
         {"employed": "no", "person_category": "在校学生", "action": "refresh"})
    post("collection-education-both", applicant, "/collection/education",
         {"full_time-has": "yes", "part_time-has": "yes", "action": "refresh"})
    post("collection-basic-errors", applicant, "/collection/basic",
         {"ethnicity": "", "address": "", "action": "save"})
    get("account-bind-phone", imported_client(app), "/account/bind-phone")
    get("review-list", reviewer, "/review")
    get("review-detail", reviewer, f"/review/{pending.application_id}")
    post("review-detail-errors", reviewer, f"/review/{pending.application_id}/decide",
         {"decision": "reject"})
    get("review-progress", reviewer, "/review/progress")
    # A person's rights: the copy (and the readable document inside its ZIP), closing a draft
    # account, and a submitted record's request page; the bureau's pages that answer it.
    get("account-copy", applicant, "/account/copy")
    applicant.post("/account/copy")
    get("account-copy-done", applicant, "/account/copy")
    link = re.search(r'href="(/account/copy/\d+\.zip)"', pages["account-copy-done"][1]).group(1)
    with zipfile.ZipFile(io.BytesIO(applicant.get(link).data)) as archive:
        pages["account-copy-document"] = (200, archive.read("index.html").decode("utf-8"))
    get("account-close", applicant, "/account/close")
    post("account-close-errors", applicant, "/account/close", {"sms_code": "", "confirm": ""})
    submitted = applicant_client(app, pending)
    post("account-requests-errors", submitted, "/account/requests", {"kind": "", "details": ""})
    submitted.post("/account/requests", data={"kind": "deletion", "details": "请删除我的信息"})
    get("account-requests", submitted, "/account/close")
    get("review-requests", reviewer, "/review/requests")
    get("review-request", reviewer, "/review/requests/1")
    post("review-request-errors", reviewer, "/review/requests/1/answer", {"outcome": "done"})
    # 信息变更: choosing, the change's summary (old under new), the reviewer's diff
    changer = make_application(app, status=ApplicationStatus.APPROVED)
    changing = applicant_client(app, changer)
    get("change-choose", changing, "/collection/change")
    post("change-choose-errors", changing, "/collection/change", {})
    changing.post("/collection/change", data={"parts": ["work"]})
    work = {"employed": "yes", "unit_name": "新单位有限公司", "unit_credit_code": "91110000600037341L",
            "unit_type": "企业", "unit_prefecture": "530100", "unit_county": "530102",
            "accounting_start_date": "2015-07-01", "posts": ["出纳"]}
    changing.post("/collection/work", data=work)
    get("change-summary", changing, "/collection/summary")
    get("change-materials", changing, "/collection/materials")
    changing.post("/collection/materials/work_proof", data={"photo": (
        io.BytesIO(document_jpeg()), "proof.jpg")})
    changing.post("/collection/submit")
    change_id = re.search(r'href="/review/(\d+)\?[^"]*kind=change', reviewer.get(
        "/review?kind=change").get_data(as_text=True)).group(1)
    get("review-change", reviewer, f"/review/{change_id}")
    get("change-version", changing, f"/collection/versions/{changer.application_id}")
    # 账号申诉: the appellant's form (empty, with errors) and its answer; the staff's pages
    get("appeal-taken-id", visitor, "/appeal/taken-id")
    get("appeal-lost-phone", visitor, "/appeal/lost-phone")
    post("appeal-errors", visitor, "/appeal/taken-id", {"id_number": "1", "action": "file"})
    get("appeal-filed", visitor, "/appeal/filed")
    appeal_id = make_appeal(app, pending)
    get("appeals-list", reviewer, "/appeals")
    get("appeals-detail", reviewer, f"/appeals/{appeal_id}")
    post("appeals-detail-errors", reviewer, f"/appeals/{appeal_id}/decide",
         {"outcome": "rejected"})
    admin, _member = staff_client(app, "admin", "530000")
    unregistered = make_appeal(app)
    get("appeals-admin-list", admin, "/appeals")
    get("appeals-admin-detail", admin, f"/appeals/{unregistered}")
    return pages


def check_html(folder: Path) -> list[dict]:
    """vnu's messages on every .html file in `folder`, hx-* attributes left out."""
    result = subprocess.run(
        ["java", "-jar", str(VNU_JAR), "--format", "json", "--exit-zero-always",
         *sorted(str(path) for path in folder.glob("*.html"))],
        capture_output=True, text=True, timeout=120)
    messages = json.loads(result.stderr)["messages"]
    return [m for m in messages if not HTMX_ATTRIBUTE.match(m.get("message", ""))]


@pytest.mark.skipif(not shutil.which("java") or not VNU_JAR.exists(),
                    reason="needs Java and vnu.jar: apt-get install default-jre-headless npm, then "
                           "make install-dev (.ci/run does)")
def test_main_pages_are_valid_html(app, tmp_path):
    pages = rendered_pages(app)
    expected = {"not-found": 404, "login-errors": 422, "collection-basic-errors": 422,
                "review-detail-errors": 422, "account-close-errors": 422,
                "account-requests-errors": 422, "review-request-errors": 422,
                "change-choose-errors": 422, "appeal-errors": 422,
                "appeals-detail-errors": 422}
    for name, (status, html) in pages.items():
        assert status == expected.get(name, 200), (name, status, html[-1000:])
        assert html.lstrip().lower().startswith("<!doctype html>"), name
        (tmp_path / f"{name}.html").write_text(html, encoding="utf-8")
    problems = [m for m in check_html(tmp_path) if m["type"] in ("error", "non-document-error")]
    assert not problems, "\n".join(
        f"{Path(m.get('url', '')).name}:{m.get('lastLine', '')}: {m['message']}"
        f" [{m.get('extract', '').strip()}]" for m in problems)


@pytest.mark.skipif(not shutil.which("java") or not VNU_JAR.exists(),
                    reason="needs Java and vnu.jar (see above)")
def test_the_wechat_pages_are_valid_html(app, wechat, tmp_path):
    """Inside WeChat's browser, with WeChat configured against its stand-in: the login page with
    微信一键登录, the offer to bind (and its errors), binding by SMS code, and a bound account."""
    from tests.helpers import PASSWORD
    from tests.wechat_flow import bind_by_password, in_wechat, password_login
    applicant = make_application(app, status=ApplicationStatus.DRAFT)
    client = in_wechat(app.test_client())
    pages = {"wechat-login": client.get("/login")}
    password_login(client, applicant.id_number)
    pages["wechat-offer"] = client.get("/account/wechat?next=/collection")
    pages["wechat-offer-errors"] = client.post("/account/wechat", data={"password": ""})
    pages["wechat-sms"] = client.get("/account/wechat/sms")
    bind_by_password(client, PASSWORD)
    pages["wechat-bound"] = client.get("/account/wechat")
    pages["wechat-collection"] = client.get("/collection")
    for name, response in pages.items():
        html = response.get_data(as_text=True)
        assert response.status_code == (422 if name.endswith("errors") else 200), name
        (tmp_path / f"{name}.html").write_text(html, encoding="utf-8")
    problems = [m for m in check_html(tmp_path) if m["type"] in ("error", "non-document-error")]
    assert not problems, "\n".join(
        f"{Path(m.get('url', '')).name}:{m.get('lastLine', '')}: {m['message']}"
        f" [{m.get('extract', '').strip()}]" for m in problems)
