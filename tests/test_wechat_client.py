"""Our WeChat client (wechat/) against a local stand-in (tests/wechat_standin.py, 127.0.0.1 only):
web authorisation, the shared access token, template messages; and the production settings."""
import os
import socket
import threading
import time
import traceback
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import redis
import requests

import config as config_module
import wechat
from app import create_app
from config import ProductionConfig
from tests.wechat_standin import WeChatStandIn
from wechat.client import ATTEMPTS
from wechat.token_store import MemoryTokenStore, RedisTokenStore, cache_seconds, store_for

REDIS_URL = os.environ.get("TEST_REDIS_URL")
CALLBACK = "http://127.0.0.1:5000/accounts/wechat/callback?next=%2Fcollection"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                   "all_proxy")
DECISION = {"thing1": "会计人员信息采集", "phrase2": "审核通过", "time3": "2026年12月1日"}


@pytest.fixture
def standin(monkeypatch):
    """The stand-in, with no proxy between the client and 127.0.0.1, and its own appid (so
    tests sharing a Redis never share a token)."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    with WeChatStandIn(appid="wx" + uuid.uuid4().hex[:16]) as server:
        server.openid = "o_abc"
        yield server


def settings_for(standin, **changes) -> dict:
    settings = {
        "WECHAT_APPID": standin.appid, "WECHAT_SECRET": standin.secret,
        "WECHAT_TEMPLATE_ID": "TPL_decision", "WECHAT_API_BASE": standin.url,
        "WECHAT_OPEN_BASE": standin.url, "REDIS_URL": None,
    }
    settings.update(changes)
    return settings


@pytest.fixture
def make_client(standin):
    made = []

    def make(store=None, **options):
        options.setdefault("backoff", 0)
        made.append(wechat.WeChatClient(settings_for(standin), store, **options))
        return made[-1]

    yield make
    for client in made:
        client.close()


@pytest.fixture
def wx(make_client):
    return make_client()


@pytest.fixture
def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again on leaving: nothing listens there


def authorise(wx, redirect_uri=CALLBACK, state="s1") -> str:
    """What WeChat's browser does: open the authorisation page, follow it back; the code."""
    response = requests.get(wx.authorize_url(redirect_uri, state), allow_redirects=False,
                            timeout=5)
    assert response.status_code == 302, response.text
    return parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]


# -- the authorisation URL -----------------------------------------------------------------------

def test_authorize_url_is_exactly_what_wechat_documents():
    url = wechat.authorize_url("wx1234567890abcdef",
                               "https://kjxx.example.cn/accounts/wechat/callback?next=/a b",
                               "Ab12")
    assert url == (
        "https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx1234567890abcdef"
        "&redirect_uri=https%3A%2F%2Fkjxx.example.cn%2Faccounts%2Fwechat%2Fcallback%3Fnext%3D"
        "%2Fa%20b&response_type=code&scope=snsapi_base&state=Ab12#wechat_redirect")


def test_the_client_builds_it_on_its_open_base(wx, standin):
    assert wx.authorize_url(CALLBACK, "x").startswith(
        f"{standin.url}/connect/oauth2/authorize?appid={standin.appid}&redirect_uri=http%3A")


@pytest.mark.parametrize("state", ["a-b", "中文", "x" * 129])
def test_authorize_url_refuses_a_state_wechat_would_refuse(state):
    with pytest.raises(ValueError, match="state"):
        wechat.authorize_url("wx1", CALLBACK, state)


def test_following_the_authorisation_brings_back_code_and_state(wx, standin):
    response = requests.get(wx.authorize_url(CALLBACK, "Xyz789"), allow_redirects=False,
                            timeout=5)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK.split("?")[0]
    query = parse_qs(location.query)
    assert query["next"] == ["/collection"]  # the redirect_uri's own query survives
    assert query["state"] == ["Xyz789"]
    assert len(query["code"][0]) >= 16
    [seen] = standin.authorizations
    assert seen.query == {"appid": standin.appid, "redirect_uri": CALLBACK,
                          "response_type": "code", "scope": "snsapi_base", "state": "Xyz789"}


