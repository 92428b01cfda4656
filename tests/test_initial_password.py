"""The initial password of imported accountants without a stored hash (domain/initial_password):
the import hashes nothing; the last 6 characters of the ID number log in until the person binds
a phone and sets a password of their own; wrong tries count toward the lock; an unknown ID, a
normal account and an imported one cost the same argon2 work."""
import re

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2 import exceptions as argon2_exceptions

from domain import accounts, initial_password
from domain.archive_import import import_rows
from extensions import db
from models import Account
from tests.helpers import CAPTCHA, PASSWORD, last_code, login, make_id, seeded_applicant, send_code

NEW_PASSWORD = "Kunming@2027xy"
ID_WANG = make_id(seq="741")
ID_X = next(make_id(seq=f"{n:03d}") for n in range(1000) if make_id(seq=f"{n:03d}")[-1] == "X")


def import_people(app, *people):
    with app.app_context():
        report = import_rows([{"姓名": name, "证件号码": id_number, "资格级别": "中级",
                               "证书编号": f"Z{n}", "取得日期": "2010-05-01"}
                              for n, (name, id_number) in enumerate(people)])
        assert report.accepted == len(people), report
        db.session.remove()


def account_row(app, id_number) -> dict:
    with app.app_context():
        row = db.session.execute(sa.select(Account.__table__).where(
            Account.id_number == id_number)).mappings().one()
        db.session.remove()
    return dict(row)


def refusal(response) -> str:
    match = re.search(r'<div class="error-summary".*?<ul>(.*?)</ul>', response.get_data(
        as_text=True), re.S)
    assert match, response.get_data(as_text=True)[-1500:]
    return re.sub(r"\s+", " ", match.group(1)).strip()


def test_the_import_computes_no_hash(app, monkeypatch):
    def no_hashing(*_args):
        raise AssertionError("the import must not hash")
    monkeypatch.setattr(app.extensions["password_hasher"], "hash", no_hashing)
    import_people(app, ("王五", ID_WANG))


def test_the_stored_row_holds_nothing_derived_from_the_id_number(app):
    import_people(app, ("王五", ID_WANG))
    row = account_row(app, ID_WANG)
    assert row["password_hash"] == initial_password.MARKER
    secret = ID_WANG[-6:]
    for column, value in row.items():
        if column != "id_number":
            assert secret not in str(value), column
    # the marker is no password hash: argon2 refuses it for the right password and any other
    for typed in (secret, "", initial_password.MARKER):
        with pytest.raises(argon2_exceptions.InvalidHashError):
            PasswordHasher().verify(row["password_hash"], typed)


def test_the_initial_password_logs_in_and_holds_the_person_until_they_bind(app, client, outbox):
    import_people(app, ("王五", ID_WANG))
    response = login(client, ID_WANG, ID_WANG[-6:])
    assert response.status_code == 303
    assert client.get("/home").headers["Location"] == "/account/bind-phone"
    # Until a new password is set, the initial one keeps working (a closed browser is no lock-out).
    client.post("/logout")
    assert login(client, ID_WANG, ID_WANG[-6:]).status_code == 303
    assert send_code(client, "/account/bind-phone", "13600004444").status_code == 200
    response = client.post("/account/bind-phone", data={
        "phone": "13600004444", "sms_code": last_code(outbox, "13600004444"),
        "password": NEW_PASSWORD, "password2": NEW_PASSWORD, "action": "bind"})
    assert response.status_code == 303 and response.headers["Location"] == "/home"
    row = account_row(app, ID_WANG)
    assert row["password_hash"].startswith("$argon2id$")
    client.post("/logout")
    assert login(client, ID_WANG, ID_WANG[-6:]).status_code == 422      # once only
    assert login(client, ID_WANG, NEW_PASSWORD).status_code == 303


def test_full_width_digits_and_a_lower_case_x_are_the_same_password(app):
    import_people(app, ("王五", ID_WANG), ("孙八", ID_X))
    full_width = ID_WANG[-6:].translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert login(app.test_client(), ID_WANG, full_width).status_code == 303
    assert login(app.test_client(), ID_X, ID_X[-6:].lower()).status_code == 303
    assert login(app.test_client(), ID_X, ID_X[-7:-1]).status_code == 422


def test_wrong_initial_passwords_count_toward_the_lock(app, client):
    import_people(app, ("王五", ID_WANG))
    unknown = login(client, make_id(seq="999"), "123456")
    for _ in range(5):
        response = login(client, ID_WANG, "123456")
        assert response.status_code == 422
        assert refusal(response) == refusal(unknown)        # the same answer as an unknown ID
    response = login(client, ID_WANG, ID_WANG[-6:])          # right, but locked now
    assert response.status_code == 422 and "已临时锁定" in refusal(response)
    assert account_row(app, ID_WANG)["locked_until"] is not None


def test_the_marker_counts_only_for_an_imported_account_still_held(app):
    """A marker left on an account that is no longer held (or was never imported) logs in nobody:
    is_pending needs all three."""
    import_people(app, ("王五", ID_WANG))
    with app.app_context():
        account = db.session.scalar(sa.select(Account).where(Account.id_number == ID_WANG))
        account.must_bind_phone = False
        db.session.commit()
        db.session.remove()
    assert login(app.test_client(), ID_WANG, ID_WANG[-6:]).status_code == 422
    other = seeded_applicant(app, seq="852")
    with app.app_context():
        account = db.session.scalar(sa.select(Account).where(Account.id_number == other))
        account.password_hash, account.must_bind_phone = initial_password.MARKER, True
        db.session.commit()
        db.session.remove()
    assert login(app.test_client(), other, other[-6:]).status_code == 422


def test_every_login_does_one_argon2_verification(app, monkeypatch):
    """The work, and so the time, of a login is the same for a normal account, an imported one on
    its initial password, an unknown ID, right or wrong."""
    import_people(app, ("王五", ID_WANG))
    normal = seeded_applicant(app, seq="852")
    hasher = app.extensions["password_hasher"]
    calls = []

    class Counting:
        """argon2's PasswordHasher, its verifications counted."""
        def __init__(self, real):
            self.real = real

        def verify(self, *args):
            calls.append(1)
            return self.real.verify(*args)

        def __getattr__(self, name):
            return getattr(self.real, name)

    monkeypatch.setattr(hasher, "_hasher", Counting(hasher._hasher))
    attempts = [(normal, PASSWORD, 303), (normal, "Wrong#Pass123", 422),
                (ID_WANG, ID_WANG[-6:], 303), (ID_WANG, "123456", 422),
                (make_id(seq="999"), "123456", 422)]
    for id_number, password, status in attempts:
        calls.clear()
        response = app.test_client().post("/login", data={
            "id_number": id_number, "password": password, "captcha": CAPTCHA})
        assert response.status_code == status, id_number
        assert len(calls) == 1, (id_number, password)


def test_change_password_and_phone_check_the_initial_password_too(app):
    """Not reachable while held (the hook sends the person to bind a phone), but the domain
    functions refuse a wrong initial password and accept the right one alike."""
    import_people(app, ("王五", ID_WANG))
    with app.app_context():
        account = db.session.scalar(sa.select(Account).where(Account.id_number == ID_WANG))
        assert accounts.password_matches(account, ID_WANG[-6:])
        assert not accounts.password_matches(account, "123456")
        with pytest.raises(accounts.AccountProblem):
            accounts.change_password(account, "123456", NEW_PASSWORD, "127.0.0.1")
        db.session.remove()
