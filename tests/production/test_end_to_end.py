"""The seed's whole loop through nginx in staging mode: an accountant registers (the code comes
from the worker), fills the four sections, uploads, submits; a reviewer set up by the operator
command logs in, approves; the worker delivers the decision notice. Then what nginx itself
promises: gzip, hashed static files kept for a year, no version banner, its own Chinese pages,
and a client address that cannot be forged."""
import os
import random
import re
import subprocess

import requests
from stdnum.cn import ric

from tests.factories import document_jpeg, form_answers, portrait_jpeg
from tests.production.conftest import BASE, RUN, flask, outbox, wait_for_sms

PASSWORD = "Yunnan#2026kj"
STAFF_PASSWORD = "Shenhe#2026kj"


def fresh_identity() -> tuple[str, str]:
    """An ID number and a phone not used by an earlier run against the same database."""
    rng = random.SystemRandom()
    body = f"530102{rng.randint(1960, 2000)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}" \
           f"{rng.randint(0, 999):03d}"
    return body + ric.calc_check_digit(body + "0"), f"13{rng.randint(0, 999999999):09d}"


def ask_for_code(visitor, env, path, phone, **fields):
    before = len(outbox(env))
    visitor.get(path)
    response = visitor.post(f"{path}/send-code", {"phone": phone, "captcha":
                                                  env["CAPTCHA_TEST_ANSWER"], **fields})
    assert response.status_code == 200, response.text[-1500:]
    # The request only queued the delivery: the page says the code is on its way or sent.
    assert re.search(r"验证码(正在发送至|已发送至)", response.text)
    message = wait_for_sms(env, phone, "验证码", after=before)
    return re.search(r"验证码(\d{6})", message["body"]).group(1)


def register(visitor, env, id_number, phone, name):
    code = ask_for_code(visitor, env, "/register", phone)
    response = visitor.post("/register", {
        "id_type": "居民身份证", "id_number": id_number, "name": name, "phone": phone,
        "captcha": env["CAPTCHA_TEST_ANSWER"], "sms_code": code, "password": PASSWORD,
        "password2": PASSWORD, "consent": "y", "action": "register"})
    assert response.status_code == 303, response.text[-1500:]


def fill_and_submit(visitor):
    for key, data in form_answers().items():
        visitor.get(f"/collection/{key}")
        response = visitor.post(f"/collection/{key}", data)
        assert response.status_code == 303, (key, response.text[-1500:])
    page = visitor.get("/collection/materials").text
    kinds = list(dict.fromkeys(re.findall(r'action="/collection/materials/([a-z_]+)"', page)))
    assert "id_photo" in kinds and "id_front" in kinds
    for kind in kinds:
        picture = portrait_jpeg() if kind == "id_photo" else document_jpeg()
        response = visitor.post(f"/collection/materials/{kind}",
                                files={"photo": (f"{kind}.jpg", picture, "image/jpeg")})
        assert response.status_code == 303, (kind, response.text[-1500:])
        if kind == "id_photo":
            assert visitor.post("/collection/materials/id_photo/preview").status_code == 303
    visitor.get("/collection/summary")
    response = visitor.post("/collection/submit")
    assert response.status_code == 303, response.text[-1500:]
    assert "审核中" in visitor.get("/collection/summary").text


def reviewer_logs_in(visitor, env, id_number, phone):
    output = flask(env, "accounts", "create-staff", "--role", "reviewer", "--region", "530102",
                   "--id-number", id_number, "--name", "李审核", "--phone", phone)
    one_time = output.strip().rsplit(" ", 1)[-1]
    visitor.get("/login")
    before = len(outbox(env))
    response = visitor.post("/login", {"id_number": id_number, "password": one_time,
                                       "captcha": env["CAPTCHA_TEST_ANSWER"]})
    assert response.status_code == 303, response.text[-1500:]
    assert response.headers["Location"] == "/login/verify"  # staff: the second factor
    message = wait_for_sms(env, phone, "登录审核管理端", after=before)
    code = re.search(r"验证码(\d{6})", message["body"]).group(1)
    visitor.get("/login/verify")
    response = visitor.post("/login/verify", {"sms_code": code})
    assert response.status_code == 303, response.text[-1500:]
    visitor.get("/account/password")
    response = visitor.post("/account/password", {
        "old_password": one_time, "password": STAFF_PASSWORD, "password2": STAFF_PASSWORD})
    assert response.status_code == 303, response.text[-1500:]


