"""Per-request rules that hold for every page: security headers, no caching of personal data,
and holding imported or new staff accounts on the page that finishes their set-up."""
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
}
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

    @app.after_request
    def security_headers(response):
        headers = response.headers
        for name, value in SECURITY_HEADERS.items():
            if name not in headers:
                headers[name] = value
        if app.config["HSTS"]:
            headers[HSTS[0]] = HSTS[1]
        if request.endpoint != "static":
            if "Cache-Control" not in headers:
                headers["Cache-Control"] = "no-store"
            _add_vary(headers, DYNAMIC_VARY)
        return response
