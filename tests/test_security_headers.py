"""Security headers on every response, no inline script anywhere, HTMX-aware error pages."""
from html.parser import HTMLParser

import pytest

from domain import accounts
from domain.archive_import import import_rows
from extensions import db
from models import Account
from tests.helpers import (
    CAPTCHA,
    PASSWORD,
    htmx,
    last_code,
    login,
    make_id,
    registration_data,
    send_code,
)

# --- helpers -----------------------------------------------------------------------------------

def body(response) -> str:
    return response.get_data(as_text=True)


def seed(app, id_number, phone, role="applicant", **fields):
    with app.app_context():
        db.session.add(Account(role=role, id_type="居民身份证", id_number=id_number, name="张三",
                               phone=phone, password_hash=accounts.hasher().hash(PASSWORD),
                               region_code="530102" if role != "applicant" else None, **fields))
        db.session.commit()
        db.session.remove()


def applicant_client(app):
    client = app.test_client()
    id_number = make_id()
    seed(app, id_number, "13800001111")
    assert login(client, id_number).status_code == 303
    return client


def staff_client(app):
    client = app.test_client()
    id_number = make_id(seq="808")
    seed(app, id_number, "13700007777", role="reviewer")
    assert login(client, id_number).status_code == 303
    return client


def imported_client(app):
    client = app.test_client()
    id_number = make_id(seq="321")
    with app.app_context():
        import_rows([{"姓名": "李四", "证件号码": id_number, "资格级别": "中级",
                      "证书编号": "ZJ0001", "取得日期": "2010-05-01"}])
        db.session.remove()
    assert login(client, id_number, id_number[-6:]).status_code == 303
    return client


def plain_get_pages(app):
    """Every GET page of the app that takes no URL arguments (new pages are included as they
    are added), and a page that does not exist."""
    pages = {rule.rule for rule in app.url_map.iter_rules()
             if "GET" in rule.methods and not rule.arguments}
    return sorted(pages) + ["/no-such-page"]


def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in policy.split(";"):
        tokens = part.split()
        if tokens:
            directives[tokens[0].lower()] = tokens[1:]
    return directives


def check_headers(response, what, static=False):
    csp = csp_directives(response)
    assert csp, f"{what}: no Content-Security-Policy"
    assert csp.get("script-src") == ["'self'"], f"{what}: script-src {csp.get('script-src')}"
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert csp.get("object-src") == ["'none'"], what
    assert csp.get("base-uri") == ["'none'"], what
    assert csp.get("frame-ancestors") == ["'none'"], what
    assert "'unsafe-inline'" not in csp.get("default-src", []), what
    assert response.headers.get("X-Content-Type-Options") == "nosniff", what
    assert response.headers.get("Referrer-Policy") == "same-origin", what
    assert response.headers.get("X-Frame-Options") == "DENY", what
    if not static:
        cache = {d.strip().lower() for d in response.headers.get("Cache-Control", "").split(",")}
        assert "no-store" in cache, f"{what}: Cache-Control {response.headers.get('Cache-Control')}"
        vary = {v.strip().lower() for v in response.headers.get("Vary", "").split(",")}
        assert "hx-request" in vary, f"{what}: Vary {response.headers.get('Vary')}"