def test_register_fill_upload_submit_review_through_nginx(shape, visitor):
    env = shape
    id_number, phone = fresh_identity()
    register(visitor, env, id_number, phone, "王芳")
    fill_and_submit(visitor)

    reviewer = type(visitor)()
    staff_id, staff_phone = fresh_identity()
    reviewer_logs_in(reviewer, env, staff_id, staff_phone)
    listing = reviewer.get(f"/review?status=pending&q={id_number}").text
    application = re.search(r'href="/review/(\d+)[?"]', listing).group(1)
    detail = reviewer.get(f"/review/{application}").text
    assert "王芳" in detail
    response = reviewer.post(f"/review/{application}/decide", {"decision": "approve"})
    assert response.status_code == 303, response.text[-1500:]

    notice = wait_for_sms(env, phone, "审核通过")  # delivered by the worker, not the request
    assert notice["body"].startswith("【云南省会计人员信息采集】")
    assert "审核成功" in visitor.get("/collection/summary").text


def test_forgot_password_through_the_worker(shape, visitor):
    env = shape
    id_number, phone = fresh_identity()
    register(visitor, env, id_number, phone, "赵敏")
    visitor.post("/logout")
    stranger = type(visitor)()
    code = ask_for_code(stranger, env, "/forgot-password", phone, id_number=id_number)
    new_password = "Kunming#2027kj"
    response = stranger.post("/forgot-password", {
        "id_number": id_number, "phone": phone, "captcha": env["CAPTCHA_TEST_ANSWER"],
        "sms_code": code, "password": new_password, "password2": new_password,
        "action": "reset"})
    assert response.status_code == 303, response.text[-1500:]


def test_nginx_compresses_and_caches_static_files(shape, visitor):
    page = visitor.get("/login", headers={"Accept-Encoding": "gzip"})
    assert page.headers["Content-Encoding"] == "gzip"
    assert page.headers["Server"] == "nginx"  # no version
    assert page.headers["Cache-Control"] == "no-store"
    # the app's security headers arrive once, not doubled by nginx
    assert page.headers["Content-Security-Policy"].count("default-src") == 1
    assert page.headers["X-Frame-Options"] == "DENY"
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text)
    assert {asset.rsplit(".", 1)[1] for asset in assets} == {"css", "js", "ico"}
    for asset in assets:
        assert re.search(r"\.[0-9a-f]{10}\.(css|js|ico)$", asset), asset
        response = visitor.get(asset, headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        if not asset.endswith(".ico"):   # nginx gzips the text types only
            assert response.headers["Content-Encoding"] == "gzip"
    assert visitor.get("/static/css/missing.0000000000.css").status_code == 404


def test_plain_http_is_sent_to_https(shape):
    port = os.environ.get("PROD_LOCAL_HTTP_PORT", "8080")
    session = requests.Session()
    session.trust_env = False
    response = session.get(f"http://127.0.0.1:{port}/login", allow_redirects=False, timeout=5)
    assert response.status_code == 301
    assert response.headers["Location"] == f"{BASE}/login"


def test_a_body_over_the_limit_gets_nginx_s_chinese_page(shape, visitor):
    visitor.get("/login")
    response = visitor.http.post(BASE + "/login", data=b"x" * (17 * 1024 * 1024),
                                 headers={"Content-Type": "application/octet-stream"},
                                 timeout=60)
    assert response.status_code == 413
    assert "文件过大" in response.content.decode("utf-8")


def test_a_forged_client_address_is_not_believed(shape, visitor):
    env = shape
    id_number, _phone = fresh_identity()
    visitor.get("/login")
    visitor.post("/login", {"id_number": id_number, "password": "Wrong#2026kj",
                            "captcha": env["CAPTCHA_TEST_ANSWER"]},
                 headers={"X-Forwarded-For": "203.0.113.9"})
    url = env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    ips = subprocess.run(
        ["psql", url, "-tAc", "SELECT ip FROM audit_entries WHERE action = 'login.failed' "
                              "ORDER BY id DESC LIMIT 1"],
        capture_output=True, text=True, check=True).stdout.split()
    assert ips == ["127.0.0.1"]


def test_the_worker_and_web_processes_run(shape):
    for name in ("gunicorn.pid", "worker.pid", "nginx.pid"):
        pid = (RUN / name).read_text().strip()
        assert subprocess.run(["kill", "-0", pid]).returncode == 0, name
