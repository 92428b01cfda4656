"""The HTTP calls to WeChat. The only module that talks to WeChat.

`requests` rather than urllib: it is already installed (twilio needs it), it takes separate
connect and read timeouts, and a session keeps the TLS connection to api.weixin.qq.com open
between calls. Replies are decoded as UTF-8 by us, never by the Content-Type header: WeChat
sometimes answers JSON as `text/plain` without a charset, which would be read as Latin-1.

The app's access token comes from `POST /cgi-bin/stable_token` (normal mode), not
`GET /cgi-bin/token`: every call to the latter issues a new token and retires the previous one,
so any other system, staging host or script fetching a token with the same appid would knock
ours out; the stable token stays the same for every caller until it nears expiry."""
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

import requests

from wechat.errors import (
    BUSY,
    TOKEN_REFUSED,
    CodeInvalid,
    ConfigurationError,
    WeChatError,
    WeChatUnavailable,
    error_for,
)
from wechat.token_store import store_for

log = logging.getLogger("wechat")

API_BASE = "https://api.weixin.qq.com"
OPEN_BASE = "https://open.weixin.qq.com"
TIMEOUT = (3.05, 5.0)  # connect, read (seconds)
ATTEMPTS = 3
BACKOFF_SECONDS = 0.2
STATE = re.compile(r"[A-Za-z0-9]{0,128}")  # WeChat's rule for the state parameter


@dataclass(frozen=True)
class OAuthResult:
    """What a code exchange tells us. A snapshot-page user (朋友圈快照页) is a virtual account
    with a made-up openid: never bind it or log it in."""
    openid: str
    scope: str
    is_snapshot_user: bool = False
    unionid: str | None = None
    expires_in: int = 0
    access_token: str = field(default="", repr=False)
    refresh_token: str = field(default="", repr=False)


def authorize_url(appid: str, redirect_uri: str, state: str, open_base: str = OPEN_BASE) -> str:
    """The silent authorisation (snsapi_base) page, parameters in the order WeChat documents.

    WeChat then redirects to `redirect_uri?code=CODE&state=STATE`; the fragment is required."""
    if not STATE.fullmatch(state):
        raise ValueError("state must be at most 128 letters and digits")
    query = urlencode([("appid", appid), ("redirect_uri", redirect_uri),
                       ("response_type", "code"), ("scope", "snsapi_base"), ("state", state)],
                      quote_via=quote)
    return f"{open_base.rstrip('/')}/connect/oauth2/authorize?{query}#wechat_redirect"


