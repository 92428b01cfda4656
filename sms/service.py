"""Sending a code end to end: limits, issue, deliver, count. A request only asks for a code
(`request_code`: limits checked, a job queued); the job does the sending (`send_code`)."""
import logging

from flask import current_app

from extensions import db
from sms.codes import Purpose, issue_code, withdraw_code
from sms.delivery import DeliveryFailed, deliver
from sms.limits import NEW_BINDING, RECOVERY, LimitsUnavailable, check_limits, count_send

log = logging.getLogger("sms")

# A code that arrives minutes late is no use: a few quick attempts, then the page says so.
CODE_ATTEMPTS = 3

PURPOSE_WORDS = {
    Purpose.REGISTER: "注册账号",
    Purpose.BIND: "绑定手机号",
    Purpose.RESET: "找回密码",
    Purpose.CHANGE_PHONE: "更换手机号",
    Purpose.STAFF_LOGIN: "登录审核管理端",
    Purpose.CLOSE_ACCOUNT: "注销账号并删除全部信息",
    Purpose.WECHAT_BIND: "绑定微信一键登录",
    Purpose.APPEAL: "提交账号申诉",
}


def code_text(code: str, purpose: Purpose) -> str:
    signature = current_app.config["SMS_SIGNATURE"]
    minutes = current_app.config["SMS_CODE_TTL_SECONDS"] // 60
    return (f"{signature}您正在{PURPOSE_WORDS[purpose]}，验证码{code}，{minutes}分钟内有效。"
            "工作人员不会向您索要验证码，请勿告诉他人。")


def scope_of(purpose: Purpose) -> str:
    """Which per-phone count a code spends (see sms/limits.py)."""
    return RECOVERY if purpose in (Purpose.RESET, Purpose.STAFF_LOGIN) else NEW_BINDING


def request_code(phone: str, purpose: Purpose, ip: str, *, account=None, **details):
    """Raise LimitExceeded now if the limits already refuse; else queue the delivery job and
    return it. The caller commits; the job runs after the commit."""
    import jobs
    check_limits(phone, ip, scope_of(purpose))
    return jobs.enqueue("sms.code", created_by=account, max_attempts=CODE_ATTEMPTS,
                        phone=phone, purpose=str(purpose), ip=ip, **details)


def send_code(phone: str, purpose: Purpose, ip: str, *, deliver_it: bool = True) -> None:
    """Raise LimitExceeded or DeliveryFailed; on success the code is on its way and committed.

    deliver_it=False counts the send without issuing anything: used where the answer must not
    reveal whether an ID and phone belong together (forgot password)."""
    scope = scope_of(purpose)
    check_limits(phone, ip, scope)
    if deliver_it:
        code, code_id = issue_code(phone, purpose)
        db.session.commit()
        try:
            deliver(phone, code_text(code, purpose))
        except DeliveryFailed:
            withdraw_code(code_id)
            db.session.commit()
            raise
    try:
        count_send(phone, ip, scope)
    except LimitsUnavailable:  # sent, but Redis went away since the check: do not resend
        log.warning("a delivered code to %s could not be counted", phone[:3] + "****")


def send_counted_notice(phone: str, ip: str, text: str) -> None:
    """A message someone's request caused (not a code): within the same limits as a code, and
    counted like one. Raise LimitExceeded or DeliveryFailed."""
    check_limits(phone, ip)
    deliver(phone, current_app.config["SMS_SIGNATURE"] + text)
    try:
        count_send(phone, ip)
    except LimitsUnavailable:
        log.warning("a delivered notice to %s could not be counted", phone[:3] + "****")


def send_notice(phone: str, text: str) -> bool:
    """A notification (review decisions). Returns False if it could not be delivered."""
    try:
        deliver(phone, current_app.config["SMS_SIGNATURE"] + text)
    except DeliveryFailed:
        return False
    return True
