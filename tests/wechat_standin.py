"""A local stand-in for WeChat, for our own client (wechat/) to talk to.

    with WeChatStandIn() as wechat:               # listens on 127.0.0.1, a free port
        config["WECHAT_API_BASE"] = config["WECHAT_OPEN_BASE"] = wechat.url
        wechat.appid, wechat.secret               # the official account it knows
        wechat.openid = "o_abc"                   # whom the next authorisations are for
        wechat.snapshot = True                    # ...a snapshot-page virtual user instead
        wechat.reissue = code                     # the next authorisation hands back this code
                                                  # (one already used) instead of a new one
        wechat.expires_in = 7200                  # life of the tokens it issues
        wechat.delay = 1.0                        # how long "slow" waits before answering
        wechat.set_mode("oauth", "busy")          # every code exchange answers -1 until changed
        wechat.set_mode("send", "busy", times=1)  # only the next template send answers -1
        wechat.expire_tokens()                    # the tokens issued so far answer 42001
        wechat.revoke_tokens()                    # ... answer 40001
        wechat.requests / .authorizations / .exchanges / .token_requests / .messages
        wechat.tokens_issued

Endpoints, as WeChat answers them:
    GET  /connect/oauth2/authorize        302 to redirect_uri?code=CODE&state=STATE (single-use
                                          code, 5 minutes), or an error page (400)
    GET  /sns/oauth2/access_token         the code exchange; 40029 unknown or expired code,
                                          40163 used code, 40125 wrong secret, 40013 wrong appid
    POST /cgi-bin/stable_token            the app's token, normal mode: the same token until it
                                          expires; force_refresh issues a new one
    POST /cgi-bin/message/template/send   records the message; 40001/42001 for a bad token,
                                          40003 bad openid, 40037 unknown template

Modes, per endpoint ("oauth", "token", "send"): ok; busy (errcode -1); error (HTTP 500);
slow (waits `delay`, then answers as ok); garbage (HTTP 200, not JSON); and for "send" also
not_following (43004), limit (45009), invalid_token (40001 whatever the token). A busy, error
or garbage answer does nothing (no code used, no message recorded as delivered).

JSON goes out as `text/plain` without a charset, as WeChat sometimes sends it, and the 43004
message carries Chinese, so a client that trusts the header instead of decoding UTF-8 shows."""
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.standin_server import LocalStandIn

SCOPES = ("snsapi_base", "snsapi_userinfo")
STATE = re.compile(r"[A-Za-z0-9]{0,128}")
OPENID = re.compile(r"[A-Za-z0-9_-]{1,64}")
COMMON_MODES = ("ok", "busy", "error", "slow", "garbage")
MODES = {
    "oauth": COMMON_MODES,
    "token": COMMON_MODES,
    "send": COMMON_MODES + ("not_following", "limit", "invalid_token"),
}
ENDPOINTS = {
    ("GET", "/connect/oauth2/authorize"): "authorize",
    ("GET", "/sns/oauth2/access_token"): "oauth",
    ("POST", "/cgi-bin/stable_token"): "token",
    ("POST", "/cgi-bin/message/template/send"): "send",
}
CODE_TTL_SECONDS = 300


@dataclass
class Received:
    """One request as the stand-in saw it, and what it answered."""
    method: str
    path: str
    endpoint: str | None
    query: dict
    raw_body: bytes
    headers: dict
    status: int = 0
    answer: dict | None = None

    @property
    def json(self) -> dict | None:
        try:
            return json.loads(self.raw_body.decode("utf-8"))
        except ValueError:
            return None

    @property
    def errcode(self) -> int | None:
        return None if self.answer is None else self.answer.get("errcode", 0)

    # the template message's fields
    def _field(self, name):
        return (self.json or {}).get(name)

    @property
    def touser(self):
        return self._field("touser")

    @property
    def template_id(self):
        return self._field("template_id")

    @property
    def url(self):
        return self._field("url")

    @property
    def data(self):
        return self._field("data")

    @property
    def client_msg_id(self):
        return self._field("client_msg_id")


@dataclass
class _Grant:
    openid: str
    scope: str
    snapshot: bool
    issued: float
    used: bool = False


@dataclass
class _Token:
    expires: float
    revoked: bool = False


@dataclass
class _Mode:
    mode: str = "ok"
    upcoming: list = field(default_factory=list)


def _error(errcode: int, errmsg: str) -> dict:
    return {"errcode": errcode, "errmsg": f"{errmsg} rid: {secrets.token_hex(4)}"}


