"""注销账号 / 撤回同意: a person who never submitted closes the account with a code sent to their
bound phone, and everything of theirs is deleted at once; the audit log keeps its rows, none of
them holding more than the masked ID number and phone; the same ID number and phone register
again. Once submitted, closing is refused (409) and the page explains what the bureau keeps."""
import sqlalchemy as sa

from domain.id_numbers import mask
from extensions import db
from models import (
    Account,
    Application,
    ApplicationStatus,
    ArchiveRecord,
    AuditEntry,
    Job,
    LoginSession,
    Material,
    Role,
    Section,
    SmsCode,
    StoredFile,
)
from tests.factories import (
    Person,
    applicant_client,
    audit_rows,
    fill_sections,
    make_application,
    register_applicant,
    staff_client,
    upload_materials,
)
from tests.helpers import body, htmx, last_code, outbox_messages, register

URL = "/account/close"


def counts(app, person) -> dict[str, int]:
    """What is left in the database of the person."""
    with app.app_context():
        def count(model, condition):
            return db.session.scalar(sa.select(sa.func.count()).select_from(model)
                                     .where(condition))
        result = {
            "accounts": count(Account, Account.id_number == person.id_number),
            "applications": count(Application, Application.account_id == person.account_id),
            "sections": count(Section, Section.application_id == person.application_id),
            "materials": count(Material, Material.owner_id == person.account_id),
            "sessions": count(LoginSession, LoginSession.account_id == person.account_id),
            "jobs": count(Job, Job.created_by == person.account_id),
            "files": count(StoredFile, StoredFile.owner_id == person.account_id),
            "sms_codes": count(SmsCode, SmsCode.phone == person.phone),
        }
        db.session.remove()
    return result


def with_ids(app, person: Person) -> Person:
    with app.app_context():
        account = db.session.scalar(sa.select(Account).where(
            Account.id_number == person.id_number))
        person.account_id = account.id
        person.application_id = db.session.scalar(sa.select(Application.id).where(
            Application.account_id == account.id))
        db.session.remove()
    return person


def drafted(client, outbox, app) -> Person:
    """Registered over HTTP, every section filled, every photo uploaded, a copy of their data
    made, not submitted."""
    person = register_applicant(client, outbox)
    fill_sections(client)
    upload_materials(client)
    assert client.post("/account/copy").status_code == 303
    return with_ids(app, person)


def send_code(client):
    """获取验证码 (a minute after the registration code: the phone's limit is forgotten)."""
    client.application.extensions["sms_limits"].limiter.storage.reset()
    return client.post(f"{URL}/send-code", data={"sms_code": "", "confirm": ""})


def close(client, outbox, person, **headers):
    assert send_code(client).status_code == 200
    return client.post(URL, data={"sms_code": last_code(outbox, person.phone), "confirm": "y"},
                       headers=headers)


def test_the_page_says_what_goes_and_what_stays(client, outbox, app):
    person = register_applicant(client, outbox)
    page = body(client.get(URL))
    assert "<h1>注销账号</h1>" in page and "撤回" in page
    for words in ("上传的全部证明材料图片", "不会删除的", mask(person.id_number),
                  "可以用同一证件号码重新注册", person.phone[:3] + "****" + person.phone[-4:]):
        assert words in page, words
    assert person.id_number not in page and person.phone not in page
    fragment = client.get(URL, headers=htmx())
    assert fragment.status_code == 200 and body(fragment).lstrip().startswith('<form id="close-form"')


def test_the_code_goes_to_the_bound_phone_and_says_what_it_is_for(client, outbox, app):
    person = register_applicant(client, outbox)
    response = send_code(client)
    assert response.status_code == 200
    assert "验证码已发送至" in body(response)
    message = outbox_messages(outbox)[-1]
    assert message["to"] == person.phone and "注销账号" in message["body"]
    fragment = client.post(f"{URL}/send-code", data={"confirm": "y"}, headers=htmx())
    assert fragment.status_code == 429  # a minute between codes to one phone
    assert body(fragment).lstrip().startswith('<form id="close-form"')
    assert 'checked' in body(fragment)  # the tick is kept


def test_closing_needs_the_code_and_the_tick(client, outbox, app):
    register_applicant(client, outbox)
    response = client.post(URL, data={"sms_code": "", "confirm": ""})
    assert response.status_code == 422
    page = body(response)
    assert "请填写短信验证码" in page and "请勾选确认后再注销" in page
    assert 'aria-invalid="true"' in page and "<html" in page
    fragment = client.post(URL, data={"sms_code": "12", "confirm": ""}, headers=htmx())
    assert fragment.status_code == 422
    assert body(fragment).lstrip().startswith('<form id="close-form"')
    assert 'value="12"' in body(fragment)


def test_a_wrong_code_closes_nothing(client, outbox, app):
    person = register_applicant(client, outbox)
    send_code(client)
    wrong = "000000" if last_code(outbox, person.phone) != "000000" else "111111"
    response = client.post(URL, data={"sms_code": wrong, "confirm": "y"})
    assert response.status_code == 422 and "验证码不正确" in body(response)
    assert counts(app, with_ids(app, person))["accounts"] == 1


