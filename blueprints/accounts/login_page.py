"""The login page for a first visit, rendered once per process.

Hundreds of thousands of people open the login page in the last days before a deadline. For a
visitor with no query string, no messages and no form errors the page is the same for everyone
except its CSRF token, so its HTML is rendered once with a placeholder and the token is put in
per request (saves about half the page's time: bench/pages_bench.py, "login page").

The placeholder goes in through public Jinja API: the frame is rendered by an overlay of the
app's environment whose `csrf_token` (a global for macros, a context value for pages) returns
the placeholder, so the templates render exactly as usual and nothing of Flask-WTF is touched."""
from flask import current_app, make_response
from flask_wtf.csrf import generate_csrf

from blueprints.accounts.forms import LoginForm

_TOKEN_SLOT = "@@csrf-token-slot@@"
_CACHE_KEY = "login_page_html"


def cacheable() -> bool:
    # Templates may change under a developer's feet; in production they do not.
    return not (current_app.debug or current_app.config.get("TEMPLATES_AUTO_RELOAD"))


def _frame(wechat: bool) -> str:
    """The page as a first visitor sees it; inside WeChat (when offered) with 微信一键登录."""
    cache = current_app.extensions
    key = f"{_CACHE_KEY}:wechat" if wechat else _CACHE_KEY
    html = cache.get(key)
    if html is None:
        # Its own template cache (none): templates compiled for the app keep the real global.
        environment = current_app.jinja_env.overlay(cache_size=0)
        placeholder = {"csrf_token": lambda: _TOKEN_SLOT}
        environment.globals = {**current_app.jinja_env.globals, **placeholder}  # macros
        context = {"form": LoginForm(formdata=None, meta={"csrf": False}), "sms": None}
        current_app.update_template_context(context)
        context.update(placeholder)  # the pages (Flask-WTF also offers it as a context value)
        context["wechat_login_shown"] = lambda: wechat
        html = environment.get_template("accounts/login.html").render(context)
        cache[key] = html
    return html


def plain_response(wechat: bool = False):
    response = make_response(_frame(wechat).replace(_TOKEN_SLOT, generate_csrf()))
    response.vary.add("HX-Request")
    return response
