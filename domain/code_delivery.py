"""Delivering a one-time code, as a background job (queued by `sms.request_code`).

The job, not the request, decides what goes out, so the request's answer and its timing are the
same whatever the database holds:
- forgot password with an ID number and a phone that do not belong together: nothing is sent;
  the requester's address is charged, the phone's own quota is not;
- a code to bind or register a phone that another account already uses: that phone's owner is
  told instead (and may log in or reset), nobody learns it from the page;
- otherwise the code: limits checked again (the authoritative check, since two quick requests
  both passed theirs), issued, delivered, and counted only once delivered.
A failed delivery withdraws its code and is tried again; when every attempt failed, the page
that waits on the job says so."""
from domain import accounts
from extensions import db
from jobs import RetryLater
from models import Account
from sms import (
    DeliveryFailed,
    LimitExceeded,
    Purpose,
    count_undelivered,
    send_code,
    send_counted_notice,
)

SENT = "sent"
LIMITED = "limited"
PHONE_TAKEN = ("有人在会计人员信息采集系统使用本手机号获取验证码，但本手机号已绑定账号。"
               "如是您本人，请直接登录，忘记密码可通过“忘记密码”找回；如非本人操作，请忽略本短信。")


def deliver_code(job) -> dict:
    phone, purpose, ip = job.payload["phone"], Purpose(job.payload["purpose"]), job.payload["ip"]
    try:
        if purpose == Purpose.RESET:
            if not accounts.may_receive_reset_code(job.payload.get("id_number", ""), phone):
                count_undelivered(ip)
                return {"outcome": SENT}
        elif accounts.phone_in_use(phone, except_account=_requester(job)):
            send_counted_notice(phone, ip, PHONE_TAKEN)
            return {"outcome": SENT}
        send_code(phone, purpose, ip)
    except LimitExceeded as limit:
        return {"outcome": LIMITED, "message": limit.message}
    except DeliveryFailed as failure:
        raise RetryLater(str(failure)) from failure
    return {"outcome": SENT}


def _requester(job) -> Account | None:
    return db.session.get(Account, job.created_by) if job.created_by else None
