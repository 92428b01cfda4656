"""注销账号 / 撤回同意 (个人信息保护法 Art. 15 and 47): a person who never submitted their
collection may close the account, and everything held about them is deleted at once; once a
record was submitted, the finance bureau must keep it and the person asks the bureau instead
(domain/rights_requests.py).

Closing is confirmed with a code sent to the bound phone (purpose close-account), so a session
left open on a borrowed phone cannot erase someone. What goes, in one transaction: the account,
its application (answers, drafts), photos, review decisions, copies of their data, deletion and
correction requests, login sessions, background jobs they caused (SMS deliveries carry the
phone) and the SMS codes of their phone. What stays: the audit log, which never holds more than
the masked ID number and masked phone (530102********1234, 138****5678), and the finance
bureau's own archive of existing accountants (原有会计人员档案) — it was not collected here. The
ID number and the phone are free again: the person can register anew."""
from dataclasses import dataclass

import sqlalchemy as sa

import sms
from domain import audit
from domain.id_numbers import mask
from domain.phones import mask as mask_phone
from extensions import db
from models import (
    Account,
    Appeal,
    Application,
    ApplicationKind,
    ApplicationStatus,
    ArchiveRecord,
    Job,
    LoginSession,
    Material,
    ReviewDecision,
    RightsRequest,
    Section,
    SmsCode,
    StoredFile,
    utcnow,
)


@dataclass(frozen=True)
class _Actor:
    id: int
    role: str
    id_number: str


class RecordHeld(Exception):
    """The application was submitted: the finance bureau keeps it; the account cannot be closed."""


def application_of(account: Account) -> Application | None:
    """The first collection (a change exists only after one was approved)."""
    return db.session.scalar(sa.select(Application).where(
        Application.account_id == account.id, Application.kind == ApplicationKind.FIRST))


def never_submitted(application: Application | None) -> bool:
    return application is None or (application.status == ApplicationStatus.DRAFT
                                   and application.submitted_at is None)


def may_close(account: Account) -> bool:
    return never_submitted(application_of(account))


def in_archive(account: Account) -> bool:
    """Whether the bureau's archive of existing accountants has this ID number (it stays)."""
    return db.session.scalar(sa.select(ArchiveRecord.id).where(
        ArchiveRecord.id_number == account.id_number).limit(1)) is not None


def request_code(account: Account, ip: str):
    """Queue the confirmation code to the bound phone; raise sms.LimitExceeded. The caller
    commits."""
    job = sms.request_code(account.phone, sms.Purpose.CLOSE_ACCOUNT, ip, account=account)
    audit.record("sms.send", actor=account, subject=mask_phone(account.phone), ip=ip,
                 details={"purpose": str(sms.Purpose.CLOSE_ACCOUNT)})
    return job


def close(account: Account, sms_code: str, ip: str) -> None:
    """Raise RecordHeld or sms.CodeProblem; else the account and everything of it is gone."""
    application = application_of(account)
    if not never_submitted(application):
        raise RecordHeld()
    sms.verify_code(account.phone, sms.Purpose.CLOSE_ACCOUNT, sms_code)
    if application is not None:
        # Hold the draft for this transaction: a submission racing with the close waits for it
        # and then finds nothing to submit (its UPDATE is conditional on the status too).
        held = db.session.execute(
            sa.update(Application).where(Application.id == application.id,
                                         Application.status == ApplicationStatus.DRAFT,
                                         Application.submitted_at.is_(None))
            .values(updated_at=utcnow()))
        if held.rowcount != 1:
            db.session.rollback()
            raise RecordHeld()
    who = _Actor(account.id, account.role, account.id_number)  # the row is about to go
    counts = erase_account(account, application)
    audit.record("account.close", actor=who, subject=mask(who.id_number), ip=ip, details=counts)
    db.session.commit()


def _delete(model, condition) -> int:
    return db.session.execute(sa.delete(model).where(condition)).rowcount


def erase_application(application: Application) -> dict[str, int]:
    """An application and everything hanging from it. The caller commits."""
    counts = {"materials": _delete(Material, Material.application_id == application.id)}
    counts["decisions"] = _delete(ReviewDecision, ReviewDecision.application_id == application.id)
    counts["sections"] = _delete(Section, Section.application_id == application.id)
    _delete(Application, Application.id == application.id)
    return counts


def erase_account(account: Account, application: Application | None) -> dict[str, int]:
    counts = erase_application(application) if application is not None else {}
    counts["requests"] = _delete(RightsRequest, RightsRequest.account_id == account.id)
    # An appeal about the account is the appellant's, not the account's: it stays, naming no
    # account any more (staff close it as 无此账号).
    db.session.execute(sa.update(Appeal).where(Appeal.account_id == account.id)
                       .values(account_id=None))
    counts["files"] = _delete(StoredFile, StoredFile.owner_id == account.id)
    _delete(LoginSession, LoginSession.account_id == account.id)
    _delete(Job, Job.created_by == account.id)
    if account.phone:
        _delete(SmsCode, SmsCode.phone == account.phone)
    _delete(Account, Account.id == account.id)
    return counts
