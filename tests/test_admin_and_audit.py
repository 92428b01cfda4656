"""Administration (staff accounts, import results) and the audit log: every audited action is
recorded with masked subjects, the rows form a hash chain, `flask audit verify` finds an edited
row, and auditors read the log."""
import csv
import html
import re

import pytest
import sqlalchemy as sa

from domain.audit import GENESIS
from domain.id_numbers import mask
from extensions import db
from models import Account, LoginSession, Role
from models.audit import APPEND_ONLY_SQLITE
from tests.factories import (
    applicant_client,
    audit_rows,
    fill_sections,
    make_application,
    make_staff,
    register_applicant,
    staff_client,
    submit,
    unique_id,
    unique_phone,
    upload,
    upload_materials,
    with_ids,
)
from tests.helpers import CAPTCHA, last_code, login, send_code

NEW_PASSWORD = "Kunming@2027xy"
FULL_ID = re.compile(r"(?<![0-9])[0-9]{17}[0-9X](?![0-9])")
FULL_PHONE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
MASKED_ID = re.compile(r"[0-9]{6}\*{8}[0-9X]{4}")
MASKED_PHONE = re.compile(r"1[0-9]{2}\*{4}[0-9]{4}")


def text(response) -> str:
    return response.get_data(as_text=True)


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def account(app, account_id) -> dict:
    with app.app_context():
        row = db.session.get(Account, account_id)
        result = dict(enabled=row.is_enabled, region=row.region_code, role=row.role,
                      must_change=row.must_change_password, hash=row.password_hash)
        db.session.remove()
    return result


def open_sessions(app, account_id) -> int:
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(LoginSession).where(
            LoginSession.account_id == account_id, LoginSession.ended_at.is_(None)))
        db.session.remove()
    return count


def one_time_password(response) -> str:
    match = re.search(r'<p class="mono otp">(.*?)</p>', text(response))
    assert match, text(response)[-2000:]
    return html.unescape(match.group(1))


def session_cookie(app, client) -> dict:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.loads(cookie.value)


@pytest.fixture
def admin(app):
    return staff_client(app, Role.ADMIN, "530000")


# -- staff accounts ------------------------------------------------------------------------------

def test_staff_list(app, admin):
    client, me = admin
    reviewer = make_staff(app, Role.REVIEWER, "530102", name="李审核")
    auditor = make_staff(app, Role.AUDITOR, "530000", name="赵审计")
    make_application(app)                                    # applicants are not staff
    page = text(client.get("/admin/staff"))
    for member, role_label in ((me, "管理员"), (reviewer, "审核员"), (auditor, "审计员")):
        assert f"<td>{member.name}</td><td>{role_label}</td>" in page
        assert mask(member.id_number) in page and member.id_number not in page
        assert f'action="/admin/staff/{member.id}/enable"' in page
        assert f'href="/admin/staff/{member.id}/region"' in page
    assert "五华区财政局" in page and "云南省财政厅" in page
    assert page.count("<tr>") == 1 + 3
    assert "张三" not in page


