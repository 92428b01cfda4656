"""The 获取验证码 step shared by every form that sends a code: validate the phone and the captcha
in the form, check the phone may receive this purpose's code, send, and say what happened."""
from dataclasses import dataclass

from flask import current_app, session

from blueprints.forms_util import add_error, validate_fields
from blueprints.web import client_ip
from domain import audit, captcha
from domain.phones import mask
from extensions import db
from models import Job, JobStatus
from sms import LimitExceeded, LimitsUnavailable, Purpose, request_code

_JOB_KEY = "sms_job"


@dataclass
class SendResult:
    status: int
    message: str
    sent: bool = False
    pending: bool = False  # the code is on its way: the page asks again shortly

    @property
    def countdown(self) -> int:
        return 60 if self.sent or self.pending else 0


def sent_words(purpose: str, phone: str) -> str:
    if purpose == Purpose.RESET:
        return f"如果证件号码与绑定的手机号一致，验证码已发送至{mask(phone)}，5分钟内有效"
    return f"验证码已发送至{mask(phone)}，5分钟内有效"


def result_of(job) -> SendResult:
    """What the person is told about a code they asked for, from its delivery job."""
    payload = job.payload
    if job.status == JobStatus.FAILED:
        return SendResult(503, "短信发送失败，请稍后重试（本次不计入发送次数）")
    if job.status != JobStatus.DONE:
        # `attempts` counts an attempt from the moment it starts: one running is not a retry.
        failed = job.attempts - (1 if job.status == JobStatus.RUNNING else 0)
        retrying = "（短信通道繁忙，正在重试）" if failed > 0 else ""
        return SendResult(200, f"验证码正在发送至{mask(payload['phone'])}{retrying}，通常几秒内送达",
                          pending=True)
    if (job.result or {}).get("outcome") == "limited":
        return SendResult(429, job.result.get("message", "获取验证码过于频繁，请稍后再试"))
    return SendResult(200, sent_words(payload["purpose"], payload["phone"]), sent=True)


def current_result() -> SendResult | None:
    """The state of the last code this browser asked for, if any."""
    job_id = session.get(_JOB_KEY)
    job = db.session.get(Job, job_id) if isinstance(job_id, int) else None
    return result_of(job) if job is not None and job.kind == "sms.code" else None


def captcha_solved(answer: str) -> bool:
    config = current_app.config
    return captcha.check(session, answer, config["SECRET_KEY"], config["CAPTCHA_TEST_ANSWER"])


def send(form, purpose: Purpose, account=None, phone: str | None = None) -> SendResult:
    """`phone`: the account's own bound phone, when the form has no phone to type."""
    names = ([] if phone else ["phone"]) + ["captcha"] + (
        ["id_number"] if purpose == Purpose.RESET else [])
    if not validate_fields(form, *names):
        return SendResult(422, "请先改正上面标出的问题，再获取验证码")
    if not form.captcha.data:
        add_error(form.captcha, "请先填写图形验证码，再获取短信验证码")
        return SendResult(422, "请先填写图形验证码")
    if not captcha_solved(form.captcha.data):
        add_error(form.captcha, "图形验证码不正确，请看清新的图片后重新输入")
        form.captcha.data = ""
        return SendResult(422, "图形验证码不正确，未发送短信")
    form.captcha.data = ""  # spent: the next send needs the new picture
    phone = phone or form.phone.data
    details = {}
    if purpose == Purpose.RESET:
        details["id_number"] = form.id_number.data
    # Whether ID and phone belong together, or the phone is someone else's already, is the
    # job's business (domain/code_delivery.py): the request does the same work either way, so
    # its answer and its timing reveal nothing.
    try:
        job = request_code(phone, purpose, client_ip(), account=account, **details)
    except LimitExceeded as limit:
        return SendResult(503 if isinstance(limit, LimitsUnavailable) else 429, limit.message)
    audit.record("sms.send", actor=account, subject=mask(phone), ip=client_ip(),
                 details={"purpose": str(purpose)})
    db.session.commit()
    remember_code_job(job)
    return result_of(job)


def remember_code_job(job) -> None:
    """This browser may ask how its code is getting on (/sms-status), and only this one."""
    session[_JOB_KEY] = job.id
