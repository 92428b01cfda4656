"""Fixtures: one migrated database per test session (SQLite file, or PostgreSQL when
TEST_DATABASE_URL is set), emptied between tests; the real forms; the SMS outbox."""
import os
import socket
import uuid

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from config import TestConfig
from extensions import db
from models.audit import APPEND_ONLY_SQLITE
from tests.helpers import CAPTCHA, register

KEEP_TABLES = {"regions", "alembic_version"}
# The production-shape tests talk to `make prod-local` over HTTPS: `make test-production`.
collect_ignore = [] if os.environ.get("PROD_LOCAL") else ["production"]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def outbox_path(tmp_path_factory):
    return tmp_path_factory.mktemp("sms") / "outbox.jsonl"


@pytest.fixture(scope="session")
def app(database_url, outbox_path):
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        SMS_OUTBOX = str(outbox_path)
        CAPTCHA_TEST_ANSWER = CAPTCHA
        WTF_CSRF_ENABLED = False

    app = create_app(Config)
    with app.app_context():
        upgrade()
        from domain.regions import load_regions
        load_regions()
    yield app
    with app.app_context():  # close pooled connections: an open one warns (an error) at exit
        db.engine.dispose()


@pytest.fixture(autouse=True)
def clean_state(app, outbox_path):
    yield
    with app.app_context():
        db.session.remove()
        _empty_tables()
    if outbox_path.exists():
        outbox_path.unlink()
    app.extensions["moving_window_limiter"].storage.reset()
    app.config["CAPTCHA_TEST_ANSWER"] = CAPTCHA
    app.config["WTF_CSRF_ENABLED"] = False


def _empty_tables():
    engine = db.engine
    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in KEEP_TABLES]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(t.name for t in tables)
            connection.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            return
        connection.execute(sa.text("DROP TRIGGER IF EXISTS audit_entries_no_update"))
        connection.execute(sa.text("DROP TRIGGER IF EXISTS audit_entries_no_delete"))
        for table in tables:
            connection.execute(table.delete())
        for statement in APPEND_ONLY_SQLITE:
            connection.execute(sa.text(statement))


@pytest.fixture(scope="session")
def engines():
    """The pre-check engines (precheck/), loaded once for the test session as a worker loads
    them once per process. Not installed: the tests using them skip, or fail when
    REQUIRE_PRECHECK=1 (CI), so a missing install is never silent there."""
    import precheck
    if not precheck.available():
        message = "the pre-check engines are not installed: run `make install-precheck`"
        if os.environ.get("REQUIRE_PRECHECK") == "1":
            pytest.fail(f"REQUIRE_PRECHECK=1 but {message}", pytrace=False)
        pytest.skip(message)
    precheck.load()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def outbox(outbox_path):
    return outbox_path


@pytest.fixture
def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again on leaving: nothing listens there


@pytest.fixture
def applicant(client, outbox):
    """A registered accountant (居民身份证), logged in by the registration."""
    from tests.collection_pages import ID_NUMBER, NAME, PHONE, text_of
    response = register(client, outbox, ID_NUMBER, PHONE, name=NAME)
    assert response.status_code == 303, text_of(response)
    return client


@pytest.fixture
def wechat(app, monkeypatch):
    """The app with WeChat configured against a local stand-in (tests/wechat_standin.py), with
    its own appid and openid; PUBLIC_URL is the test client's own address. Yields the stand-in."""
    from tests.wechat_standin import WeChatStandIn
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    with WeChatStandIn(appid="wx" + uuid.uuid4().hex[:16]) as standin:
        standin.openid = "o_" + uuid.uuid4().hex[:26]
        for key, value in {"WECHAT_APPID": standin.appid, "WECHAT_SECRET": standin.secret,
                           "WECHAT_TEMPLATE_ID": "TPL_decision", "WECHAT_API_BASE": standin.url,
                           "WECHAT_OPEN_BASE": standin.url,
                           "PUBLIC_URL": "http://localhost"}.items():
            monkeypatch.setitem(app.config, key, value)
        yield standin
        client = app.extensions.pop("wechat", None)
        if client is not None:
            client[1].close()
