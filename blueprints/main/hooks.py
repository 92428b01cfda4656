"""Per-request rules that hold for every page: security headers, no caching of personal data,
and holding imported or new staff accounts on the page that finishes their set-up."""
from urllib.parse import urlsplit

from flask import redirect, request, url_for
from flask_login import current_user

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; font-src 'self'; form-action 'self'; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    # No other site's window may script ours, nor embed our photos and PDFs.
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
# The camera only where a page captures photos; no microphone, place or payment anywhere.
PERMISSIONS = "camera=({}), microphone=(), geolocation=(), payment=(), usb=()"
CAMERA_PAGES = {"collection.materials_index", "collection.upload_material",
                "collection.photo_preview", "appeals.new_appeal"}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Typed text arrives urlencoded; multipart bodies are uploads, read by their views (which may set
# their own size limit before reading).
FORM_TYPES = {"application/x-www-form-urlencoded"}
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
# Every dynamic page may show personal data: never keep it in a shared cache or the
# back-forward cache of a borrowed phone. Its content depends on the cookie and on HTMX.
DYNAMIC_VARY = ("Cookie", "HX-Request")

# The page that finishes an imported account's set-up, and its 获取验证码.
BIND_PHONE_PAGES = {"accounts.bind_phone", "accounts.send_bind_code"}
# Endpoints a held account may still reach.
_HOLD_EXEMPT = {"static", "accounts.logout", "accounts.captcha_image", "accounts.sms_status",
                "accounts.keep_alive"}


def _add_vary(headers, names) -> None:
    present = headers.get("Vary", "")
    missing = [n for n in names if n.lower() not in present.lower()]
    if missing:
        headers["Vary"] = ", ".join(filter(None, [present, *missing]))


def register(app):

    @app.before_request
    def hold_unfinished_accounts():
        if request.endpoint in _HOLD_EXEMPT or not current_user.is_authenticated:
            return None
        if current_user.must_bind_phone and request.endpoint not in BIND_PHONE_PAGES:
            return redirect(url_for("accounts.bind_phone"), code=303)
        if (current_user.must_change_password and not current_user.must_bind_phone
                and request.endpoint != "accounts.change_password"):
            return redirect(url_for("accounts.change_password"), code=303)
        return None

    @app.before_request
    def refuse_nul_characters():
        """No text a person types holds a NUL character, and PostgreSQL refuses one in text: a
        request that carries one gets a plain 400, never a database error."""
        fields = list(request.args.values())
        if request.method in UNSAFE_METHODS and request.mimetype in FORM_TYPES:
            fields += list(request.form.values())
        if any("\x00" in value for value in fields):
            from blueprints.main.errors import error_response
            return error_response(400, "提交的内容中含有无效字符，请检查后重新填写。")
        return None

    @app.before_request
    def refuse_foreign_origin():
        """Behind the CSRF token, a second wall: a state-changing request that says it comes
        from another site (Origin, or Referer when a browser sends no Origin) is refused."""
        if request.method not in UNSAFE_METHODS:
            return None
        source = request.headers.get("Origin") or request.headers.get("Referer")
        if source is None or same_origin(source, request.host_url):
            return None
        from blueprints.main.errors import error_response
        return error_response(403, "请求来源不正确：请在本系统的页面上操作，不要使用其他网站上的链接或表单。")

    @app.after_request
    def security_headers(response):
        headers = response.headers
        for name, value in SECURITY_HEADERS.items():
            if name not in headers:
                headers[name] = value
        if "Permissions-Policy" not in headers:
            headers["Permissions-Policy"] = PERMISSIONS.format(
                "self" if request.endpoint in CAMERA_PAGES else "")
        if app.config["HSTS"]:
            headers[HSTS[0]] = HSTS[1]
        if request.endpoint != "static":
            if "Cache-Control" not in headers:
                headers["Cache-Control"] = "no-store"
            _add_vary(headers, DYNAMIC_VARY)
        return response


def same_origin(source: str, host_url: str) -> bool:
    """Whether an Origin or Referer names this site (scheme, host and port)."""
    theirs, ours = urlsplit(source), urlsplit(host_url)
    return bool(theirs.scheme) and (theirs.scheme, theirs.netloc) == (ours.scheme, ours.netloc)
