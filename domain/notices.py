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
    if not send_notice(phone, notice_text(decision)):
        raise RetryLater("SMS provider refused or unreachable")
    return {"outcome": "sms"}
