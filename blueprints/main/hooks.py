"""Per-request rules that hold for every page: security headers, no caching of personal data,
and holding imported or new staff accounts on the page that finishes their set-up."""
from flask import g, redirect, request, url_for
from flask_login import current_user

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; font-src 'self'; form-action 'self'; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'")

# Endpoints a held account may still reach.
_HOLD_EXEMPT = {"static", "accounts.logout", "accounts.captcha_image", "accounts.send_code"}


def register(app):
    @app.before_request
    def hold_unfinished_accounts():
        if not current_user.is_authenticated or request.endpoint in _HOLD_EXEMPT:
            return None
        if current_user.must_bind_phone and request.endpoint != "accounts.bind_phone":
            return redirect(url_for("accounts.bind_phone"), code=303)
        if (current_user.must_change_password and not current_user.must_bind_phone
                and request.endpoint != "accounts.change_password"):
            return redirect(url_for("accounts.change_password"), code=303)
        return None

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "same-origin"
        headers.setdefault("X-Frame-Options", "DENY")
        if app.config["HSTS"]:
            headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if request.endpoint != "static" and "Cache-Control" not in headers:
            # Every dynamic page may show personal data: never keep it in a shared cache or
            # the back-forward cache of a borrowed phone.
            headers["Cache-Control"] = "no-store"
            response.vary.add("Cookie")
        if g.get("htmx_vary", True):
            response.vary.add("HX-Request")
        return response
