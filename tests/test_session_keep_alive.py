"""The idle logout can be put off (适老化: no time limit that cannot be extended). Every page of a
logged-in person says how long a session lasts and hands the limit to static/js/app.js, whose
warning's 继续使用 posts to /session/keep-alive: the idle time then counts from that moment."""
import re
from datetime import timedelta

import sqlalchemy as sa

from domain.archive_import import import_rows
from extensions import db
from models import LoginSession, utcnow
from tests.helpers import body, htmx, login, make_id, seeded_applicant

KEEP_ALIVE = "/session/keep-alive"


def idle_for(app, duration: timedelta) -> None:
    with app.app_context():
        db.session.execute(sa.update(LoginSession).values(last_seen_at=utcnow() - duration))
        db.session.commit()
        db.session.remove()


def idle_time(app) -> timedelta:
    with app.app_context():
        seen = db.session.scalar(sa.select(LoginSession.last_seen_at))
        db.session.remove()
    return utcnow() - seen


def test_a_logged_in_persons_pages_say_how_long_a_session_lasts(app, client):
    login(client, seeded_applicant(app))
    page = body(client.get("/collection"))
    assert 'data-session-minutes="30"' in page
    assert f'data-keep-alive="{KEEP_ALIVE}"' in page
    assert "超过30分钟没有操作将自动退出登录" in page          # said without JavaScript too
    assert '<dialog id="session-timeout"' in page and "继续使用" in page


def test_the_login_page_carries_no_session_limit(client):
    # It is rendered once per process for every visitor (blueprints/accounts/login_page.py).
    page = body(client.get("/login"))
    assert "data-session-minutes" not in page and "session-timeout" not in page


def test_keep_alive_counts_the_idle_time_from_now(app, client):
    login(client, seeded_applicant(app))
    idle_for(app, timedelta(minutes=28))
    assert client.post(KEEP_ALIVE, headers=htmx()).status_code == 204
    assert idle_time(app) < timedelta(seconds=5)
    # A page load writes the time at most once a minute; 继续使用 always does.
    idle_for(app, timedelta(seconds=50))
    assert client.get("/collection").status_code == 200
    assert idle_time(app) >= timedelta(seconds=50)
    assert client.post(KEEP_ALIVE, headers=htmx()).status_code == 204
    assert idle_time(app) < timedelta(seconds=5)


def test_keep_alive_does_not_bring_an_ended_session_back(app, client):
    assert client.post(KEEP_ALIVE, headers=htmx()).status_code == 401
    login(client, seeded_applicant(app))
    idle_for(app, timedelta(minutes=31))
    response = client.post(KEEP_ALIVE, headers=htmx())
    assert response.status_code == 401 and "/login" in response.headers["HX-Redirect"]
    assert client.get("/collection").status_code == 303


def test_keep_alive_needs_the_pages_csrf_token(app, client):
    login(client, seeded_applicant(app))
    app.config["WTF_CSRF_ENABLED"] = True   # tests/conftest.py switches it off again
    token = re.search(r'"X-CSRFToken": "([^"]+)"', body(client.get("/collection"))).group(1)
    assert client.post(KEEP_ALIVE, headers=htmx()).status_code == 400
    assert client.post(KEEP_ALIVE, headers=htmx({"X-CSRFToken": token})).status_code == 204


def test_an_imported_account_held_on_bind_phone_can_keep_its_session(app, client):
    id_number = make_id(seq="777")
    with app.app_context():
        assert import_rows([{"姓名": "李四", "证件号码": id_number, "资格级别": "中级",
                             "证书编号": "ZJ0001", "取得日期": "2010-05-01"}]).accepted == 1
        db.session.remove()
    login(client, id_number, id_number[-6:])
    assert 'data-session-minutes="30"' in body(client.get("/account/bind-phone"))
    assert client.post(KEEP_ALIVE, headers=htmx()).status_code == 204
