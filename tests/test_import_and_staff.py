"""Operator commands: `flask accounts import-archive`, `flask accounts create-staff`,
`flask audit verify`; and the first login of imported people and new staff."""
import csv
import re
from datetime import date, datetime
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from domain import passwords
from extensions import db
from models import Account, ArchiveRecord, AuditEntry
from models.audit import APPEND_ONLY_SQLITE
from tests.helpers import last_code, login, make_id, outbox_messages, register, send_code

NEW_PASSWORD = "Kunming@2027xy"
HEADER = ["姓名", "证件号码", "资格级别", "证书编号", "取得日期"]
HOLDING_PAGES = ("/login", "/account/bind-phone", "/account/password")


# --- helpers -----------------------------------------------------------------------------------

def body(response) -> str:
    return response.get_data(as_text=True)


def write_csv(path, rows, encoding="utf-8", header=HEADER):
    with open(path, "w", encoding=encoding, newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path, rows, header=HEADER):
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def import_archive(app, path):
    result = cli(app, "accounts", "import-archive", str(path))
    assert result.exit_code == 0, result.output
    counts = {key: int(value) for key, value in
              re.findall(r"^(accepted|unchanged|rejected): (\d+)$", result.output, re.M)}
    reasons = {int(row): reason for row, reason in
               re.findall(r"^  row (\d+): (.*)$", result.output, re.M)}
    assert counts["rejected"] == len(reasons)
    return counts, reasons


def account_of(app, id_number) -> Account | None:
    with app.app_context():
        account = db.session.scalar(sa.select(Account).where(Account.id_number == id_number))
        db.session.expunge_all()
        db.session.remove()
        return account


def records_of(app, id_number=None) -> list[ArchiveRecord]:
    with app.app_context():
        query = sa.select(ArchiveRecord).order_by(ArchiveRecord.id)
        if id_number:
            query = query.where(ArchiveRecord.id_number == id_number)
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        db.session.remove()
        return rows


def table_counts(app) -> tuple[int, int]:
    with app.app_context():
        counts = (db.session.scalar(sa.select(sa.func.count(Account.id))),
                  db.session.scalar(sa.select(sa.func.count(ArchiveRecord.id))))
        db.session.remove()
        return counts


def reach_home(client):
    response = client.get("/home", follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path not in HOLDING_PAGES, response.request.path
    return response


def plain_get_pages(app):
    """Every GET page of the app that takes no URL arguments."""
    return sorted({rule.rule for rule in app.url_map.iter_rules()
                   if "GET" in rule.methods and not rule.arguments})


ID_WANG = make_id(seq="101")
ID_ZHAO = make_id(region="530103", birth="19850312", seq="202")
ID_SUN = make_id(seq="303")
ID_ZHOU = make_id(seq="404")
ID_WU = make_id(seq="505")
ID_ZHENG = make_id(seq="606")
BAD_CHECK = ID_WANG[:-1] + ("0" if ID_WANG[-1] != "0" else "1")

ROWS = [
    ["王五", ID_WANG, "中级", "ZJ2010001", "2010-05-01"],              # row 2: accepted
    ["赵六", ID_ZHAO, "初级会计", "CJ2015002", "2015/06/01"],           # row 3: accepted
    ["钱七", BAD_CHECK, "中级", "ZJ2011003", "2011-01-01"],            # row 4: bad ID
    ["孙八", ID_SUN, "特级", "TJ2012004", "2012-01-01"],               # row 5: bad level
    ["周九", ID_ZHOU, "高级", "", "2012-01-01"],                       # row 6: no certificate
    ["吴十", ID_WU, "中级", "ZJ2013005", "去年"],                       # row 7: bad date
    ["<script>", ID_ZHENG, "中级", "ZJ2014006", "2014-01-01"],         # row 8: bad name
]


def assert_rejections(reasons):
    assert set(reasons) == {4, 5, 6, 7, 8}
    assert "校验位" in reasons[4]
    assert "资格级别“特级”" in reasons[5]
    assert "证书编号" in reasons[6]
    assert "取得日期" in reasons[7]
    assert "姓名" in reasons[8]
    assert all(ID_WANG not in reason for reason in reasons.values())


# --- import-archive ----------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_import_csv_counts_reasons_and_is_safe_to_repeat(app, tmp_path, encoding):
    path = write_csv(tmp_path / "archive.csv", ROWS, encoding=encoding)
    counts, reasons = import_archive(app, path)
    assert counts == {"accepted": 2, "unchanged": 0, "rejected": 5}
    assert_rejections(reasons)
    wang = account_of(app, ID_WANG)
    assert wang.name == "王五"  # not mojibake, whatever the encoding
    assert wang.must_bind_phone and wang.imported and wang.phone is None
    assert wang.role == "applicant" and not wang.must_change_password
    assert account_of(app, ID_ZHAO).name == "赵六"
    for rejected in (ID_SUN, ID_ZHOU, ID_WU, ID_ZHENG):
        assert account_of(app, rejected) is None
    records = {r.id_number: r for r in records_of(app)}
    assert set(records) == {ID_WANG, ID_ZHAO}
    assert records[ID_WANG].level == "中级"
    assert records[ID_WANG].certificate_number == "ZJ2010001"
    assert records[ID_WANG].obtained_on == date(2010, 5, 1)
    assert records[ID_ZHAO].level == "初级"
    assert records[ID_ZHAO].obtained_on == date(2015, 6, 1)
    before = table_counts(app)
    wang_hash = wang.password_hash

    counts, reasons = import_archive(app, path)  # the same file again
    assert counts == {"accepted": 0, "unchanged": 2, "rejected": 5}
    assert_rejections(reasons)
    assert table_counts(app) == before
    assert account_of(app, ID_WANG).password_hash == wang_hash
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEntry.action)).all()
        assert actions.count("archive.import") == 2
        db.session.remove()


