"""The 获取验证码 step shared by every form that sends a code: validate the phone and the captcha
in the form, check the phone may receive this purpose's code, send, and say what happened."""
from dataclasses import dataclass

from flask import current_app, session

from blueprints.forms_util import add_error, validate_fields
from blueprints.web import client_ip
from domain import accounts, audit, captcha
from extensions import db
from domain.phones import mask
from sms import DeliveryFailed, LimitExceeded, Purpose, send_code


@dataclass
class SendResult:
    status: int
    message: str
    sent: bool = False

    @property
    def countdown(self) -> int:
        return 60 if self.sent else 0


def captcha_solved(answer: str) -> bool:
    config = current_app.config
    return captcha.check(session, answer, config["SECRET_KEY"], config["CAPTCHA_TEST_ANSWER"])


def send(form, purpose: Purpose, account=None) -> SendResult:
    names = ["phone", "captcha"] + (["id_number"] if purpose == Purpose.RESET else [])
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
    phone = form.phone.data
    deliver_it = True
    if purpose == Purpose.RESET:
        deliver_it = accounts.may_receive_reset_code(form.id_number.data, phone)
    elif accounts.phone_in_use(phone, except_account=account):
        add_error(form.phone, "该手机号已绑定其他账号，请换一个手机号；如是本人账号，请直接登录")
        return SendResult(422, "未发送短信")
    try:
        send_code(phone, purpose, client_ip(), deliver_it=deliver_it)
    except LimitExceeded as limit:
        return SendResult(429, limit.message)
    except DeliveryFailed:
        return SendResult(503, "短信发送失败，请稍后重试")
    audit.record("sms.send", actor=account, subject=mask(phone), ip=client_ip(),
                 details={"purpose": str(purpose), "delivered": deliver_it})
    db.session.commit()
    if purpose == Purpose.RESET:
        return SendResult(200, f"如果证件号码与绑定的手机号一致，验证码已发送至{mask(phone)}，"
                               "5分钟内有效", sent=True)
    return SendResult(200, f"验证码已发送至{mask(phone)}，5分钟内有效", sent=True)
