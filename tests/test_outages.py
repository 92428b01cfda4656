"""When PostgreSQL or Redis is away: a clean Chinese 503 page (never a traceback), nothing that
needs a counted limit goes on (login, SMS), and pages that need neither keep working."""
import pytest

from app import create_app
from config import TestConfig
from extensions import db
from tests.helpers import CAPTCHA, body, htmx


@pytest.fixture
def app_with():
    """Apps of their own settings; their pooled connections are closed after the test (one left
    open warns when it is collected, during whichever test runs then)."""
    made = []

    def make(**settings):
        config = type("Outage", (TestConfig,), {"CAPTCHA_TEST_ANSWER": CAPTCHA,
                                                "WTF_CSRF_ENABLED": False, **settings})
        made.append(create_app(config))
        return made[-1]

    yield make
    for app in made:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def database_away(app_with, closed_port, tmp_path):
    return app_with(SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://kjxx@127.0.0.1:{closed_port}"
                                            "/kjxx?connect_timeout=2",
                    SMS_OUTBOX=str(tmp_path / "outbox.jsonl"))


@pytest.fixture
def redis_away(app_with, closed_port, app, tmp_path):
    return app_with(SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                    RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{closed_port}/0",
                    SMS_OUTBOX=str(tmp_path / "outbox.jsonl"))


def logged_in_cookie(client):
    """A session cookie that names a login session: the next request must look it up."""
    with client.session_transaction() as cookie:
        cookie["_user_id"] = "a-login-session-token"
        cookie["_fresh"] = True


def test_a_logged_in_page_without_the_database_is_a_clean_503(database_away):
    client = database_away.test_client()
    logged_in_cookie(client)
    response = client.get("/collection")
    assert response.status_code == 503
    text = body(response)
    assert "系统暂时无法访问" in text and "不会丢失" in text
    assert "Traceback" not in text and "psycopg" not in text
    assert response.headers["Retry-After"] == "10"
    assert response.headers["Cache-Control"] == "no-store"


def test_an_htmx_request_without_the_database_gets_a_message(database_away):
    client = database_away.test_client()
    logged_in_cookie(client)
    response = client.post("/collection/basic", data={"ethnicity": "汉族"}, headers=htmx())
    assert response.status_code == 503
    assert response.headers["HX-Retarget"] == "#messages"
    assert "系统暂时无法访问" in body(response)


def test_the_login_page_needs_no_database(database_away):
    assert database_away.test_client().get("/login").status_code == 200


def test_without_redis_a_login_is_refused_not_tried_uncounted(redis_away):
    client = redis_away.test_client()
    assert client.get("/login").status_code == 200  # ordinary pages keep working
    response = client.post("/login", data={"id_number": "530102199001011234",
                                           "password": "x", "captcha": CAPTCHA})
    assert response.status_code == 503
    assert "系统暂时无法访问" in body(response)


def test_without_redis_no_code_is_sent(redis_away, tmp_path):
    client = redis_away.test_client()
    response = client.post("/register/send-code", data={"phone": "13800001111",
                                                        "captcha": CAPTCHA})
    assert response.status_code == 503
    assert not (tmp_path / "outbox.jsonl").exists()


def test_without_redis_the_sms_limits_refuse(redis_away):
    from sms import LimitsUnavailable, check_limits
    with redis_away.app_context():
        with pytest.raises(LimitsUnavailable):
            check_limits("13800001111", "127.0.0.1")


def test_a_programming_error_in_the_database_is_not_hidden_as_an_outage(app, ctx):
    import sqlalchemy as sa

    from blueprints.main.errors import is_outage
    from extensions import db
    with pytest.raises(sa.exc.DBAPIError) as raised:
        db.session.execute(sa.text("SELECT * FROM no_such_table"))
    assert not is_outage(raised.value)  # a bug: 500 and a log, not "try again later"


def test_a_database_lost_after_the_answer_does_not_turn_it_into_a_500(app, app_with,
                                                                     monkeypatch):
    """PostgreSQL restarted while a page was being sent: the page is whole, only the ROLLBACK
    that ends the request's session cannot reach the server (seen in bench/surge/faults.py)."""
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    app = app_with(SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])

    @app.get("/_reads_then_loses_the_database")
    def reads_then_loses_the_database():
        return {"one": db.session.execute(sa.text("SELECT 1")).scalar()}

    real_close, lost = Session.close, []

    def close_on_a_dead_connection(session):
        if not lost:
            lost.append(True)
            raise sa.exc.OperationalError("ROLLBACK", None,
                                          Exception("server closed the connection unexpectedly"))
        real_close(session)

    monkeypatch.setattr(Session, "close", close_on_a_dead_connection)
    response = app.test_client().get("/_reads_then_loses_the_database")
    assert response.status_code == 200
    assert response.get_json() == {"one": 1}
    assert lost == [True]
    with app.app_context():  # the next request gets a working session
        assert db.session.execute(sa.text("SELECT 2")).scalar() == 2