class _Inspector(HTMLParser):
    """Collects what a strict CSP (script-src 'self', style-src 'self') would block or what
    would run script from the markup."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            name = name.lower()
            value = (value or "").strip().lower()
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...> event handler attribute")
            if name.startswith(("hx-on", "data-hx-on")):
                self.problems.append(f"<{tag} {name}=...> hx-on handler")
            if name in ("hx-vals", "hx-vars", "data-hx-vals") and value.startswith(
                    ("js:", "javascript:")):
                self.problems.append(f"<{tag} {name}> evaluates script")
            if name in ("href", "src", "action", "formaction") and value.startswith(
                    "javascript:"):
                self.problems.append(f"<{tag} {name}=javascript:...>")
            if name == "style":
                self.problems.append(f"<{tag} style=...> inline style (blocked by style-src)")
        if tag == "script":
            if not dict(attrs).get("src"):
                self.problems.append("<script> without src (inline script)")
            self._in_script = True
        if tag == "style":
            self.problems.append("<style> element (blocked by style-src)")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.problems.append(f"inline script content: {data.strip()[:60]!r}")


def check_markup(response, what):
    if not response.mimetype == "text/html":
        return
    inspector = _Inspector()
    inspector.feed(body(response))
    inspector.close()
    assert not inspector.problems, f"{what}: {inspector.problems}"


def check(response, what):
    try:
        check_headers(response, what)
        check_markup(response, what)
    finally:
        response.close()  # a streamed download must not outlive its request


# --- every page --------------------------------------------------------------------------------

def test_every_page_anonymous(app, client):
    pages = plain_get_pages(app)
    assert {"/", "/login", "/register", "/forgot-password", "/privacy", "/home"} <= set(pages)
    for page in pages:
        check(client.get(page), f"GET {page} (anonymous)")
        check(client.get(page, headers=htmx()), f"GET {page} (anonymous, HTMX)")


@pytest.mark.parametrize("who", [applicant_client, staff_client, imported_client])
def test_every_page_logged_in(app, who):
    client = who(app)
    for page in plain_get_pages(app):
        response = client.get(page)
        check(response, f"GET {page} ({who.__name__})")
        if response.status_code in (301, 302, 303):  # where it leads is a page too
            check(client.get(page, follow_redirects=True), f"GET {page} → redirect target")
        check(client.get(page, headers=htmx()), f"GET {page} ({who.__name__}, HTMX)")


def test_form_pages_with_errors_and_messages(app, client, outbox):
    responses = {
        "login 422": client.post("/login", data={"id_number": "<x>", "password": "",
                                                 "captcha": ""}),
        "login refused": client.post("/login", data={"id_number": make_id(), "password": "x",
                                                     "captcha": CAPTCHA}),
        "register 422": client.post("/register", data=registration_data(
            "<script>", "+86", name="<img src=x onerror=alert(1)>", password="a",
            password2="b", consent="")),
        "register 422 HTMX": client.post("/register", data=registration_data(
            "1", "2", name='" onmouseover="alert(1)'), headers=htmx()),
        "send code": send_code(client, "/register", "13800001111"),
        "send code HTMX": client.post("/register/send-code", data={
            "phone": "13900002222", "captcha": CAPTCHA}, headers=htmx()),
        "forgot 422": client.post("/forgot-password", data={"id_number": "", "action": "reset"}),
        "forgot sent": send_code(client, "/forgot-password", "13600004444",
                                 id_number=make_id()),
    }
    seed(app, make_id(seq="999"), "13500005555")
    responses["register 409"] = client.post("/register", data=registration_data(
        make_id(seq="999"), "13800001111", sms_code=last_code(outbox, "13800001111")))
    assert responses["register 409"].status_code == 409
    for what, response in responses.items():
        assert response.status_code in (200, 409, 422), (what, response.status_code)
        check(response, what)
    # what was typed comes back escaped, never as markup
    text = body(responses["register 422"])
    assert "<img src=x" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    assert 'onmouseover="alert(1)' not in body(responses["register 422 HTMX"])


def test_logged_in_form_posts(app):
    client = applicant_client(app)
    for url, data in [
        ("/account/password", {"old_password": "", "password": "a"}),
        ("/account/phone", {"current_password": "", "phone": "1"}),
        ("/account/phone/send-code", {"phone": "13900002222", "captcha": CAPTCHA}),
    ]:
        check(client.post(url, data=data), f"POST {url}")
        check(client.post(url, data=data, headers=htmx()), f"POST {url} (HTMX)")
    response = client.post("/account/password", data={
        "old_password": PASSWORD, "password": "Kunming@2027xy", "password2": "Kunming@2027xy"},
        headers=htmx())
    assert response.status_code == 204
    check_headers(response, "HTMX success")
    response = client.post("/logout")
    assert response.status_code == 303
    check_headers(response, "logout")
    check(client.get("/login"), "login page with the logout message")


def test_redirects_and_errors_carry_the_headers(app, client):
    check_headers(client.get("/home"), "401 → 303 to login")
    check_headers(client.get("/home", headers=htmx()), "401 for HTMX")
    check(client.put("/login"), "405")
    app.config["WTF_CSRF_ENABLED"] = True
    check(client.post("/login", data={}), "400 CSRF")
    check(client.post("/login", data={}, headers=htmx()), "400 CSRF HTMX")


def test_static_files(app, client):
    for name in ("css/app.css", "js/app.js"):
        path = "/static/" + app.extensions["assets"][name]
        response = client.get(path)
        assert response.status_code == 200
        check_headers(response, path, static=True)
        assert "max-age=31536000" in response.headers.get("Cache-Control")
        response.close()


def test_scripts_are_same_origin_files(app, client):
    text = body(client.get("/login"))
    parser = _ScriptSources()
    parser.feed(text)
    assert parser.sources, "the page loads its scripts from files"
    for source in parser.sources:
        assert source.startswith("/static/"), source
        response = client.get(source)
        assert response.status_code == 200
        assert response.mimetype in ("text/javascript", "application/javascript")
        response.close()
    assert '"allowEval":false' in text  # htmx is told not to evaluate strings as code


class _ScriptSources(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources = []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.sources.append(dict(attrs).get("src") or "")


def test_hsts_only_when_configured(app, client, monkeypatch):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    monkeypatch.setitem(app.config, "HSTS", True)
    assert client.get("/login").headers["Strict-Transport-Security"].startswith(
        "max-age=31536000")


# --- error pages -------------------------------------------------------------------------------

def test_404_page_in_chinese(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    text = body(response)
    assert '<html lang="zh-CN">' in text
    assert "<title>页面不存在" in text
    assert "您访问的页面不存在" in text
    assert "返回首页" in text
    assert "Not Found" not in text
    check(response, "404")


def test_htmx_404_goes_to_the_message_area(client):
    response = client.get("/no-such-page", headers=htmx())
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == "#messages"
    assert response.headers["HX-Reswap"] == "innerHTML"
    text = body(response)
    assert "<html" not in text
    assert "页面不存在" in text and 'class="message message--error"' in text
    check(response, "404 HTMX")


def test_405_and_429_in_chinese(app, client, monkeypatch):
    response = client.put("/login")
    assert response.status_code == 405 and "请求方式不正确" in body(response)
    monkeypatch.setitem(app.config, "LOGIN_IP_LIMIT", "1 per minute")
    client.post("/login", data={"id_number": make_id(), "password": "x", "captcha": CAPTCHA})
    response = client.post("/login", data={})
    assert response.status_code == 429 and "操作过于频繁" in body(response)
    check(response, "429")


def test_no_get_page_logs_anybody_out(app):
    """Logging out is a POST with a CSRF token: no GET page (a link or an <img> on another site)
    ends the session."""
    client = applicant_client(app)
    for page in plain_get_pages(app):
        client.get(page)
    response = client.get("/account/password")
    assert response.status_code == 200
