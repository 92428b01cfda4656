"""The login page for a first visit, rendered once per process.

Hundreds of thousands of people open the login page in the last days before a deadline. For a
visitor with no query string, no messages and no form errors the page is the same for everyone
except its CSRF token, so its HTML is rendered once with a placeholder and the token is put in
per request. Anything else (errors, `next=`, messages, HTMX) renders normally."""
from flask import current_app, g, make_response, render_template
from flask_wtf.csrf import generate_csrf

from blueprints.accounts.forms import LoginForm

_TOKEN_SLOT = "@@csrf-token-slot@@"
_CACHE_KEY = "login_page_html"


def cacheable() -> bool:
    # Templates may change under a developer's feet; in production they do not.
    return not (current_app.debug or current_app.config.get("TEMPLATES_AUTO_RELOAD"))


def _frame() -> str:
    cache = current_app.extensions
    html = cache.get(_CACHE_KEY)
    if html is None:
        # generate_csrf() returns g.csrf_token when set (Flask-WTF caches the request's token
        # there), so every csrf_token() in the page, macros included, renders the placeholder.
        g.csrf_token = _TOKEN_SLOT
        try:
            html = render_template("accounts/login.html", form=LoginForm(formdata=None), sms=None)
        finally:
            g.pop("csrf_token", None)
        cache[_CACHE_KEY] = html
    return html


def plain_response():
    response = make_response(_frame().replace(_TOKEN_SLOT, generate_csrf()))
    response.vary.add("HX-Request")
    return response
