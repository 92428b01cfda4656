"""WeChat (微信): silent web authorisation (snsapi_base) and template messages.

    configured(config)            -> bool: may the WeChat login be offered? (appid and secret set)
    notices_configured(config)    -> bool: may decisions be sent by template message?
    client(app=None)              -> the app's WeChatClient, built from its config
    authorize_url(appid, redirect_uri, state) -> the URL to send a browser inside WeChat to
    WeChatClient.authorize_url(redirect_uri, state)
    WeChatClient.exchange_code(code) -> OAuthResult (openid, is_snapshot_user, ...)
    WeChatClient.send_template(openid, {key: text}, url=..., client_msg_id=...) -> msgid
    WeChatClient.access_token()   -> the official account's token, shared through Redis

Every failure is a WeChatError; its subclasses say which kind. Identity never rests on WeChat
alone: an openid is only ever bound to an account already verified by ID number and SMS."""
from flask import current_app

from wechat.client import API_BASE, OPEN_BASE, OAuthResult, WeChatClient, authorize_url
from wechat.errors import (
    CodeInvalid,
    ConfigurationError,
    InvalidRecipient,
    LimitReached,
    NotFollowing,
    TemplateInvalid,
    TokenRejected,
    WeChatError,
    WeChatUnavailable,
)

__all__ = [
    "API_BASE", "OPEN_BASE", "CodeInvalid", "ConfigurationError", "InvalidRecipient",
    "LimitReached", "NotFollowing", "OAuthResult", "TemplateInvalid", "TokenRejected",
    "WeChatClient", "WeChatError", "WeChatUnavailable", "authorize_url", "client", "configured",
    "notices_configured",
]

_SETTINGS = ("WECHAT_APPID", "WECHAT_SECRET", "WECHAT_TEMPLATE_ID", "WECHAT_API_BASE",
             "WECHAT_OPEN_BASE", "REDIS_URL")


def configured(config) -> bool:
    """Production starts without WeChat; the login page then shows no WeChat button."""
    return bool(config.get("WECHAT_APPID") and config.get("WECHAT_SECRET"))


def notices_configured(config) -> bool:
    return configured(config) and bool(config.get("WECHAT_TEMPLATE_ID"))


def client(app=None) -> WeChatClient:
    """One client per app, so its connections and its per-process token store last; built
    again if the settings changed. Raises ConfigurationError when WeChat is not configured."""
    app = app or current_app._get_current_object()
    settings = tuple(app.config.get(name) for name in _SETTINGS)
    kept = app.extensions.get("wechat")
    if kept is None or kept[0] != settings:
        kept = app.extensions["wechat"] = (settings, WeChatClient(app.config))
    return kept[1]
