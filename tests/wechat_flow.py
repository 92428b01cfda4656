"""Going through WeChat in tests with the Flask test client: WeChat's User-Agent, following the
trip to the stand-in's authorisation page and back to our callback, reading the bindings and the
audit log. Shared by tests/test_wechat_login.py and tests/test_wechat_notices.py."""
import json
from urllib.parse import parse_qs, urlsplit

import requests
import sqlalchemy as sa

from extensions import db
from models import AuditEntry, WeChatBinding
from tests.helpers import CAPTCHA, PASSWORD

# WeChat 8.0 on Android (XWEB); what matters is "MicroMessenger".
WECHAT_UA = ("Mozilla/5.0 (Linux; Android 14; V2309A Build/UP1A.231005.007; wv) "
             "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/130.0.6723.103 "
             "Mobile Safari/537.36 XWEB/1300259 MMWEBSDK/20241103 MMWEBID/5981 "
             "MicroMessenger/8.0.55.2780(0x28003737) WeChat/arm64 Weixin NetType/WIFI "
             "Language/zh_CN ABI/arm64")
WECHAT_WORK_UA = WECHAT_UA + " wxwork/4.1.30 MicroMessenger/7.0.1"
PHONE_UA = ("Mozilla/5.0 (Linux; Android 14; V2309A) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/130.0.0.0 Mobile Safari/537.36")


def in_wechat(client, agent=WECHAT_UA):
    client.environ_base["HTTP_USER_AGENT"] = agent
    return client


def wechat_location(response) -> str:
    """Where our answer sends the browser: WeChat's authorisation page (303, or HX-Redirect)."""
    location = response.headers.get("HX-Redirect") or response.headers.get("Location", "")
    assert response.status_code in (204, 303), (response.status_code,
                                                response.get_data(as_text=True)[-800:])
    assert "/connect/oauth2/authorize?" in location, location
    return location


def authorised(response) -> str:
    """What WeChat's browser does at the authorisation page: the callback URL it comes back to
    (the stand-in answers 302 with a fresh code and the state)."""
    answer = requests.get(wechat_location(response), allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def callback_path(url: str, **replace) -> str:
    """The callback URL as a path for the test client, with query parameters replaced."""
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    query.update(replace)
    return parts.path + "?" + "&".join(f"{k}={v}" for k, v in query.items())


def through_wechat(client, response, **replace):
    """Follow the trip to WeChat and back; the callback's answer."""
    return client.get(callback_path(authorised(response), **replace))


def start_one_tap(client, next_url=None):
    return client.post("/wechat/login", data={"next": next_url} if next_url else {})


def one_tap(client, next_url=None):
    """微信一键登录 from start to the callback's answer."""
    return through_wechat(client, start_one_tap(client, next_url))


def password_login(client, id_number, password=PASSWORD):
    return client.post("/login", data={"id_number": id_number, "password": password,
                                       "captcha": CAPTCHA})


def bind_by_password(client, password=PASSWORD, next_url=None):
    """绑定微信 with the password: the callback's answer."""
    data = {"password": password}
    if next_url:
        data["next"] = next_url
    return through_wechat(client, client.post("/account/wechat", data=data))


def bindings(app) -> list[WeChatBinding]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(WeChatBinding).order_by(WeChatBinding.id)))
        db.session.expunge_all()
        db.session.remove()
    return rows


def audit_rows(app, prefix="") -> list[tuple[str, str, dict]]:
    """(action, subject, details) of every audit row whose action starts with `prefix`."""
    with app.app_context():
        rows = db.session.execute(sa.select(AuditEntry.action, AuditEntry.subject,
                                            AuditEntry.details).order_by(AuditEntry.id)).all()
        db.session.remove()
    return [(action, subject, json.loads(details)) for action, subject, details in rows
            if action.startswith(prefix)]


def everything_stored(app) -> str:
    """Every audit row and binding as text: where an openid must never appear."""
    with app.app_context():
        texts = [" ".join(row) for row in db.session.execute(
            sa.select(AuditEntry.actor, AuditEntry.subject, AuditEntry.details)).all()]
        texts += [f"{b.openid_digest} {b.openid_sealed}" for b in
                  db.session.scalars(sa.select(WeChatBinding))]
        db.session.remove()
    return "\n".join(texts)
