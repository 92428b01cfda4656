"""The auditor's page (issue 12): every event the code records has a Chinese name; filters by
event, person (full or masked ID number) and Beijing-time date; the next page keeps the filters."""
import ast
import html
import pathlib
import re
from datetime import datetime

import pytest
import sqlalchemy as sa

from domain import audit
from domain.audit_events import EVENT_NAMES, actor_label, readable_details
from domain.id_numbers import mask
from extensions import db
from models import Account, AuditEntry, Role
from tests.factories import make_staff, staff_client
from tests.test_admin_and_audit import logged_actions

ROOT = pathlib.Path(__file__).resolve().parent.parent
APP_CODE = ["app.py", "commands.py", "blueprints", "domain", "jobs", "sms", "wechat", "precheck"]


def recorded_actions() -> set[str]:
    """Every event code in a first argument of audit.record(...) anywhere in the app's code."""
    found = set()
    for entry in APP_CODE:
        path = ROOT / entry
        for source in ([path] if path.is_file() else path.rglob("*.py")):
            for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and node.args and (
                        getattr(node.func, "attr", None) == "record"
                        and getattr(node.func.value, "id", None) == "audit"):
                    found |= {n.value for n in ast.walk(node.args[0])
                              if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    return found


def test_every_recorded_event_has_a_chinese_name():
    actions = recorded_actions()
    assert {"login", "review.reject", "staff.disable", "application.submit"} <= actions
    assert actions - set(EVENT_NAMES) == set()
    for name in EVENT_NAMES.values():
        assert re.search(r"[\u4e00-\u9fff]", name), name


def test_details_and_actors_read_in_chinese():
    assert readable_details('{"application": 12, "reasons": ["照片不符合要求"], "full": true}') \
        == "申报编号：12；原因：照片不符合要求；完整号码：是"
    assert readable_details("{}") == "" and readable_details("not json") == "not json"
    assert actor_label("reviewer:530102********0011") == "审核员 530102********0011"
    assert actor_label("匿名") == "匿名"


@pytest.fixture
def auditor(app):
    client, _member = staff_client(app, Role.AUDITOR, "530000")
    return client


def rows(client, **query) -> list[tuple[str, str]]:
    """(event code, subject) of each row the filtered page shows, newest first."""
    page = client.get("/audit", query_string=query).get_data(as_text=True)
    assert "<html" in page
    return [(action, html.unescape(subject)) for action, subject in re.findall(
        r'<span class="mono field__hint">([a-z_.]+)</span></td><td class="mono">([^<]*)</td>',
        page)]


def test_filter_by_person_with_the_full_or_the_masked_number(app, auditor):
    reviewer = make_staff(app, Role.REVIEWER, "530102")
    someone = "530102199001011234"
    with app.app_context():
        acting = db.session.get(Account, reviewer.id)
        audit.record("id.reveal", actor=acting, subject=mask(someone))
        audit.record("review.export", actor=acting)
        audit.record("login", subject=mask("530402198001010011"))
        db.session.commit()
        db.session.remove()
    # the reviewer by their full number: what they did, and what was done to them
    assert rows(auditor, person=reviewer.id_number) == [
        ("review.export", ""), ("id.reveal", mask(someone)),
        ("staff.create", mask(reviewer.id_number))]
    # the person acted upon, by full number (their masked number as the subject) or as masked
    assert rows(auditor, person=someone) == [("id.reveal", mask(someone))]
    assert rows(auditor, person=mask(someone)) == [("id.reveal", mask(someone))]
    # the masked number of an actor finds what they did too
    assert [a for a, _s in rows(auditor, person=mask(reviewer.id_number))] == [
        "review.export", "id.reveal", "staff.create"]
    assert rows(auditor, person="110101199001011234") == []


def test_filter_by_event_and_beijing_date_and_the_next_page_keeps_them(app, auditor):
    with app.app_context():
        for index in range(105):
            audit.record("sms.send", subject=f"#{index}")
        audit.record("login", subject="other")
        db.session.commit()
        # the first five sms.send rows happened on 2026-11-30 Beijing time (16:00 UTC the day
        # before is already that day in Beijing): SQLite's append-only trigger is lifted here
        ids = list(db.session.scalars(sa.select(AuditEntry.id).where(
            AuditEntry.action == "sms.send").order_by(AuditEntry.id).limit(5)))
        if db.session.get_bind().dialect.name == "sqlite":
            db.session.execute(sa.text("DROP TRIGGER IF EXISTS audit_entries_no_update"))
        else:
            db.session.execute(sa.text("ALTER TABLE audit_entries DISABLE TRIGGER USER"))
        db.session.execute(sa.update(AuditEntry).where(AuditEntry.id.in_(ids))
                           .values(at=datetime(2026, 11, 29, 16, 30)))
        db.session.commit()
        if db.session.get_bind().dialect.name != "sqlite":
            db.session.execute(sa.text("ALTER TABLE audit_entries ENABLE TRIGGER USER"))
            db.session.commit()
        db.session.remove()
    on_the_day = rows(auditor, action="sms.send", date_from="2026-11-30", date_to="2026-11-30")
    assert [s for _a, s in on_the_day] == [f"#{i}" for i in range(4, -1, -1)]
    assert rows(auditor, action="sms.send", date_to="2026-11-29") == []
    # an unparsable or absurd date is not applied
    assert len(rows(auditor, action="sms.send", date_from="9999-01-01")) == 100
    assert len(rows(auditor, action="sms.send", date_from="2026-02-30")) == 100
    page = auditor.get("/audit", query_string={"action": "sms.send"}).get_data(as_text=True)
    assert set(logged_actions(page)) == {"sms.send"}
    assert "发送短信验证码" in page
    more = html.unescape(re.search(r'href="(/audit\?[^"]+)">更早的记录', page).group(1))
    assert "action=sms.send" in more
    older = auditor.get(more).get_data(as_text=True)
    assert logged_actions(older) == ["sms.send"] * 5


def test_the_event_select_offers_every_named_event(auditor):
    page = auditor.get("/audit").get_data(as_text=True)
    for code, name in EVENT_NAMES.items():
        assert f'<option value="{code}">{name}（{code}）</option>' in page