def test_import_xlsx_with_ids_as_strings(app, tmp_path):
    x_id = next(make_id(seq=f"{seq:03d}") for seq in range(1000)
                if make_id(seq=f"{seq:03d}").endswith("X"))
    path = write_xlsx(tmp_path / "archive.xlsx", [
        ["王五", ID_WANG, "中级", "ZJ2010001", date(2010, 5, 1)],
        ["阿依古丽·买买提", x_id.lower(), "高级会计师", "GJ2018007", datetime(2018, 9, 30)],
        ["孙八", ID_SUN, "特级", "TJ2012004", "2012-01-01"],
        ["赵六", ID_ZHAO[:-3] + " " + ID_ZHAO[-3:], "正高", "ZG2020008", "20200101"],
    ])
    counts, reasons = import_archive(app, path)
    assert counts == {"accepted": 3, "unchanged": 0, "rejected": 1}
    assert "资格级别“特级”" in reasons[4]
    dotted = account_of(app, x_id)  # stored in the normal form: upper-case X
    assert dotted is not None and dotted.name == "阿依古丽·买买提"
    records = {r.id_number: r for r in records_of(app)}
    assert records[x_id].level == "高级" and records[x_id].obtained_on == date(2018, 9, 30)
    assert records[ID_ZHAO].level == "正高级" and records[ID_ZHAO].obtained_on == date(2020, 1, 1)
    counts, _ = import_archive(app, path)
    assert counts == {"accepted": 0, "unchanged": 3, "rejected": 1}


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_import_reports_the_row_number_of_the_file(app, tmp_path, kind):
    rows = [ROWS[0], [None] * 5 if kind == "xlsx" else [], ROWS[3]]
    if kind == "xlsx":
        path = write_xlsx(tmp_path / "archive.xlsx", rows)
    else:
        path = write_csv(tmp_path / "archive.csv", rows)
    counts, reasons = import_archive(app, path)
    assert counts == {"accepted": 1, "unchanged": 0, "rejected": 1}
    assert "资格级别“特级”" in reasons.get(4, "")  # 孙八 is on line 4 of the file