def test_a_code_for_another_purpose_does_not_close(client, outbox, app):
    """The registration code the phone received earlier is not a closing code."""
    person = register_applicant(client, outbox)
    register_code = last_code(outbox, person.phone)
    response = client.post(URL, data={"sms_code": register_code, "confirm": "y"})
    assert response.status_code == 422
    assert counts(app, with_ids(app, person))["accounts"] == 1


def test_closing_deletes_everything_at_once_and_the_id_registers_again(client, outbox, app):
    person = drafted(client, outbox, app)
    before = counts(app, person)
    assert before["sections"] == 4 and before["materials"] >= 4 and before["files"] == 1
    response = close(client, outbox, person)
    assert response.status_code == 303 and response.headers["Location"].endswith("/login")
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'
    assert "您的账号已注销，信息已全部删除" in body(client.get("/login"))
    assert "/login" in client.get("/collection").headers["Location"]  # logged out
    assert counts(app, person) == {name: 0 for name in before}

    closed = audit_rows(app, "account.close")
    assert len(closed) == 1 and closed[0].subject == mask(person.id_number)
    # Every audit row survives, and none holds more than the masked number and phone.
    rows = audit_rows(app)
    assert {"register", "sms.send", "copy.request", "account.close"} <= {r.action for r in rows}
    for row in rows:
        for text in (row.actor, row.subject, row.details):
            assert person.id_number not in text and person.phone not in text
            assert person.name not in text

    again = app.test_client()
    app.extensions["sms_limits"].limiter.storage.reset()  # a minute later
    response = register(again, outbox, person.id_number, person.phone, name=person.name)
    assert response.status_code == 303, body(response)[-1500:]
    page = body(again.get("/collection", follow_redirects=True))
    assert "未填写" in page and "已完成" not in page  # a fresh start


def test_closing_over_htmx_redirects_to_the_login_page(client, outbox, app):
    person = register_applicant(client, outbox)
    response = close(client, outbox, person, **htmx())
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/login"


def test_the_archive_record_of_an_existing_accountant_stays(client, outbox, app):
    """The bureau's archive was not collected here: closing the account leaves it (and says so)."""
    person = register_applicant(client, outbox)
    with app.app_context():
        db.session.add(ArchiveRecord(id_number=person.id_number, name=person.name, level="中级",
                                     certificate_number="ZJ0001"))
        db.session.commit()
        db.session.remove()
    assert "财政部门原有的会计人员档案" in body(client.get(URL))
    assert close(client, outbox, person).status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ArchiveRecord)) == 1
        db.session.remove()


def test_a_submitted_record_cannot_be_closed(app, outbox):
    person = make_application(app, status=ApplicationStatus.PENDING)
    client = applicant_client(app, person)
    page = body(client.get(URL))
    assert "<h1>删除或更正个人信息</h1>" in page and 'id="close-form"' not in page
    sent = len(outbox_messages(outbox))
    assert client.post(f"{URL}/send-code").status_code == 409
    assert len(outbox_messages(outbox)) == sent
    response = client.post(URL, data={"sms_code": "123456", "confirm": "y"})
    assert response.status_code == 409 and "删除或更正个人信息" in body(response)
    fragment = client.post(URL, data={"sms_code": "123456", "confirm": "y"}, headers=htmx())
    assert fragment.status_code == 409 and "不能再注销账号" in body(fragment)
    assert counts(app, person)["accounts"] == 1


def test_a_rejected_record_was_submitted_too(app, outbox):
    person = make_application(app, status=ApplicationStatus.REJECTED)
    client = applicant_client(app, person)
    assert client.post(f"{URL}/send-code").status_code == 409


def test_a_submission_after_the_code_was_sent_stops_the_closing(client, outbox, app):
    """The person asks for the code, then submits: the code closes nothing any more."""
    person = drafted(client, outbox, app)
    send_code(client)
    assert client.post("/collection/submit").status_code == 303
    response = client.post(URL, data={"sms_code": last_code(outbox, person.phone),
                                      "confirm": "y"})
    assert response.status_code == 409
    assert counts(app, person)["accounts"] == 1


def test_staff_have_no_such_page(app):
    for role in (Role.REVIEWER, Role.ADMIN, Role.AUDITOR):
        client, _member = staff_client(app, role, "530102" if role == Role.REVIEWER else "530000")
        assert client.get(URL).status_code == 404
        assert client.post(f"{URL}/send-code").status_code == 404
        assert client.post(URL, data={"sms_code": "123456", "confirm": "y"}).status_code == 404


def test_logged_out_people_are_sent_to_log_in(client):
    for response in (client.get(URL), client.post(URL), client.get("/account/copy")):
        assert response.status_code == 303 and "/login" in response.headers["Location"]


def test_no_audit_row_about_a_closed_person_names_them(client, outbox, app):
    person = register_applicant(client, outbox)
    close(client, outbox, person)
    with app.app_context():
        texts = db.session.execute(sa.select(AuditEntry.actor, AuditEntry.subject,
                                             AuditEntry.details)).all()
        db.session.remove()
    joined = "\n".join("\t".join(row) for row in texts)
    assert person.id_number not in joined and person.phone not in joined