class WeChatClient:
    """One official account (公众号): web authorisation, its access token, template messages.

    `config` is a mapping with WECHAT_APPID, WECHAT_SECRET and optionally WECHAT_TEMPLATE_ID,
    WECHAT_API_BASE, WECHAT_OPEN_BASE and REDIS_URL (where the token is shared)."""

    def __init__(self, config: Mapping, store=None, *, timeout=TIMEOUT, attempts=ATTEMPTS,
                 backoff=BACKOFF_SECONDS):
        if not (config.get("WECHAT_APPID") and config.get("WECHAT_SECRET")):
            raise ConfigurationError("WECHAT_APPID and WECHAT_SECRET are not set")
        self.appid = config["WECHAT_APPID"]
        self._secret = config["WECHAT_SECRET"]
        self.template_id = config.get("WECHAT_TEMPLATE_ID")
        self.api_base = (config.get("WECHAT_API_BASE") or API_BASE).rstrip("/")
        self.open_base = (config.get("WECHAT_OPEN_BASE") or OPEN_BASE).rstrip("/")
        self._store = store if store is not None else store_for(config)
        self._timeout = timeout
        self._attempts = attempts
        self._backoff = backoff
        self._local = threading.local()  # a requests.Session per thread

    # -- web authorisation --------------------------------------------------------------------
    def authorize_url(self, redirect_uri: str, state: str) -> str:
        return authorize_url(self.appid, redirect_uri, state, self.open_base)

    def exchange_code(self, code: str) -> OAuthResult:
        """Trade the code WeChat put on the redirect for the person's openid. A code works once."""
        if not code:
            raise CodeInvalid("no code")
        answer = self._call("GET", "/sns/oauth2/access_token", params={
            "appid": self.appid, "secret": self._secret, "code": code,
            "grant_type": "authorization_code"})
        _raise_for(answer)
        if not answer.get("openid"):
            raise WeChatError("the code exchange answered without an openid")
        return OAuthResult(
            openid=answer["openid"], scope=answer.get("scope", ""),
            is_snapshot_user=answer.get("is_snapshotuser") == 1, unionid=answer.get("unionid"),
            expires_in=int(answer.get("expires_in") or 0),
            access_token=answer.get("access_token", ""),
            refresh_token=answer.get("refresh_token", ""))

    # -- the official account's access token --------------------------------------------------
    def access_token(self) -> str:
        return self._store.get_or_fetch(self.appid, self._fetch_token)

    def _fetch_token(self) -> tuple[str, int]:
        answer = self._call("POST", "/cgi-bin/stable_token", body={
            "grant_type": "client_credential", "appid": self.appid, "secret": self._secret,
            "force_refresh": False})
        _raise_for(answer)
        if not answer.get("access_token"):
            raise WeChatError("the token call answered without a token")
        return answer["access_token"], int(answer.get("expires_in") or 0)

    # -- template messages --------------------------------------------------------------------
    def send_template(self, openid: str, data: Mapping[str, str], *, url: str | None = None,
                      template_id: str | None = None, client_msg_id: str | None = None) -> int:
        """Send a template message (default: WECHAT_TEMPLATE_ID); return WeChat's msgid.

        `data` maps the template's keys to their text. WeChat sends one message per openid and
        client_msg_id within 10 minutes, so a retry after "busy" or a lost connection cannot
        deliver twice; a caller that retries later passes the same client_msg_id."""
        template_id = template_id or self.template_id
        if not template_id:
            raise ConfigurationError("WECHAT_TEMPLATE_ID is not set")
        body = {"touser": openid, "template_id": template_id,
                "data": {key: {"value": value} for key, value in data.items()}}
        if url:
            body["url"] = url
        body["client_msg_id"] = client_msg_id or uuid.uuid4().hex
        answer = self._with_token(lambda token: self._call(
            "POST", "/cgi-bin/message/template/send", params={"access_token": token}, body=body))
        return answer.get("msgid")

    def _with_token(self, call) -> dict:
        """Call with the shared token; if WeChat refuses the token, refresh it once and retry."""
        token = self.access_token()
        answer = call(token)
        if answer.get("errcode") in TOKEN_REFUSED:
            log.warning("wechat refused the access token (errcode %s); refreshing",
                        answer["errcode"])
            self._store.discard(self.appid, token)
            answer = call(self.access_token())
        _raise_for(answer)
        return answer

    # -- HTTP ---------------------------------------------------------------------------------
    def close(self) -> None:
        """Close this thread's connections."""
        session = getattr(self._local, "session", None)
        if session is not None:
            session.close()
            self._local.session = None

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _call(self, method: str, path: str, *, params=None, body=None) -> dict:
        """One API call, tried again only when WeChat is busy or was never reached.

        A read timeout is not retried: WeChat may have done it (used the code, sent the
        message). Exceptions are raised `from None`: requests' messages carry the URL, and
        with it the secret or the access token."""
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {} if body is None else {"Content-Type": "application/json; charset=utf-8"}
        problem, errcode = "", None
        for attempt in range(self._attempts):
            if attempt:
                time.sleep(self._backoff * 2 ** (attempt - 1))
            try:
                response = self._session().request(
                    method, self.api_base + path, params=params, data=data, headers=headers,
                    timeout=self._timeout, allow_redirects=False)
            except requests.ConnectionError as error:  # includes a connect timeout
                problem, errcode = type(error).__name__, None
                continue
            except requests.RequestException as error:
                log.warning("wechat %s: %s", path, type(error).__name__)
                raise WeChatUnavailable(f"wechat {path}: {type(error).__name__}") from None
            answer = _decode(path, response)
            if answer.get("errcode") != BUSY:
                return answer
            problem, errcode = f"busy: {answer.get('errmsg', '')}", BUSY
        log.warning("wechat %s failed %d times: %s", path, self._attempts, problem)
        raise WeChatUnavailable(f"wechat {path}: {problem}", errcode)


def _decode(path: str, response: requests.Response) -> dict:
    if response.status_code != 200:
        log.warning("wechat %s answered HTTP %s", path, response.status_code)
        raise WeChatUnavailable(f"wechat {path}: HTTP {response.status_code}")
    try:
        answer = json.loads(response.content.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError is a ValueError too
        answer = None
    if not isinstance(answer, dict):
        log.warning("wechat %s answered something that is not a JSON object", path)
        raise WeChatUnavailable(f"wechat {path}: not a JSON object")
    return answer


def _raise_for(answer: dict) -> None:
    errcode = answer.get("errcode") or 0
    if errcode:
        log.warning("wechat errcode %s: %s", errcode, answer.get("errmsg", ""))
        raise error_for(errcode, answer.get("errmsg", ""))