def test_import_skips_rows_of_empty_cells_in_csv(app, tmp_path):
    """Excel's "save as CSV" leaves lines of bare commas where cells were once formatted."""
    path = write_csv(tmp_path / "archive.csv", [ROWS[0], ["", "", "", "", ""], ROWS[3],
                                                [" ", "", "", "", ""]])
    counts, reasons = import_archive(app, path)
    assert counts == {"accepted": 1, "unchanged": 0, "rejected": 1}
    assert list(reasons) == [4] and "资格级别“特级”" in reasons[4]


def test_import_missing_columns_refuses_the_file(app, tmp_path):
    path = write_csv(tmp_path / "short.csv", [row[:4] for row in ROWS[:2]], header=HEADER[:4])
    result = cli(app, "accounts", "import-archive", str(path))
    assert result.exit_code == 1
    assert "文件缺少列：取得日期。第一行应为列名：姓名、证件号码、资格级别、证书编号、取得日期" \
        in result.output
    assert table_counts(app) == (0, 0)


def test_import_unreadable_file(app, tmp_path):
    path = tmp_path / "garbage.csv"
    path.write_bytes(b"\xff\xfe\xff\xff\x80\x80")
    result = cli(app, "accounts", "import-archive", str(path))
    assert result.exit_code == 1
    assert "文件编码无法识别" in result.output
    result = cli(app, "accounts", "import-archive", str(tmp_path / "missing.csv"))
    assert result.exit_code == 2


def test_import_updates_a_record_until_the_account_is_in_use(app, client, outbox, tmp_path):
    first = write_csv(tmp_path / "first.csv", ROWS[:1])
    assert import_archive(app, first)[0]["accepted"] == 1
    corrected = write_csv(tmp_path / "corrected.csv",
                          [["王五", ID_WANG, "中级", "ZJ2010009", "2010-05-02"]])
    # nobody uses the account yet: the archive's correction is taken
    assert import_archive(app, corrected)[0] == {"accepted": 1, "unchanged": 0, "rejected": 0}
    assert records_of(app, ID_WANG)[0].certificate_number == "ZJ2010009"

    # the person takes the account over (binds a phone)
    assert login(client, ID_WANG, ID_WANG[-6:]).status_code == 303
    bind_phone(client, outbox, "13600004444")
    in_use = account_of(app, ID_WANG)

    changed = write_csv(tmp_path / "changed.csv",
                        [["王五", ID_WANG, "中级", "ZJ9999999", "2019-01-01"],
                         ["王五", ID_WANG, "高级", "GJ2020001", "2020-01-01"]])
    counts, reasons = import_archive(app, changed)
    assert counts == {"accepted": 1, "unchanged": 0, "rejected": 1}  # a new level is added
    assert "已在使用" in reasons[2] and "未覆盖" in reasons[2]
    kept = {r.level: r for r in records_of(app, ID_WANG)}
    assert kept["中级"].certificate_number == "ZJ2010009"
    assert kept["中级"].obtained_on == date(2010, 5, 2)
    assert kept["高级"].certificate_number == "GJ2020001"
    after = account_of(app, ID_WANG)
    assert (after.phone, after.password_hash, after.must_bind_phone) == \
        (in_use.phone, in_use.password_hash, False)
    assert login(app.test_client(), ID_WANG, NEW_PASSWORD).status_code == 303


def test_import_never_takes_over_someone_elses_account(app, client, outbox, tmp_path):
    assert register(client, outbox, ID_WANG, "13800001111", name="王五").status_code == 303
    with app.app_context():
        from domain.staff import create_staff
        create_staff("reviewer", "530102", ID_ZHAO, "赵六", "13700007777")
        db.session.remove()
    registered, staff = account_of(app, ID_WANG), account_of(app, ID_ZHAO)
    path = write_csv(tmp_path / "archive.csv", [
        ["王小五", ID_WANG, "中级", "ZJ2010001", "2010-05-01"],  # another name: refused
        ["赵六", ID_ZHAO, "中级", "ZJ2015002", "2015-06-01"],    # a staff account: refused
        ["王五", ID_WANG, "初级", "CJ2009001", "2009-05-01"],    # same person: record added
    ])
    counts, reasons = import_archive(app, path)
    assert counts == {"accepted": 1, "unchanged": 0, "rejected": 2}
    assert "已有姓名不同的账号" in reasons[2] and "已是工作人员账号" in reasons[3]
    assert [r.level for r in records_of(app, ID_WANG)] == ["初级"]
    assert records_of(app, ID_ZHAO) == []
    for before in (registered, staff):
        after = account_of(app, before.id_number)
        assert (after.name, after.phone, after.password_hash, after.must_bind_phone,
                after.imported, after.role) == \
            (before.name, before.phone, before.password_hash, before.must_bind_phone,
             before.imported, before.role)
    client.post("/logout")
    assert login(client, ID_WANG).status_code == 303  # still the registered password
    reach_home(client)


