"""Decision notices through the official account (公众号): a bound applicant gets the review
decision as a template message from the job queue; when WeChat refuses for any reason, or the
person has no binding, or notices are not configured, the SMS goes out as before."""
import pytest
import sqlalchemy as sa

from domain import review, wechat_bindings
from domain.id_numbers import mask
from extensions import db
from models import Account, Application, Job, JobStatus
from tests.factories import make_application, make_staff
from tests.helpers import body, login, outbox_messages
from tests.wechat_flow import audit_rows, in_wechat, one_tap


def bind(app, person, openid):
    with app.app_context():
        account = db.session.scalar(sa.select(Account).where(
            Account.id_number == person.id_number))
        wechat_bindings.bind(account, openid, "password", "127.0.0.1")
        db.session.remove()


def decide(app, person, approved=True, reasons=(), note=""):
    reviewer = make_staff(app)
    with app.app_context():
        application = db.session.get(Application, person.application_id)
        decision = review.Decision(approved=approved, reasons=list(reasons), note=note,
                                   reopen=[] if approved else ["basic"])
        review.decide(application, db.session.get(Account, reviewer.id), decision, "127.0.0.1")
        job = db.session.scalar(sa.select(Job).where(Job.kind == "notice.decision"))
        db.session.expunge(job)
        db.session.remove()
    return job


def sms_to(outbox, phone) -> list[str]:
    return [m["body"] for m in outbox_messages(outbox) if m["to"] == phone]


@pytest.fixture
def bound(app, wechat):
    person = make_application(app)
    bind(app, person, wechat.openid)
    return person


def test_a_bound_person_gets_the_decision_from_the_official_account(app, wechat, bound, outbox):
    job = decide(app, bound)
    assert job.status == JobStatus.DONE and job.result == {"outcome": "wechat"}
    [message] = wechat.delivered
    assert message.touser == wechat.openid and message.template_id == "TPL_decision"
    assert message.url == "http://localhost/collection"
    data = {key: item["value"] for key, item in message.data.items()}
    assert data["thing1"] == "会计人员信息采集" and data["phrase2"] == "审核通过"
    assert data["time3"][:2] == "20" and data["thing4"] == "请登录系统查看"
    assert message.client_msg_id == f"decision-{job.payload['decision_id']}"
    assert sms_to(outbox, bound.phone) == []
    [(_action, subject, details)] = audit_rows(app, "notice.decision")
    assert subject == mask(bound.id_number) and details["outcome"] == "wechat"


def test_a_rejection_says_why_within_the_templates_limits(app, wechat, bound):
    decide(app, bound, approved=False, reasons=["照片不符合要求", "工作证明未加盖公章"])
    data = {key: item["value"] for key, item in wechat.delivered[0].data.items()}
    assert data["phrase2"] == "未通过" and len(data["phrase2"]) <= 5
    assert data["thing4"].startswith("照片不符合要求、工作证明未加盖公章")
    assert len(data["thing4"]) <= 20 and data["thing4"].endswith("…")


@pytest.mark.parametrize("mode, errcode", [
    ("not_following", "43004"),   # the person does not follow the official account
    ("limit", "45009"),           # the official account's daily quota is spent
    ("busy", "-1"),               # WeChat busy, every try
    ("error", "WeChatUnavailable"),
])
def test_any_refusal_falls_back_to_sms(app, wechat, bound, outbox, mode, errcode):
    wechat.set_mode("send", mode)
    job = decide(app, bound)
    assert job.status == JobStatus.DONE
    assert job.result == {"outcome": "sms", "wechat": errcode}
    assert wechat.messages and wechat.delivered == []
    [text] = sms_to(outbox, bound.phone)
    assert "您的会计人员信息采集已审核通过" in text
    [(_action, _subject, details)] = audit_rows(app, "notice.decision")
    assert details == {"application": bound.application_id, "outcome": "sms",
                       "wechat": errcode}


def test_a_refused_token_is_refreshed_once_then_the_message_goes(app, wechat, bound):
    wechat.set_mode("send", "invalid_token", times=1)
    job = decide(app, bound)
    assert job.result == {"outcome": "wechat"} and len(wechat.delivered) == 1
    assert len(wechat.token_requests) == 2  # asked again after the refusal, once


def test_without_a_binding_the_sms_goes_and_wechat_is_not_asked(app, wechat, outbox):
    person = make_application(app)
    job = decide(app, person)
    assert job.result == {"outcome": "sms"}
    assert wechat.requests == [] and len(sms_to(outbox, person.phone)) == 1


def test_without_a_template_id_notices_stay_sms(app, wechat, bound, outbox, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_TEMPLATE_ID", None)
    job = decide(app, bound)
    assert job.result == {"outcome": "sms"} and wechat.requests == []
    assert len(sms_to(outbox, bound.phone)) == 1


def test_a_binding_sealed_under_another_secret_key_falls_back_to_sms(app, wechat, bound, outbox,
                                                                      monkeypatch):
    monkeypatch.setitem(app.config, "SECRET_KEY", "a-new-secret-key-for-this-test-only")
    job = decide(app, bound)
    assert job.result == {"outcome": "sms"} and wechat.messages == []


def test_sms_failing_too_retries_the_whole_notice(app, wechat, bound, outbox, monkeypatch):
    wechat.set_mode("send", "not_following")
    monkeypatch.setitem(app.config, "SMS_OUTBOX", None)  # every SMS delivery fails
    job = decide(app, bound)
    assert job.status == JobStatus.FAILED  # kept for administrators, like any failed notice
    assert len(wechat.messages) == job.max_attempts


def test_the_page_says_how_the_decision_will_come(app, wechat, bound):
    client = in_wechat(app.test_client())
    assert one_tap(client).headers["Location"] == "/home"
    assert "审核结果将以微信公众号消息（未能送达时以短信）通知您" in body(client.get("/collection"))
    other = make_application(app)
    client = app.test_client()
    assert login(client, other.id_number).status_code == 303
    assert "审核结果将以短信通知您" in body(client.get("/collection"))