def test_create_staff_shows_the_password_once_and_not_in_the_cookie(app, admin):
    client, me = admin
    assert client.get("/admin/staff/new").status_code == 200
    id_number, phone = unique_id(), unique_phone("139")
    response = client.post("/admin/staff/new", data={
        "role": "reviewer", "region": "530103", "id_number": id_number, "name": "周新审",
        "phone": phone})
    assert response.status_code == 200
    password = one_time_password(response)
    assert len(password) == 16
    assert "周新审" in text(response) and "盘龙区财政局" in text(response)
    assert "只显示这一次" in text(response)
    # not in the session cookie, which anyone holding the browser could decode
    cookie = session_cookie(app, client)
    assert password not in repr(cookie)
    raw = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    assert password not in raw
    # not shown again anywhere
    assert password not in text(client.get("/admin/staff"))
    with app.app_context():
        created = db.session.scalar(sa.select(Account).where(Account.id_number == id_number))
        assert created.role == Role.REVIEWER and created.region_code == "530103"
        assert created.must_change_password and created.phone == phone
        assert password not in created.password_hash
        created_id = created.id
        db.session.remove()
    [entry] = [e for e in audit_rows(app, "staff.create") if e.actor_id == me.id]
    assert entry.subject == mask(id_number) and entry.ip == "127.0.0.1"
    assert '"region": "530103"' in entry.details
    # the new reviewer logs in with it and must change it first
    newcomer = app.test_client()
    response = login(newcomer, id_number, password)
    assert response.status_code == 303
    assert newcomer.get("/review").headers["Location"] == "/account/password"
    response = newcomer.post("/account/password", data={
        "old_password": password, "password": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 303
    assert newcomer.get("/review").status_code == 200
    assert not account(app, created_id)["must_change"]


def _existing(app):
    return make_staff(app, Role.REVIEWER, "530102")


@pytest.mark.parametrize("field, value, message", [
    ("id_number", "53010219900101", "证件号码应为18位，您填写了14位"),
    ("id_number", "530102199001011235", "证件号码校验位不正确"),
    ("id_number", "taken", "该证件号码已有账号"),
    ("phone", "1380000", "手机号码应为11位，您填写了7位"),
    ("phone", "taken", "该手机号已绑定其他账号"),
    ("name", "Li3", "姓名只能包含汉字、字母和间隔号"),
    ("name", "", "请填写姓名"),
    ("region", "", "请选择管辖地区"),
    ("region", "999999", "地区代码 999999 不存在"),
    ("role", "superuser", "请选择角色"),
])
def test_create_staff_bad_input_is_422(app, admin, field, value, message):
    client, _me = admin
    existing = _existing(app)
    data = {"role": "reviewer", "region": "530102", "id_number": unique_id(),
            "name": "周新审", "phone": unique_phone("139")}
    if value == "taken":
        value = existing.id_number if field == "id_number" else existing.phone
    data[field] = value
    response = client.post("/admin/staff/new", data=data)
    assert response.status_code == 422
    page = text(response)
    assert message in page
    assert 'class="mono otp"' not in page
    # what was typed is kept
    if field in ("id_number", "name", "phone") and value:
        assert f'value="{html.escape(value)}"' in page
    assert len(audit_rows(app, "staff.create")) == 2     # the two made by the factory
    with app.app_context():
        staff_count = db.session.scalar(sa.select(sa.func.count()).select_from(Account))
        db.session.remove()
    assert staff_count == 2            # the admin and the existing reviewer only


def test_disable_ends_the_session_and_refuses_login_then_enable(app, admin):
    client, me = admin
    reviewer_client, reviewer = staff_client(app, Role.REVIEWER, "530102")
    assert reviewer_client.get("/review").status_code == 200
    assert open_sessions(app, reviewer.id) == 1

    response = client.post(f"/admin/staff/{reviewer.id}/enable")
    assert response.status_code == 303 and response.headers["Location"] == "/admin/staff"
    assert not account(app, reviewer.id)["enabled"]
    assert open_sessions(app, reviewer.id) == 0
    response = reviewer_client.get("/review")
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")
    response = login(app.test_client(), reviewer.id_number, reviewer.password)
    assert response.status_code == 422 and "该账号已停用" in text(response)
    page = text(client.get("/admin/staff"))
    row = re.search(rf"<tr>(?:(?!</tr>).)*?/admin/staff/{reviewer.id}/enable.*?</tr>", page,
                    re.S).group(0)
    assert "已停用" in row and "启用" in row
    [entry] = audit_rows(app, "staff.disable")
    assert entry.actor_id == me.id and entry.subject == mask(reviewer.id_number)
    assert [e.action for e in audit_rows(app, "login.disabled")] == ["login.disabled"]

    assert client.post(f"/admin/staff/{reviewer.id}/enable").status_code == 303
    assert account(app, reviewer.id)["enabled"]
    again = app.test_client()
    assert login(again, reviewer.id_number, reviewer.password).status_code == 303
    assert again.get("/review").status_code == 200
    assert len(audit_rows(app, "staff.enable")) == 1


def test_an_admin_cannot_disable_themself(app, admin):
    client, me = admin
    response = client.post(f"/admin/staff/{me.id}/enable", follow_redirects=True)
    assert response.status_code == 200 and "不能停用自己的账号" in text(response)
    assert account(app, me.id)["enabled"]
    assert client.get("/admin/staff").status_code == 200
    assert audit_rows(app, "staff.disable") == []


def test_admin_pages_do_not_act_on_applicants(app, admin):
    client, _me = admin
    person = make_application(app)
    for method, url in (("post", f"/admin/staff/{person.account_id}/enable"),
                        ("get", f"/admin/staff/{person.account_id}/region"),
                        ("post", f"/admin/staff/{person.account_id}/reset-password"),
                        ("post", "/admin/staff/99999/enable")):
        assert getattr(client, method)(url).status_code == 404, url
    assert applicant_client(app, person).get("/collection").status_code == 200


def test_change_region(app, admin):
    client, me = admin
    reviewer_client, reviewer = staff_client(app, Role.REVIEWER, "530102")
    wuhua = make_application(app, "530102")
    assert reviewer_client.get(f"/review/{wuhua.application_id}").status_code == 200

    page = text(client.get(f"/admin/staff/{reviewer.id}/region"))
    assert re.search(r'<option selected value="530102"|<option value="530102" selected', page)
    response = client.post(f"/admin/staff/{reviewer.id}/region", data={"region": "999999"})
    assert response.status_code == 422 and "请选择管辖地区" in text(response)
    response = client.post(f"/admin/staff/{reviewer.id}/region", data={"region": ""})
    assert response.status_code == 422
    assert account(app, reviewer.id)["region"] == "530102"

    response = client.post(f"/admin/staff/{reviewer.id}/region", data={"region": "530103"},
                           follow_redirects=True)
    assert response.status_code == 200
    assert "已将李审核的管辖地区改为盘龙区" in text(response)
    assert account(app, reviewer.id)["region"] == "530103"
    [entry] = audit_rows(app, "staff.region")
    assert entry.actor_id == me.id and entry.subject == mask(reviewer.id_number)
    assert '"from": "530102"' in entry.details and '"to": "530103"' in entry.details
    # the change applies at once
    assert reviewer_client.get(f"/review/{wuhua.application_id}").status_code == 404


def test_reset_password(app, admin):
    client, me = admin
    reviewer_client, reviewer = staff_client(app, Role.REVIEWER, "530102")
    response = client.post(f"/admin/staff/{reviewer.id}/reset-password")
    assert response.status_code == 200
    password = one_time_password(response)
    assert password != reviewer.password
    assert password not in repr(session_cookie(app, client))
    state = account(app, reviewer.id)
    assert state["must_change"] and state["enabled"]
    assert open_sessions(app, reviewer.id) == 0
    # the session the reviewer had is over, the old password is refused
    assert reviewer_client.get("/review").headers["Location"].startswith("/login")
    refused = login(app.test_client(), reviewer.id_number, reviewer.password)
    assert refused.status_code == 422 and "证件号码或密码不正确" in text(refused)
    fresh = app.test_client()
    assert login(fresh, reviewer.id_number, password).status_code == 303
    assert fresh.get("/review").headers["Location"] == "/account/password"
    [entry] = audit_rows(app, "staff.reset_password")
    assert entry.actor_id == me.id and entry.subject == mask(reviewer.id_number)


def test_import_results_page_lists_archive_imports(app, admin, tmp_path):
    client, _me = admin
    assert "尚无导入记录" in text(client.get("/admin/imports"))
    path = tmp_path / "archive.csv"
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["姓名", "证件号码", "资格级别", "证书编号", "取得日期"])
        writer.writerow(["刘档案", unique_id(), "初级", "Z2010000001", "2010-05-20"])
        writer.writerow(["陈档案", unique_id(), "中级", "Z2015000002", "2015-09-01"])
        writer.writerow(["坏数据", "123", "初级", "Z1", "2010-05-20"])
    for _ in range(2):
        result = cli(app, "accounts", "import-archive", str(path))
        assert result.exit_code == 0, result.output
    page = text(client.get("/admin/imports"))
    rows = re.findall(r"<td>archive.csv</td>\s*<td>服务器命令导入</td>\s*"
                      r"<td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>", page)
    assert rows == [("0", "2", "1"), ("2", "0", "1")]          # newest first
    assert "尚无导入记录" not in page


# -- the audit log -------------------------------------------------------------------------------

def everything_audited(app, client, outbox):
    """Drive every audited action through the pages; return the people involved."""
    person = register_applicant(client, outbox)                          # sms.send, register
    client.post("/logout")
    assert login(client, person.id_number, "Wrong#Pass123").status_code == 422  # login.failed
    # forgot password (the phone's 60-second SMS limit is lifted as the clock would)
    app.extensions["sms_limits"].limiter.storage.reset()
    response = send_code(client, "/forgot-password", person.phone, id_number=person.id_number)
    assert response.status_code == 200                                 # sms.send
    response = client.post("/forgot-password", data={
        "id_number": person.id_number, "phone": person.phone,
        "sms_code": last_code(outbox, person.phone), "password": NEW_PASSWORD,
        "password2": NEW_PASSWORD, "action": "reset", "captcha": CAPTCHA})
    assert response.status_code == 303                                 # password.reset
    person.password = NEW_PASSWORD
    assert login(client, person.id_number, NEW_PASSWORD).status_code == 303     # login
    fill_sections(client)
    upload_materials(client)
    submit(client)                                                     # application.submit
    with_ids(app, person)

    reviewer_client, reviewer = staff_client(app, Role.REVIEWER, "530102")      # login
    aid = person.application_id
    page = text(reviewer_client.get(f"/review/{aid}"))
    assert reviewer_client.post(f"/review/{aid}/reveal").status_code == 200    # id.reveal
    image = re.search(r'src="(/media/materials/\d+\.jpg)"', page).group(1)
    assert reviewer_client.get(image).status_code == 200                       # image.view
    assert reviewer_client.get("/review/export.xlsx").status_code == 200       # review.export
    assert reviewer_client.post(f"/review/{aid}/decide", data={
        "decision": "reject", "reasons": ["证件照片不清晰"],
        "reopen": ["materials"]}).status_code == 303                          # review.reject
    assert upload(client, "id_front").status_code == 303
    submit(client)                                                     # application.submit
    assert reviewer_client.post(f"/review/{aid}/decide",
                                data={"decision": "approve"}).status_code == 303  # approve

    admin_client, admin = staff_client(app, Role.ADMIN, "530000")              # login
    new_id = unique_id()
    response = admin_client.post("/admin/staff/new", data={
        "role": "auditor", "region": "530000", "id_number": new_id, "name": "钱审计",
        "phone": unique_phone("139")})
    assert response.status_code == 200                                 # staff.create
    assert admin_client.post(f"/admin/staff/{reviewer.id}/enable").status_code == 303
    assert admin_client.post(f"/admin/staff/{reviewer.id}/enable").status_code == 303
    assert admin_client.post(f"/admin/staff/{reviewer.id}/region",
                             data={"region": "530100"}).status_code == 303
    assert admin_client.post(f"/admin/staff/{reviewer.id}/reset-password").status_code == 200
    return person, reviewer, admin, new_id


AUDITED = ["login", "login.failed", "sms.send", "password.reset", "register",
           "application.submit", "review.approve", "review.reject", "id.reveal", "image.view",
           "review.export", "staff.create", "staff.enable", "staff.disable", "staff.region",
           "staff.reset_password"]


def test_every_action_is_audited_with_masked_subjects_in_a_chain(app, client, outbox):
    person, reviewer, admin, new_id = everything_audited(app, client, outbox)
    rows = audit_rows(app)
    actions = [row.action for row in rows]
    for action in AUDITED:
        assert action in actions, action
    assert actions.count("application.submit") == 2
    assert actions.count("sms.send") == 2

    full_numbers = {person.id_number, reviewer.id_number, admin.id_number, new_id}
    for row in rows:
        everything = " ".join((row.subject, row.actor, row.details, row.ip))
        assert not FULL_ID.search(everything), (row.action, everything)
        assert not FULL_PHONE.search(everything), (row.action, everything)
        assert not any(number in everything for number in full_numbers)
        if row.action == "sms.send":
            assert MASKED_PHONE.fullmatch(row.subject), row.subject
        elif row.action == "review.export":
            assert row.subject == ""
        else:
            assert MASKED_ID.fullmatch(row.subject), (row.action, row.subject)
        if row.actor_id is not None:            # not the factory's own staff.create rows
            assert row.ip == "127.0.0.1", row.action
    by_action = {row.action: row for row in rows}
    assert by_action["register"].subject == mask(person.id_number)
    assert by_action["password.reset"].subject == mask(person.id_number)
    assert by_action["id.reveal"].subject == mask(person.id_number)
    assert by_action["image.view"].subject == mask(person.id_number)
    assert by_action["staff.create"].subject == mask(new_id)
    assert by_action["staff.region"].subject == mask(reviewer.id_number)
    assert by_action["review.reject"].actor == f"reviewer:{mask(reviewer.id_number)}"
    assert by_action["login.failed"].actor_id == person.account_id

    # the chain: each row points at the one before it
    assert rows[0].prev_hash == GENESIS
    for before, after in zip(rows, rows[1:], strict=False):
        assert after.prev_hash == before.row_hash, after.id
        assert after.id > before.id
    assert len({row.row_hash for row in rows}) == len(rows)

    result = cli(app, "audit", "verify")
    assert result.exit_code == 0 and "audit log intact" in result.output


def tamper(app, statement, **params):
    """An UPDATE behind the append-only guard's back: lift it, change, put it back."""
    with app.app_context():
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(sa.text(
                    "ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_no_change"))
                connection.execute(sa.text(statement), params)
                connection.execute(sa.text(
                    "ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_no_change"))
            else:
                connection.execute(sa.text("DROP TRIGGER audit_entries_no_update"))
                connection.execute(sa.text(statement), params)
                connection.execute(sa.text(next(s for s in APPEND_ONLY_SQLITE
                                                if "audit_entries_no_update" in s)))
        db.session.remove()


def test_verify_names_a_tampered_row(app, client, outbox):
    person = register_applicant(client, outbox)
    client.post("/logout")
    login(client, person.id_number, "Wrong#Pass123")
    login(client, person.id_number)
    rows = audit_rows(app)
    target = next(row for row in rows if row.action == "login.failed")
    tamper(app, "UPDATE audit_entries SET action = 'login' WHERE id = :id", id=target.id)
    result = cli(app, "audit", "verify")
    assert result.exit_code == 1
    assert f"row {target.id}: content does not match its hash" in result.output
    assert "audit log intact" not in result.output
    for row in rows:
        if row.id != target.id:
            assert not re.search(rf"\brow {row.id}:", result.output), result.output
    # the guard is back: a second edit is refused by the database
    with app.app_context():
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with db.engine.begin() as connection:
                connection.execute(sa.text("UPDATE audit_entries SET subject = 'x'"))
        db.session.remove()


def cut_tail(app, from_id):
    """Delete the newest rows behind the guard's back, as someone with the database would."""
    with app.app_context():
        with db.engine.begin() as connection:
            statement = sa.text("DELETE FROM audit_entries WHERE id >= :id")
            if connection.dialect.name == "postgresql":
                connection.execute(sa.text(
                    "ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_no_change"))
                connection.execute(statement, {"id": from_id})
                connection.execute(sa.text(
                    "ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_no_change"))
            else:
                connection.execute(sa.text("DROP TRIGGER audit_entries_no_delete"))
                connection.execute(statement, {"id": from_id})
                connection.execute(sa.text(next(s for s in APPEND_ONLY_SQLITE
                                                if "audit_entries_no_delete" in s)))
        db.session.remove()


def test_a_cut_tail_is_found_against_the_anchors(app, client, outbox, tmp_path, monkeypatch):
    kept = tmp_path / "audit-anchors.jsonl"
    monkeypatch.setitem(app.config, "AUDIT_ANCHOR_FILE", str(kept))
    person = register_applicant(client, outbox)
    client.post("/logout")
    login(client, person.id_number)
    anchored = cli(app, "audit", "anchor")
    assert anchored.exit_code == 0 and "anchored row" in anchored.output
    rows = audit_rows(app)
    assert str(rows[-1].id) in kept.read_text()
    cut_tail(app, rows[-2].id)  # the last two rows go, the rest of the chain is whole
    # the chain alone cannot tell ...
    monkeypatch.setitem(app.config, "AUDIT_ANCHOR_FILE", None)
    assert cli(app, "audit", "verify").exit_code == 0
    # ... the anchors the operator keeps can: the file, or the log lines shipped elsewhere
    monkeypatch.setitem(app.config, "AUDIT_ANCHOR_FILE", str(kept))
    result = cli(app, "audit", "verify")
    assert result.exit_code == 1
    assert f"row {rows[-1].id}" in result.output and "removed from the end" in result.output
    monkeypatch.setitem(app.config, "AUDIT_ANCHOR_FILE", None)
    log = tmp_path / "app.log"
    log.write_text("2026-12-01 INFO audit.anchor AUDIT-ANCHOR " + kept.read_text())
    assert cli(app, "audit", "verify", "--anchors", str(log)).exit_code == 1


def test_the_worker_anchors_the_log_every_few_minutes():
    from datetime import timedelta

    from jobs.handlers import HANDLERS
    from jobs.periodic import SCHEDULE
    assert SCHEDULE["audit.anchor"] <= timedelta(minutes=5)
    assert HANDLERS["audit.anchor"] == "domain.audit_anchors:take_job"


def logged_actions(page: str) -> list[str]:
    """The event codes of the audit log page's rows, top to bottom."""
    return re.findall(r'<span class="mono field__hint">([a-z_.]+)</span></td>', page)


def test_auditor_reads_and_filters_the_log(app, client, outbox):
    person = register_applicant(client, outbox)
    client.post("/logout")
    login(client, person.id_number, "Wrong#Pass123")
    auditor_client, _auditor = staff_client(app, Role.AUDITOR, "530000")
    page = text(auditor_client.get("/audit"))
    for action in ("register", "sms.send", "login.failed", "login"):
        assert action in logged_actions(page), action
    assert "登录失败（密码错误）" in page and "注册" in page   # the names an auditor reads
    assert mask(person.id_number) in page and person.id_number not in page
    assert person.phone not in page
    page = text(auditor_client.get("/audit?action=login.failed"))
    assert logged_actions(page) == ["login.failed"]


def test_the_audit_log_pages_by_100(app):
    from domain import audit
    with app.app_context():
        for index in range(130):
            audit.record("test.entry", subject=f"#{index}")
        db.session.commit()
        db.session.remove()
    client, _auditor = staff_client(app, Role.AUDITOR, "530000")
    page = text(client.get("/audit?action=test.entry"))
    assert logged_actions(page) == ["test.entry"] * 100
    more = re.search(r'href="(/audit\?[^"]+)">更早的记录', page).group(1)
    page = text(client.get(html.unescape(more)))
    assert logged_actions(page) == ["test.entry"] * 30 and "更早的记录" not in page