class WeChatStandIn(LocalStandIn):
    def __init__(self, appid: str = "wx_standin_appid", secret: str = "standin-secret"):
        self.appid = appid
        self.secret = secret
        self.openid = "o_standin_user"
        self.snapshot = False
        self.reissue = None
        self.unionid = None  # only returned for snsapi_userinfo, as WeChat does
        self.redirect_hosts = None  # None: any; else the 网页授权域名 (10003 for others)
        self.template_ids = {"TPL_decision"}
        self.expires_in = 7200
        self.delay = 1.0
        self.tokens_issued = 0
        self.requests: list[Received] = []
        self._modes = {endpoint: _Mode() for endpoint in MODES}
        self._grants: dict[str, _Grant] = {}
        self._tokens: dict[str, _Token] = {}
        self._current_token = None
        self._next_msgid = 1000
        self._lock = threading.Lock()
        self._server = None
        self._thread = None

    # -- control ------------------------------------------------------------------------------
    def set_mode(self, endpoint: str, mode: str, times: int | None = None) -> None:
        """`mode` for the next `times` requests to `endpoint`, then back; or until changed."""
        if mode not in MODES.get(endpoint, ()):
            raise ValueError(f"{endpoint!r} modes are {MODES.get(endpoint)}")
        with self._lock:
            if times is None:
                self._modes[endpoint] = _Mode(mode)
            else:
                self._modes[endpoint].upcoming.extend([mode] * times)

    def expire_tokens(self) -> None:
        with self._lock:
            for token in self._tokens.values():
                token.expires = min(token.expires, time.time())

    def revoke_tokens(self) -> None:
        with self._lock:
            for token in self._tokens.values():
                token.revoked = True

    def _take_mode(self, endpoint: str) -> str:
        with self._lock:
            state = self._modes[endpoint]
            return state.upcoming.pop(0) if state.upcoming else state.mode

    # -- what was received --------------------------------------------------------------------
    def _received(self, endpoint: str) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if r.endpoint == endpoint]

    @property
    def authorizations(self) -> list[Received]:
        return self._received("authorize")

    @property
    def exchanges(self) -> list[Received]:
        return self._received("oauth")

    @property
    def token_requests(self) -> list[Received]:
        return self._received("token")

    @property
    def messages(self) -> list[Received]:
        """Every template send received, delivered or not (see `.errcode`)."""
        return self._received("send")

    @property
    def delivered(self) -> list[Received]:
        return [m for m in self.messages if m.errcode == 0]

    # -- served by tests/standin_server.py --------------------------------------------------
    def _handle_get(self, handler) -> None:
        self._handle(handler, "GET")

    def _handle_post(self, handler) -> None:
        self._handle(handler, "POST")

    # -- answering ----------------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        received = Received(
            method=method, path=parts.path, endpoint=ENDPOINTS.get((method, parts.path)),
            query={k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()},
            raw_body=handler.rfile.read(length) if length else b"",
            headers=dict(handler.headers.items()))
        with self._lock:
            self.requests.append(received)
        if received.endpoint == "authorize":
            self._authorize(handler, received)
            return
        if received.endpoint is None:
            self._reply(handler, received, 404, _error(404, "not found"))
            return
        mode = self._take_mode(received.endpoint)
        if mode == "busy":
            self._reply(handler, received, 200, _error(-1, "system error"))
        elif mode == "error":
            self._reply_raw(handler, received, 500, b"<html>500 Internal Server Error</html>")
        elif mode == "garbage":
            self._reply_raw(handler, received, 200, b"<html><body>\xe7\xb3\xbb\xe7\xbb\x9f"
                                                    b"\xe7\xb9\x81\xe5\xbf\x99</body></html>")
        else:
            if mode == "slow":
                time.sleep(self.delay)
            answer = getattr(self, f"_{received.endpoint}")(received, mode)
            self._reply(handler, received, 200, answer)

    def _authorize(self, handler, received: Received) -> None:
        query = received.query
        redirect_uri = query.get("redirect_uri", "")
        state = query.get("state", "")
        problem = None
        if query.get("appid") != self.appid:
            problem = "appid 错误"
        elif not redirect_uri:
            problem = "10011 redirect_uri 参数错误"
        elif self.redirect_hosts is not None and (
                urlsplit(redirect_uri).hostname not in self.redirect_hosts):
            problem = "10003 redirect_uri 域名与后台配置不一致"
        elif query.get("response_type") != "code":
            problem = "response_type 参数错误"
        elif query.get("scope") not in SCOPES:
            problem = "scope 参数错误或没有 scope 权限"
        elif not STATE.fullmatch(state):
            problem = "state 参数错误"
        if problem:
            page = f"<html><body><p>{problem}</p></body></html>".encode()
            self._reply_raw(handler, received, 400, page, "text/html; charset=utf-8")
            return
        with self._lock:
            if self.reissue:
                code, self.reissue = self.reissue, None
            else:
                code = secrets.token_urlsafe(24).replace("-", "A").replace("_", "B")
                self._grants[code] = _Grant(self.openid, query["scope"], self.snapshot,
                                            time.time())
        separator = "&" if "?" in redirect_uri else "?"
        location = redirect_uri + separator + urlencode({"code": code, "state": state})
        received.status = 302
        received.answer = {"location": location}
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.send_header("Connection", "close")
        handler.end_headers()

    def _oauth(self, received: Received, _mode: str) -> dict:
        query = received.query
        if query.get("appid") != self.appid:
            return _error(40013, "invalid appid")
        if query.get("secret") != self.secret:
            return _error(40125, "invalid appsecret")
        if query.get("grant_type") != "authorization_code":
            return _error(40002, "invalid grant_type")
        if not query.get("code"):
            return _error(41008, "missing code")
        with self._lock:
            grant = self._grants.get(query["code"])
            if grant is None or time.time() - grant.issued > CODE_TTL_SECONDS:
                return _error(40029, "invalid code")
            if grant.used:
                return _error(40163, "code been used")
            grant.used = True
        answer = {"access_token": "web_" + secrets.token_hex(16), "expires_in": 7200,
                  "refresh_token": "refresh_" + secrets.token_hex(16), "openid": grant.openid,
                  "scope": grant.scope}
        if grant.snapshot:
            answer["is_snapshotuser"] = 1
        if self.unionid and grant.scope == "snsapi_userinfo":
            answer["unionid"] = self.unionid
        return answer

    def _token(self, received: Received, _mode: str) -> dict:
        body = received.json
        if not isinstance(body, dict):
            return _error(47001, "data format error")
        if body.get("grant_type") != "client_credential":
            return _error(40002, "invalid grant_type")
        if body.get("appid") != self.appid:
            return _error(40013, "invalid appid")
        if body.get("secret") != self.secret:
            return _error(40125, "invalid appsecret")
        now = time.time()
        with self._lock:
            current = self._tokens.get(self._current_token)
            usable = current is not None and not current.revoked and current.expires > now
            if body.get("force_refresh") or not usable:
                if current is not None:
                    current.revoked = True
                self._current_token = "token_" + secrets.token_hex(16)
                current = self._tokens[self._current_token] = _Token(now + self.expires_in)
                self.tokens_issued += 1
            return {"access_token": self._current_token,
                    "expires_in": max(0, int(current.expires - now))}

    def _send(self, received: Received, mode: str) -> dict:
        token = received.query.get("access_token")
        with self._lock:
            known = self._tokens.get(token)
        if not token:
            return _error(41001, "access_token missing")
        if known is None or known.revoked:
            return _error(40001, "invalid credential, access_token is invalid or not latest")
        if known.expires <= time.time():
            return _error(42001, "access_token expired")
        if mode == "invalid_token":
            return _error(40001, "invalid credential, access_token is invalid or not latest")
        if mode == "not_following":
            return _error(43004, "require subscribe（用户未关注公众号）")
        if mode == "limit":
            return _error(45009, "reach max api daily quota limit")
        body = received.json
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict) or not all(
                isinstance(item, dict) and "value" in item for item in body["data"].values()):
            return _error(47001, "data format error")
        if not OPENID.fullmatch(str(body.get("touser", ""))):
            return _error(40003, "invalid openid")
        if body.get("template_id") not in self.template_ids:
            return _error(40037, "invalid template_id")
        with self._lock:
            self._next_msgid += 1
            return {"errcode": 0, "errmsg": "ok", "msgid": self._next_msgid}

    @staticmethod
    def _reply(handler, received: Received, status: int, answer: dict) -> None:
        received.answer = answer
        payload = json.dumps(answer, ensure_ascii=False).encode("utf-8")
        WeChatStandIn._reply_raw(handler, received, status, payload, "text/plain")

    @staticmethod
    def _reply_raw(handler, received: Received, status: int, payload: bytes,
                   content_type: str = "text/html") -> None:
        received.status = status
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(payload)))
        handler.send_header("Connection", "close")
        handler.end_headers()
        try:
            handler.wfile.write(payload)
        except OSError:
            pass  # the client gave up waiting (a timeout test)