@pytest.mark.parametrize("change, page", [
    ({"appid": "wx_someone_else"}, "appid"),
    ({"scope": "snsapi_login"}, "scope"),
    ({"response_type": "token"}, "response_type"),
    ({"redirect_uri": ""}, "redirect_uri"),
])
def test_the_standin_refuses_an_authorisation_wechat_would_refuse(standin, change, page):
    params = {"appid": standin.appid, "redirect_uri": CALLBACK, "response_type": "code",
              "scope": "snsapi_base", "state": "s"}
    params.update(change)
    response = requests.get(f"{standin.url}/connect/oauth2/authorize", params=params,
                            allow_redirects=False, timeout=5)
    assert response.status_code == 400
    assert page in response.content.decode("utf-8")


def test_the_standin_refuses_a_redirect_outside_the_authorised_domain(wx, standin):
    standin.redirect_hosts = {"kjxx.example.cn"}
    response = requests.get(wx.authorize_url(CALLBACK, "s"), allow_redirects=False, timeout=5)
    assert response.status_code == 400
    assert "10003" in response.content.decode("utf-8")


# -- the code exchange ---------------------------------------------------------------------------

def test_exchange_gives_the_openid(wx, standin):
    result = wx.exchange_code(authorise(wx))
    assert result.openid == "o_abc"
    assert result.scope == "snsapi_base"
    assert result.is_snapshot_user is False
    assert result.unionid is None
    assert result.expires_in == 7200
    assert "access_token" not in repr(result)  # tokens stay out of logs
    [exchange] = standin.exchanges
    assert set(exchange.query) == {"appid", "secret", "code", "grant_type"}
    assert exchange.query["grant_type"] == "authorization_code"


def test_a_snapshot_page_user_is_exposed(wx, standin):
    standin.snapshot = True
    result = wx.exchange_code(authorise(wx))
    assert result.is_snapshot_user is True
    assert standin.exchanges[0].answer["is_snapshotuser"] == 1


def test_a_code_works_once(wx, standin):
    code = authorise(wx)
    wx.exchange_code(code)
    with pytest.raises(wechat.CodeInvalid) as refused:
        wx.exchange_code(code)
    assert refused.value.errcode == 40163
    assert len(standin.exchanges) == 2  # the used code was not tried again


@pytest.mark.parametrize("code", ["not-a-code", ""])
def test_an_unknown_code_is_invalid(wx, code):
    with pytest.raises(wechat.CodeInvalid):
        wx.exchange_code(code)


def test_a_wrong_secret_is_a_configuration_error(standin, make_client):
    wx = make_client()
    code = authorise(wx)
    wrong = wechat.WeChatClient(settings_for(standin, WECHAT_SECRET="wrong"), backoff=0)
    with pytest.raises(wechat.ConfigurationError) as refused:
        wrong.exchange_code(code)
    wrong.close()
    assert refused.value.errcode == 40125
    assert wx.exchange_code(code).openid == "o_abc"  # the refusal did not use the code


def test_busy_is_tried_again(wx, standin):
    code = authorise(wx)
    standin.set_mode("oauth", "busy", times=ATTEMPTS - 1)
    assert wx.exchange_code(code).openid == "o_abc"
    assert [e.errcode for e in standin.exchanges] == [-1] * (ATTEMPTS - 1) + [0]


def test_busy_every_time_gives_up(wx, standin):
    standin.set_mode("oauth", "busy")
    with pytest.raises(wechat.WeChatUnavailable) as refused:
        wx.exchange_code(authorise(wx))
    assert refused.value.errcode == -1
    assert len(standin.exchanges) == ATTEMPTS


def test_a_slow_answer_times_out_and_is_not_tried_again(make_client, standin):
    wx = make_client(timeout=(1, 0.2))
    standin.delay = 2.0
    standin.set_mode("oauth", "slow")
    started = time.monotonic()
    with pytest.raises(wechat.WeChatUnavailable, match="ReadTimeout") as refused:
        wx.exchange_code(authorise(wx))
    assert time.monotonic() - started < 1.5  # neither waited for the answer nor tried again
    assert len(standin.exchanges) == 1  # WeChat may have used the code: no second try
    assert standin.secret not in "".join(traceback.format_exception(refused.value))


@pytest.mark.parametrize("mode, words", [("error", "HTTP 500"), ("garbage", "not a JSON")])
def test_a_broken_answer_is_unavailable(wx, standin, mode, words):
    standin.set_mode("oauth", mode)
    with pytest.raises(wechat.WeChatUnavailable, match=words):
        wx.exchange_code(authorise(wx))
    assert len(standin.exchanges) == 1


