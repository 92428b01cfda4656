"""SMS: one-time codes and notifications.

    request_code(phone, purpose, ip) -> check the limits and queue the delivery job
    send_code(phone, purpose, ip)   -> issue a code and deliver it, within the limits (the job)
    verify_code(phone, purpose, code, consume=True)
    send_notice(phone, text)        -> a plain message (review decisions)

Delivery goes through the backend named by SMS_BACKEND: console, outbox or twilio.
"""
from sms.codes import CodeProblem, Purpose, issue_code, verify_code
from sms.delivery import DeliveryFailed, deliver
from sms.limits import (
    LimitExceeded,
    LimitsUnavailable,
    check_limits,
    count_send,
    count_undelivered,
)
from sms.service import request_code, send_code, send_counted_notice, send_notice

__all__ = [
    "CodeProblem", "DeliveryFailed", "LimitExceeded", "LimitsUnavailable", "Purpose", "check_limits", "count_send", "count_undelivered", "send_counted_notice",
    "deliver", "issue_code", "request_code", "send_code", "send_notice", "verify_code",
]
