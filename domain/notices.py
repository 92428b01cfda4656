"""Telling an applicant about a review decision, as a background job: a template message from
the official account (公众号) to a bound WeChat when notices are configured, else — or when
WeChat refuses for any reason (43004 not following, 45009 daily limit, busy, unreachable...) —
an SMS to the bound phone, retried while the SMS provider fails. A notice that never got out
stays a failed job for administrators to see; the applicant also sees the decision when they
log in. Which way each notice went is audit-logged."""
import logging

from flask import current_app

import wechat
from domain import audit, wechat_bindings
from domain.clock import local_time
from domain.id_numbers import mask
from extensions import db
from jobs import RetryLater
from models import ReviewDecision
from sms import send_notice

log = logging.getLogger("notices")

# The decision notice's template (WECHAT_TEMPLATE_ID) has these fields, in this order: 事项
# (thing, ≤ 20 characters), 审核结果 (phrase, ≤ 5), 审核时间 (time), 备注 (thing, ≤ 20).
TEMPLATE_FIELDS = ("thing1", "phrase2", "time3", "thing4")
THING_MAX = 20


def deliver_decision_notice(job) -> dict:
    from domain.review import notice_text
    decision = db.session.get(ReviewDecision, job.payload["decision_id"])
    if decision is None:
        return {"outcome": "gone"}
    account = decision.application.account
    refused = _by_wechat(decision, account)
    if refused is None:
        return {"outcome": "wechat"}
    phone = account.phone
    if not phone:
        return {"outcome": "no phone"}
    if not send_notice(phone, notice_text(decision, change=decision.application.is_change)):
        raise RetryLater("SMS provider refused or unreachable")
    outcome = {"outcome": "sms"}
    if refused:
        outcome["wechat"] = refused
    _record(decision, account, outcome)
    return outcome


def _by_wechat(decision: ReviewDecision, account) -> str | None:
    """Send the template message; None when it went out, else why not ("" when WeChat was
    never tried: not configured, or the person has no binding)."""
    if not wechat.notices_configured(current_app.config):
        return ""
    openid = wechat_bindings.notice_openid(account)
    if not openid:
        return ""
    try:
        # One client_msg_id per decision: a retry of this job cannot deliver twice.
        wechat.client().send_template(openid, template_data(decision),
                                      url=wechat_bindings.site_address("collection.index"),
                                      client_msg_id=f"decision-{decision.id}")
    except wechat.WeChatError as error:
        log.warning("decision %s: WeChat refused the notice (%s), sending SMS", decision.id,
                    error.errcode or type(error).__name__)
        return str(error.errcode or type(error).__name__)
    _record(decision, account, {"outcome": "wechat"})
    return None


def template_data(decision: ReviewDecision) -> dict[str, str]:
    if decision.approved:
        result, remark = "审核通过", "请登录系统查看"
    else:
        reasons = "、".join(r for r in decision.reasons if r != "其他") or decision.note
        result, remark = "未通过", f"{reasons}，请修改后重新提交"
    thing = "会计人员信息变更" if decision.application.is_change else "会计人员信息采集"
    return dict(zip(TEMPLATE_FIELDS, (thing, result, local_time(decision.decided_at),
                                      _thing(remark)), strict=True))


def _thing(text: str) -> str:
    return text if len(text) <= THING_MAX else text[:THING_MAX - 1] + "…"


def _record(decision: ReviewDecision, account, outcome: dict) -> None:
    audit.record("notice.decision", subject=mask(account.id_number),
                 details={"application": decision.application_id, **outcome})
    db.session.commit()


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