def test_unreachable_is_tried_again_and_keeps_the_secret_out_of_the_error(standin, closed_port,
                                                                          caplog):
    wx = wechat.WeChatClient(settings_for(standin, WECHAT_API_BASE=f"http://127.0.0.1:"
                                                                   f"{closed_port}"), backoff=0)
    with pytest.raises(wechat.WeChatUnavailable, match="ConnectionError") as refused:
        wx.exchange_code("some-code")
    wx.close()
    assert f"failed {ATTEMPTS} times" in caplog.text
    # requests' own messages carry the URL, secret included: none of them may travel along.
    assert standin.secret not in "".join(traceback.format_exception(refused.value))
    assert standin.secret not in caplog.text


# -- the access token ----------------------------------------------------------------------------

def test_the_token_is_fetched_once_and_kept(wx, standin):
    assert wx.send_template("o_abc", DECISION, url="https://kjxx.example.cn/collection")
    assert wx.send_template("o_abc", DECISION)
    [token_request] = standin.token_requests
    assert token_request.json == {"grant_type": "client_credential", "appid": standin.appid,
                                  "secret": standin.secret, "force_refresh": False}
    first, second = standin.delivered
    assert first.query["access_token"] == second.query["access_token"]


def test_only_one_thread_fetches_the_token(wx, standin):
    standin.delay = 0.3
    standin.set_mode("token", "slow")
    tokens = []
    threads = [threading.Thread(target=lambda: tokens.append(wx.access_token()))
               for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(tokens) == 5 and len(set(tokens)) == 1
    assert len(standin.token_requests) == 1


@pytest.mark.parametrize("spoil, errcode", [("expire_tokens", 42001),
                                            ("revoke_tokens", 40001)])
def test_a_refused_token_is_refreshed_once(wx, standin, spoil, errcode):
    wx.send_template("o_abc", DECISION)
    getattr(standin, spoil)()
    assert wx.send_template("o_abc", DECISION)
    assert [m.errcode for m in standin.messages] == [0, errcode, 0]
    assert len(standin.token_requests) == 2
    assert standin.tokens_issued == 2


def test_a_token_refused_after_the_refresh_gives_up(wx, standin):
    standin.set_mode("send", "invalid_token")
    with pytest.raises(wechat.TokenRejected):
        wx.send_template("o_abc", DECISION)
    assert len(standin.messages) == 2
    assert len(standin.token_requests) == 2


def test_a_wrong_secret_for_the_token_is_a_configuration_error(standin):
    wx = wechat.WeChatClient(settings_for(standin, WECHAT_SECRET="wrong"), backoff=0)
    with pytest.raises(wechat.ConfigurationError):
        wx.send_template("o_abc", DECISION)
    wx.close()
    assert standin.messages == []


def test_how_long_a_token_is_kept():
    assert cache_seconds(7200) == 6900  # five minutes early
    assert cache_seconds(300) == 150  # a token near its end: half of what is left


def test_store_follows_the_rate_limit_storage():
    assert isinstance(store_for({"REDIS_URL": None}), MemoryTokenStore)
    assert isinstance(store_for({}), MemoryTokenStore)
    assert isinstance(store_for({"REDIS_URL": "redis://127.0.0.1:6379/15"}),
                      RedisTokenStore)


# -- the token shared through Redis --------------------------------------------------------------

@pytest.fixture
def redis_store_factory(standin):
    if not REDIS_URL:
        pytest.skip("needs Redis: set TEST_REDIS_URL (.ci/run does)")
    connections = []

    def make():
        connections.append(redis.Redis.from_url(REDIS_URL))
        return RedisTokenStore(connections[-1])

    yield make
    for key in connections[0].keys(RedisTokenStore.PREFIX + standin.appid + "*"):
        connections[0].delete(key)
    for connection in connections:
        connection.close()


def test_two_hosts_share_one_token_through_redis(make_client, standin, redis_store_factory):
    host_a, host_b = make_client(redis_store_factory()), make_client(redis_store_factory())
    host_a.send_template("o_abc", DECISION)
    host_b.send_template("o_abc", DECISION)
    assert len(standin.token_requests) == 1
    first, second = standin.delivered
    assert first.query["access_token"] == second.query["access_token"]


def test_one_host_refreshes_at_a_time(make_client, standin, redis_store_factory):
    hosts = [make_client(redis_store_factory()) for _ in range(2)]
    standin.delay = 0.3
    standin.set_mode("token", "slow")
    tokens = []
    threads = [threading.Thread(target=lambda h=hosts[i % 2]: tokens.append(h.access_token()))
               for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(tokens) == 6 and len(set(tokens)) == 1
    assert len(standin.token_requests) == 1


def test_a_refreshed_token_serves_every_host(make_client, standin, redis_store_factory):
    host_a, host_b = make_client(redis_store_factory()), make_client(redis_store_factory())
    host_a.send_template("o_abc", DECISION)
    standin.expire_tokens()
    host_b.send_template("o_abc", DECISION)  # 42001, refreshes for both
    host_a.send_template("o_abc", DECISION)  # takes the new token from Redis
    assert [m.errcode for m in standin.messages] == [0, 42001, 0, 0]
    assert len(standin.token_requests) == 2


def test_a_host_with_an_old_refusal_does_not_throw_away_the_new_token(
        make_client, standin, redis_store_factory):
    store = redis_store_factory()
    wx = make_client(store)
    old = wx.access_token()
    standin.expire_tokens()
    store.discard(standin.appid, old)
    new = wx.access_token()
    store.discard(standin.appid, old)  # a late host reporting the old token
    assert wx.access_token() == new != old
    assert len(standin.token_requests) == 2


# -- template messages ---------------------------------------------------------------------------

def test_a_template_message_goes_out_as_utf8_json(wx, standin):
    msgid = wx.send_template("o_abc", DECISION, url="https://kjxx.example.cn/collection",
                             client_msg_id="decision42")
    [message] = standin.messages
    assert message.answer == {"errcode": 0, "errmsg": "ok", "msgid": msgid}
    assert message.touser == "o_abc"
    assert message.template_id == "TPL_decision"
    assert message.url == "https://kjxx.example.cn/collection"
    assert message.client_msg_id == "decision42"
    assert message.data == {key: {"value": value} for key, value in DECISION.items()}
    assert "审核通过".encode() in message.raw_body  # not \u escapes
    assert message.headers["Content-Type"] == "application/json; charset=utf-8"


def test_busy_send_is_tried_again_under_the_same_message_id(wx, standin):
    standin.set_mode("send", "busy", times=1)
    wx.send_template("o_abc", DECISION)
    first, second = standin.messages
    assert (first.errcode, second.errcode) == (-1, 0)
    assert first.client_msg_id == second.client_msg_id  # WeChat sends it at most once


def test_not_following(wx, standin):
    standin.set_mode("send", "not_following")
    with pytest.raises(wechat.NotFollowing) as refused:
        wx.send_template("o_abc", DECISION)
    assert refused.value.errcode == 43004
    assert "用户未关注公众号" in refused.value.errmsg  # text/plain, decoded as UTF-8


def test_daily_limit(wx, standin):
    standin.set_mode("send", "limit")
    with pytest.raises(wechat.LimitReached):
        wx.send_template("o_abc", DECISION)


@pytest.mark.parametrize("openid, template_id, error", [
    ("o abc!", "TPL_decision", wechat.InvalidRecipient),
    ("o_abc", "TPL_unknown", wechat.TemplateInvalid),
])
def test_wrong_recipient_or_template(wx, openid, template_id, error):
    with pytest.raises(error):
        wx.send_template(openid, DECISION, template_id=template_id)


def test_every_failure_is_a_wechat_error():
    for kind in (wechat.WeChatUnavailable, wechat.ConfigurationError, wechat.CodeInvalid,
                 wechat.TokenRejected, wechat.NotFollowing, wechat.LimitReached,
                 wechat.InvalidRecipient, wechat.TemplateInvalid):
        assert issubclass(kind, wechat.WeChatError)


def test_no_template_id_is_a_configuration_error(standin):
    wx = wechat.WeChatClient(settings_for(standin, WECHAT_TEMPLATE_ID=None))
    with pytest.raises(wechat.ConfigurationError, match="WECHAT_TEMPLATE_ID"):
        wx.send_template("o_abc", DECISION)
    assert standin.requests == []


# -- the app's client and its configuration ------------------------------------------------------

def test_configured_needs_appid_and_secret(standin):
    assert wechat.configured(settings_for(standin))
    assert wechat.notices_configured(settings_for(standin))
    assert not wechat.notices_configured(settings_for(standin, WECHAT_TEMPLATE_ID=None))
    for missing in ("WECHAT_APPID", "WECHAT_SECRET"):
        assert not wechat.configured(settings_for(standin, **{missing: None}))
    with pytest.raises(wechat.ConfigurationError):
        wechat.WeChatClient(settings_for(standin, WECHAT_SECRET=""))


def test_the_app_keeps_one_client_until_its_settings_change(app, standin, monkeypatch):
    assert not wechat.configured(app.config)  # tests start without WeChat
    with app.app_context():
        with pytest.raises(wechat.ConfigurationError):
            wechat.client()
        for key, value in settings_for(standin).items():
            monkeypatch.setitem(app.config, key, value)
        first = wechat.client()
        assert wechat.client() is first
        assert first.exchange_code(authorise(first)).openid == "o_abc"
        monkeypatch.setitem(app.config, "WECHAT_TEMPLATE_ID", "TPL_other")
        assert wechat.client() is not first
        assert wechat.client().template_id == "TPL_other"
    app.extensions.pop("wechat", None)


def test_the_client_defaults_are_wechats_own_addresses():
    assert wechat.API_BASE == config_module.WECHAT_API_DEFAULT
    assert wechat.OPEN_BASE == config_module.WECHAT_OPEN_DEFAULT


# -- production ----------------------------------------------------------------------------------

def production_settings(**changes) -> dict:
    settings = {
        "SECRET_KEY": "a-long-random-production-secret-of-64-hex-digits",
        "SQLALCHEMY_DATABASE_URI": "postgresql://kjxx@db.invalid/kjxx",
        "REDIS_URL": "redis://127.0.0.1:6379/14",
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/14",
        "JOB_BACKEND": "rq",
        "CAPTCHA_TEST_ANSWER": None, "SMS_BACKEND": "twilio", "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "secret", "TWILIO_FROM_NUMBER": "+15005550006",
        "TWILIO_BASE_URL": None, "WECHAT_APPID": None, "WECHAT_SECRET": None,
        "WECHAT_TEMPLATE_ID": None, "WECHAT_API_BASE": config_module.WECHAT_API_DEFAULT,
        "WECHAT_OPEN_BASE": config_module.WECHAT_OPEN_DEFAULT, "PUBLIC_URL": None,
    }
    settings.update(changes)
    return settings


def test_production_accepts_wechat_configured_or_not():
    ProductionConfig.check(production_settings())
    ProductionConfig.check(production_settings(WECHAT_APPID="wx1", WECHAT_SECRET="s",
                                               WECHAT_TEMPLATE_ID="t",
                                               PUBLIC_URL="https://kjxx.example.gov.cn"))
    ProductionConfig.check(production_settings(WECHAT_API_BASE=None, WECHAT_OPEN_BASE=""))


@pytest.mark.parametrize("changes, complaint", [
    ({"WECHAT_API_BASE": "http://127.0.0.1:9"}, "WECHAT_API_BASE is a test hook"),
    ({"WECHAT_OPEN_BASE": "http://127.0.0.1:9"}, "WECHAT_OPEN_BASE is a test hook"),
    ({"WECHAT_API_BASE": "https://api.weixin.qq.com/"}, "WECHAT_API_BASE"),
    ({"WECHAT_APPID": "wx1"}, "WECHAT_APPID and WECHAT_SECRET"),
    ({"WECHAT_SECRET": "s"}, "WECHAT_APPID and WECHAT_SECRET"),
    # the fixed redirect_uri needs the site's own https address
    ({"WECHAT_APPID": "wx1", "WECHAT_SECRET": "s"}, "PUBLIC_URL must be"),
    ({"WECHAT_APPID": "wx1", "WECHAT_SECRET": "s", "PUBLIC_URL": "http://kjxx.example.gov.cn"},
     "PUBLIC_URL must be"),
])
def test_production_refuses(changes, complaint):
    with pytest.raises(RuntimeError, match="Refusing to start") as refused:
        ProductionConfig.check(production_settings(**changes))
    assert complaint in str(refused.value)


def test_production_starts_without_wechat(tmp_path):
    production = type("Production", (ProductionConfig,), production_settings(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'app.db'}"))
    app = create_app(production)
    assert not wechat.configured(app.config)
    # the button is then hidden, inside WeChat too
    page = app.test_client().get("/login", headers={"User-Agent": "Mozilla/5.0 MicroMessenger/8.0"})
    assert page.status_code == 200 and "微信一键登录" not in page.get_data(as_text=True)
    with pytest.raises(RuntimeError, match="WECHAT_OPEN_BASE"):
        create_app(type("Production", (ProductionConfig,), production_settings(
            WECHAT_OPEN_BASE="http://127.0.0.1:9")))
