"""Delivering a one-time code, as a background job (queued by `sms.request_code`).

The limits are checked here again — the authoritative check, since two quick requests both
passed theirs — then the code is issued and delivered, and only a delivered code counts. A
failed delivery withdraws its code and is tried again; when every attempt failed, the page
that waits on the job says so."""
from domain import accounts
from jobs import RetryLater
from sms import DeliveryFailed, LimitExceeded, Purpose, send_code

SENT = "sent"
LIMITED = "limited"


def deliver_code(job) -> dict:
    phone, purpose, ip = job.payload["phone"], Purpose(job.payload["purpose"]), job.payload["ip"]
    deliver_it = True
    if purpose == Purpose.RESET:
        deliver_it = accounts.may_receive_reset_code(job.payload.get("id_number", ""), phone)
    try:
        send_code(phone, purpose, ip, deliver_it=deliver_it)
    except LimitExceeded as limit:
        return {"outcome": LIMITED, "message": limit.message}
    except DeliveryFailed as failure:
        raise RetryLater(str(failure)) from failure
    return {"outcome": SENT}
