"""Staff confirm every login with a code sent to their bound phone (等保 2.0 三级 8.1.4.1 d: two
authentication techniques for administrators): the password proves knowledge, the code proves
possession. Applicants log in with their password alone, as before.

Between the two steps nothing is logged in: the session cookie only says which account passed
its password and when, for SECOND_FACTOR_MINUTES. The code is an ordinary SMS code (purpose
staff-login): 6 digits, hashed, 5 minutes, single use, 5 wrong tries per hour."""
from dataclasses import dataclass
from datetime import timedelta

import sms
from domain import audit
from domain.id_numbers import mask
from extensions import db
from models import Account, utcnow

SESSION_KEY = "second_factor"
SECOND_FACTOR_MINUTES = 10


class SecondFactorExpired(Exception):
    """No password step to confirm, or it is too old: log in again."""


@dataclass
class Pending:
    account: Account
    next_url: str | None


def needed(account: Account) -> bool:
    return account.is_staff


def begin(store, account: Account, next_url: str | None, ip: str):
    """The password was right: remember who, and queue the code. Return the delivery job, or
    raise LimitExceeded (a code sent a moment ago still works: the page says to use it)."""
    store[SESSION_KEY] = {"account": account.id, "at": utcnow().isoformat(), "next": next_url}
    db.session.commit()
    job = sms.request_code(account.phone, sms.Purpose.STAFF_LOGIN, ip, account=account)
    db.session.commit()
    return job


def pending(store) -> Pending:
    state = store.get(SESSION_KEY)
    if not isinstance(state, dict):
        raise SecondFactorExpired()
    try:
        started = utcnow().fromisoformat(state["at"])
    except (KeyError, TypeError, ValueError):
        raise SecondFactorExpired() from None
    account = db.session.get(Account, state.get("account"))
    if account is None or not account.is_enabled or \
            utcnow() - started > timedelta(minutes=SECOND_FACTOR_MINUTES):
        raise SecondFactorExpired()
    return Pending(account, state.get("next"))


def confirm(store, code: str, ip: str) -> Pending:
    """Raise sms.CodeProblem or SecondFactorExpired; else the login may start."""
    waiting = pending(store)
    sms.verify_code(waiting.account.phone, sms.Purpose.STAFF_LOGIN, code)
    audit.record("login.second_factor", actor=waiting.account,
                 subject=mask(waiting.account.id_number), ip=ip)
    store.pop(SESSION_KEY, None)
    return waiting


def resend(store, ip: str):
    waiting = pending(store)
    job = sms.request_code(waiting.account.phone, sms.Purpose.STAFF_LOGIN, ip,
                           account=waiting.account)
    db.session.commit()
    return job