# --- an imported person's first login ------------------------------------------------------------

def bind_phone(client, outbox, phone, password=NEW_PASSWORD):
    response = send_code(client, "/account/bind-phone", phone)
    assert response.status_code == 200, body(response)
    code = last_code(outbox, phone)
    response = client.post("/account/bind-phone", data={
        "phone": phone, "sms_code": code, "password": password, "password2": password,
        "action": "bind"})
    assert response.status_code == 303, body(response)
    assert response.headers["Location"] == "/home"
    return response


def test_imported_person_binds_a_phone_then_reaches_home(app, client, outbox, tmp_path):
    import_archive(app, write_csv(tmp_path / "archive.csv", ROWS[:1]))
    assert login(client, ID_WANG, "123456").status_code == 422
    response = login(client, ID_WANG, ID_WANG[-6:])
    assert response.status_code == 303
    # held on the bind-phone page: every other page sends the person there
    pages = [p for p in plain_get_pages(app) if p not in ("/account/bind-phone", "/captcha.png", "/sms-status")
             and not p.startswith("/static")]
    assert {"/", "/home", "/account/password", "/account/phone", "/privacy"} <= set(pages)
    for page in pages + ["/no-such-page"]:
        response = client.get(page)
        assert response.status_code == 303, page
        assert response.headers["Location"] == "/account/bind-phone", page
    response = client.post("/account/password", data={
        "old_password": ID_WANG[-6:], "password": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/bind-phone"
    page = client.get("/account/bind-phone")
    assert page.status_code == 200 and "绑定手机号并设置新密码" in body(page)
    assert client.get("/captcha.png").status_code == 200
    # a password that contains the ID number or the phone is refused
    assert send_code(client, "/account/bind-phone", "13600004444").status_code == 200
    code = last_code(outbox, "13600004444")
    weak = "Ab#" + ID_WANG
    response = client.post("/account/bind-phone", data={
        "phone": "13600004444", "sms_code": code, "password": weak, "password2": weak,
        "action": "bind"})
    assert response.status_code == 422 and "不能包含证件号码" in body(response)
    response = client.post("/account/bind-phone", data={
        "phone": "13600004444", "sms_code": code, "password": NEW_PASSWORD,
        "password2": NEW_PASSWORD, "action": "bind"})
    assert response.status_code == 303
    reach_home(client)
    assert client.get("/account/bind-phone").status_code in (302, 303)  # nothing left to bind
    account = account_of(app, ID_WANG)
    assert account.phone == "13600004444" and not account.must_bind_phone
    client.post("/logout")
    assert login(client, ID_WANG, ID_WANG[-6:]).status_code == 422
    assert login(client, ID_WANG, NEW_PASSWORD).status_code == 303
    reach_home(client)


def test_imported_person_may_log_out_while_held(app, client, tmp_path):
    import_archive(app, write_csv(tmp_path / "archive.csv", ROWS[:1]))
    login(client, ID_WANG, ID_WANG[-6:])
    response = client.post("/logout")
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == "/login"
    assert urlsplit(client.get("/home").headers["Location"]).path == "/login"


def test_imported_person_cannot_bind_someone_elses_phone(app, client, outbox, tmp_path):
    other = app.test_client()
    assert register(other, outbox, ID_ZHAO, "13800001111").status_code == 303
    app.extensions["sms_limits"].limiter.storage.reset()  # the registration's send counted
    import_archive(app, write_csv(tmp_path / "archive.csv", ROWS[:1]))
    login(client, ID_WANG, ID_WANG[-6:])
    response = send_code(client, "/account/bind-phone", "13800001111")
    assert response.status_code == 200  # the page does not tell; the phone's owner is told
    assert "本手机号已绑定账号" in outbox_messages(outbox)[-1]["body"]
    assert outbox_messages(outbox)[-1]["to"] == "13800001111"


def test_imported_person_cannot_reset_by_sms_before_binding(app, client, outbox, tmp_path):
    import_archive(app, write_csv(tmp_path / "archive.csv", ROWS[:1]))
    response = send_code(client, "/forgot-password", "13600004444", id_number=ID_WANG)
    assert response.status_code == 200  # the same answer as always ...
    assert outbox_messages(outbox) == []  # ... but nothing was sent: there is no bound phone


# --- create-staff ------------------------------------------------------------------------------

def create_staff(app, role="reviewer", region="530102", id_number=ID_ZHENG, name="郑审核",
                 phone="13700007777"):
    return cli(app, "accounts", "create-staff", "--role", role, "--region", region,
               "--id-number", id_number, "--name", name, "--phone", phone)


def one_time_password(result) -> str:
    return re.search(r"one-time password[^:]*: (\S+)$", result.output, re.M).group(1)


def test_create_staff_prints_a_one_time_password(app, client):
    result = create_staff(app)
    assert result.exit_code == 0, result.output
    assert "created reviewer 郑审核 for 五华区财政局" in result.output
    password = one_time_password(result)
    assert len(password) == 16
    passwords.check_strength(password, id_number=ID_ZHENG, phone="13700007777")
    staff = account_of(app, ID_ZHENG)
    assert staff.role == "reviewer" and staff.region_code == "530102"
    assert staff.must_change_password and not staff.must_bind_phone
    assert staff.password_hash.startswith("$argon2id$") and password not in staff.password_hash
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "staff.create"))
        assert entry is not None and ID_ZHENG not in entry.subject
        db.session.remove()
    other = create_staff(app, role="auditor", region="530000", id_number=ID_WU, name="吴审计",
                         phone="13700008888")
    assert other.exit_code == 0, other.output
    assert "云南省财政厅" in other.output
    assert one_time_password(other) != password


