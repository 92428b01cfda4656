"""The auditor's view of the audit log: newest first, 100 to a page, filtered by event, by person
and by Beijing-time date. A person is found by the full ID number (what they did, and what was
done to their masked number) or by a masked number as the log shows it."""
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from domain import id_numbers
from domain.clock import local_midnight_utc
from extensions import db
from models import Account, AuditEntry

PAGE_SIZE = 100


@dataclass
class AuditFilter:
    action: str = ""
    person: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def query_args(self) -> dict[str, str]:
        args = {"action": self.action, "person": self.person,
                "date_from": self.date_from.isoformat() if self.date_from else "",
                "date_to": self.date_to.isoformat() if self.date_to else ""}
        return {name: value for name, value in args.items() if value}


def _person_condition(typed: str):
    text = typed.strip()
    if "*" in text:   # a masked number copied from the log
        return sa.or_(AuditEntry.subject == text, AuditEntry.actor.endswith(f":{text}"))
    number = id_numbers.normalise(text)
    account_id = db.session.scalar(sa.select(Account.id).where(Account.id_number == number))
    subject = AuditEntry.subject == id_numbers.mask(number)
    return sa.or_(AuditEntry.actor_id == account_id, subject) if account_id else subject


def page(audit_filter: AuditFilter, before: int | None = None
         ) -> tuple[list[AuditEntry], int | None]:
    """A page of entries and the id the next (older) page starts before, if there is one."""
    query = sa.select(AuditEntry).order_by(AuditEntry.id.desc())
    if audit_filter.action:
        query = query.where(AuditEntry.action == audit_filter.action)
    if audit_filter.person.strip():
        query = query.where(_person_condition(audit_filter.person))
    if audit_filter.date_from:
        query = query.where(AuditEntry.at >= local_midnight_utc(audit_filter.date_from))
    if audit_filter.date_to:
        query = query.where(AuditEntry.at <
                            local_midnight_utc(audit_filter.date_to + timedelta(days=1)))
    if before:
        query = query.where(AuditEntry.id < before)
    entries = list(db.session.scalars(query.limit(PAGE_SIZE + 1)))
    more = len(entries) > PAGE_SIZE
    entries = entries[:PAGE_SIZE]
    return entries, entries[-1].id if more and entries else None
