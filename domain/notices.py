"""Telling an applicant about a review decision, as a background job: an SMS to the bound
phone, retried while the provider fails. A notice that never got out stays a failed job for
administrators to see; the applicant also sees the decision when they log in."""
from extensions import db
from jobs import RetryLater
from models import ReviewDecision
from sms import send_notice


def deliver_decision_notice(job) -> dict:
    from domain.review import notice_text
    decision = db.session.get(ReviewDecision, job.payload["decision_id"])
    if decision is None:
        return {"outcome": "gone"}
    phone = decision.application.account.phone
    if not phone:
        return {"outcome": "no phone"}
    if not send_notice(phone, notice_text(decision, change=decision.application.is_change)):
        raise RetryLater("SMS provider refused or unreachable")
    return {"outcome": "sms"}


def deliver_lock_notice(job) -> dict:
    """Wrong current passwords locked an account from a logged-in session: tell its phone."""
    from models import Account
    account = db.session.get(Account, job.payload["account_id"])
    if account is None or not account.phone:
        return {"outcome": "no phone"}
    text = (f"您的账号因多次输入错误的登录密码已临时锁定{job.payload['minutes']}分钟，所有登录已退出。"
            "如非本人操作，请尽快通过“忘记密码”重置密码。")
    if not send_notice(account.phone, text):
        raise RetryLater("SMS provider refused or unreachable")
    return {"outcome": "sms"}
