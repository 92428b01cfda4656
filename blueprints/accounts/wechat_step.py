"""The pieces of WeChat one-tap login the account views share: is this WeChat's browser, is the
login offered, where a password login inside WeChat goes next, and the trip to WeChat's
authorisation page (a fixed redirect_uri from PUBLIC_URL, a state bound to this session)."""
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request, session, url_for

import wechat
from blueprints.main.hooks import CSP
from blueprints.web import redirect_url, safe_next
from domain import wechat_bindings, wechat_states
from extensions import db

# WeChat's own browser says so in its User-Agent; WeChat Work (企业微信) says it too, but an
# official account's web authorisation does not work there.
WECHAT_AGENT = "MicroMessenger"
WECHAT_WORK_AGENT = "wxwork"


def in_wechat() -> bool:
    agent = request.user_agent.string if has_request_context() else ""
    return WECHAT_AGENT in agent and WECHAT_WORK_AGENT not in agent.lower()


def offered() -> bool:
    """WeChat login is configured (appid, secret, PUBLIC_URL); else no button anywhere."""
    return wechat_bindings.login_offered(current_app.config)


def shown() -> bool:
    """微信一键登录 on the login page: configured, and inside WeChat. Elsewhere nothing changes."""
    return offered() and in_wechat()


def after_login(account, next_url: str | None) -> str:
    """Where a password login goes: inside WeChat, an account that may bind and has not is
    offered 绑定微信 first (with 暂不绑定 to go on to `next_url`)."""
    target = next_url or url_for("main.home")
    if shown() and wechat_bindings.bind_refusal(account) is None and \
            wechat_bindings.binding_of(account) is None:
        return url_for("accounts.wechat_settings", next=next_url)
    return target


def to_wechat(intent: wechat_states.Intent, next_url: str | None, account=None):
    """Send the browser to WeChat's silent authorisation; it comes back to the callback."""
    state = wechat_states.begin(session, intent, safe_next(next_url), account)
    db.session.commit()
    callback = wechat_bindings.site_address("accounts.wechat_callback")
    return redirect_url(wechat.client().authorize_url(callback, state))


def csp_with_wechat() -> str:
    """The site's CSP, with WeChat's authorisation page allowed as where a form may lead: a
    form whose answer redirects there (微信一键登录, 绑定微信) is otherwise stopped by the
    browser (`form-action 'self'` holds for every redirect after a submission)."""
    parts = urlsplit(current_app.config.get("WECHAT_OPEN_BASE") or wechat.OPEN_BASE)
    return CSP.replace("form-action 'self'", f"form-action 'self' {parts.scheme}://{parts.netloc}")