def test_staff_is_held_on_the_password_page_until_it_is_changed(app, client):
    password = one_time_password(create_staff(app))
    response = login(client, ID_ZHENG, password)
    assert response.status_code == 303
    for page in ("/home", "/account/phone", "/account/bind-phone", "/privacy", "/"):
        response = client.get(page)
        assert response.status_code == 303, page
        assert response.headers["Location"] == "/account/password", page
    page = client.get("/account/password")
    assert page.status_code == 200 and "首次登录请先设置您自己的密码" in body(page)
    response = client.post("/account/password", data={
        "old_password": password, "password": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == "/home"
    reach_home(client)
    assert not account_of(app, ID_ZHENG).must_change_password
    client.post("/logout")
    assert login(client, ID_ZHENG, password).status_code == 422
    assert login(client, ID_ZHENG, NEW_PASSWORD).status_code == 303


@pytest.mark.parametrize("overrides, exit_code, words", [
    ({"region": "999999"}, 1, "地区代码 999999 不存在"),
    ({"id_number": BAD_CHECK}, 1, "校验位"),
    ({"phone": "1370000"}, 1, "手机号码应为11位"),
    ({"name": "<b>x</b>"}, 1, "姓名只能包含"),
    ({"role": "applicant"}, 2, "applicant"),
    ({"role": "superuser"}, 2, "superuser"),
])
def test_create_staff_refusals(app, overrides, exit_code, words):
    result = create_staff(app, **overrides)
    assert result.exit_code == exit_code
    assert words in result.output
    assert "one-time password" not in result.output
    assert table_counts(app)[0] == 0


def test_create_staff_refuses_taken_id_or_phone(app, client, outbox):
    assert register(client, outbox, ID_WANG, "13800001111").status_code == 303
    result = create_staff(app, id_number=ID_WANG)
    assert result.exit_code == 1 and "该证件号码已有账号" in result.output
    result = create_staff(app, phone="13800001111")
    assert result.exit_code == 1 and "该手机号已绑定其他账号" in result.output
    assert account_of(app, ID_ZHENG) is None
    assert account_of(app, ID_WANG).role == "applicant"


# --- audit verify ------------------------------------------------------------------------------

def audit_ids(app) -> list[int]:
    with app.app_context():
        ids = list(db.session.scalars(sa.select(AuditEntry.id).order_by(AuditEntry.id)))
        db.session.remove()
        return ids


def with_guard_lifted(app, statement, **params):
    """Run `statement` with the append-only trigger out of the way, then put it back."""
    with app.app_context():
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(sa.text(
                    "ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_no_change"))
                try:
                    connection.execute(sa.text(statement), params)
                finally:
                    connection.execute(sa.text(
                        "ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_no_change"))
            else:
                connection.execute(sa.text("DROP TRIGGER audit_entries_no_update"))
                connection.execute(sa.text("DROP TRIGGER audit_entries_no_delete"))
                connection.execute(sa.text(statement), params)
                for guard in APPEND_ONLY_SQLITE:
                    connection.execute(sa.text(guard))
        db.session.remove()


def some_history(app, client, outbox, tmp_path):
    assert register(client, outbox, ID_WANG, "13800001111").status_code == 303
    client.post("/logout")
    login(client, ID_WANG, "Wrong#Pass123")
    login(client, ID_WANG)
    import_archive(app, write_csv(tmp_path / "archive.csv", ROWS[1:2]))
    ids = audit_ids(app)
    assert len(ids) >= 4
    return ids


def test_audit_verify_intact(app, client, outbox, tmp_path):
    result = cli(app, "audit", "verify")
    assert result.exit_code == 0 and "audit log intact" in result.output  # empty log
    some_history(app, client, outbox, tmp_path)
    result = cli(app, "audit", "verify")
    assert result.exit_code == 0, result.output
    assert "audit log intact" in result.output


def test_audit_verify_finds_an_edited_row(app, client, outbox, tmp_path):
    ids = some_history(app, client, outbox, tmp_path)
    target = ids[1]
    with_guard_lifted(app, "UPDATE audit_entries SET subject = 'nobody' WHERE id = :id", id=target)
    result = cli(app, "audit", "verify")
    assert result.exit_code == 1
    assert f"row {target}: content does not match its hash" in result.output
    assert "audit log intact" not in result.output
    others = [i for i in ids if i != target]
    assert not any(re.search(rf"\brow {i}:", result.output) for i in others)


def test_audit_verify_finds_a_deleted_row(app, client, outbox, tmp_path):
    ids = some_history(app, client, outbox, tmp_path)
    with_guard_lifted(app, "DELETE FROM audit_entries WHERE id = :id", id=ids[1])
    result = cli(app, "audit", "verify")
    assert result.exit_code == 1
    assert f"row {ids[2]}: previous-hash link broken" in result.output


def test_audit_verify_finds_a_rewritten_hash(app, client, outbox, tmp_path):
    """Editing a row and recomputing its own hash still breaks the link to the next row."""
    ids = some_history(app, client, outbox, tmp_path)
    with_guard_lifted(app, "UPDATE audit_entries SET row_hash = :h WHERE id = :id",
                      h="f" * 64, id=ids[0])
    result = cli(app, "audit", "verify")
    assert result.exit_code == 1
    assert f"row {ids[0]}: content does not match" in result.output
    assert f"row {ids[1]}: previous-hash link broken" in result.output


@pytest.mark.parametrize("statement", [
    "UPDATE audit_entries SET subject = 'nobody'",
    "DELETE FROM audit_entries",
])
def test_audit_rows_cannot_be_changed_in_the_database(app, client, outbox, tmp_path, statement):
    ids = some_history(app, client, outbox, tmp_path)
    with app.app_context():
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with db.engine.begin() as connection:
                connection.execute(sa.text(statement))
        db.session.remove()
    assert audit_ids(app) == ids
    result = cli(app, "audit", "verify")
    assert result.exit_code == 0 and "audit log intact" in result.output
