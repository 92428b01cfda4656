"""Deletion and correction requests about a submitted record (个人信息保护法 Art. 46–47).

Once a person submitted, the finance bureau keeps the record (会计法, 会计人员管理办法), so the
person cannot erase it themselves: they ask the bureau. The request goes to the bureau of the
record's 属地 at the time of asking and is answered by a reviewer whose jurisdiction covers it —
the staff who may see the record, and so the only ones who can judge a correction (an
administrator sees no application: separation of duties). The answer is 已办理 with what was
done, or 不予办理 with the reason; the person reads it on their page and is told by SMS.

已办理 on a deletion request erases the submitted record (answers, photos, decisions, copies of
it) while the account stays, so the person can read the answer and then close the account.
A correction is made through the review (a pending record is returned with the section
reopened), and the answer says what was done.

Who may answer is said twice, like domain/access.py: `can_answer` for one request in hand,
`scope` as the SQL condition of the reviewer's list."""
from dataclasses import dataclass

import sqlalchemy as sa

import jobs
from domain import access, audit
from domain.account_closing import erase_application
from domain.id_numbers import mask
from extensions import db
from models import (
    Account,
    Application,
    ApplicationStatus,
    Region,
    RightsRequest,
    Role,
    StoredFile,
    utcnow,
)
from models.rights_request import RequestKind, RequestStatus

MAX_DETAILS = 500
MAX_ANSWER = 500
LIST_LIMIT = 200


class RequestProblem(ValueError):
    """A problem the person can fix; `field` names the form field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class AlreadyAnswered(Exception):
    """Another reviewer answered first."""


# -- the person's side --------------------------------------------------------------------------

def held_record(account: Account) -> Application | None:
    """The submitted record the bureau keeps, if there is one."""
    return db.session.scalar(sa.select(Application).where(
        Application.account_id == account.id,
        sa.or_(Application.status != ApplicationStatus.DRAFT,
               Application.submitted_at.is_not(None)))
        .order_by((Application.status == ApplicationStatus.APPROVED).desc(),
                  Application.id.desc()).limit(1))


def requests_of(account: Account) -> list[RightsRequest]:
    return list(db.session.scalars(sa.select(RightsRequest).where(
        RightsRequest.account_id == account.id).order_by(RightsRequest.id.desc())))


def send(account: Account, kind: str, details: str, ip: str) -> RightsRequest:
    """Raise RequestProblem; else the request is with the bureau (committed)."""
    record = held_record(account)
    if record is None or not record.jurisdiction_code:
        raise RequestProblem("kind", "您的信息尚未提交审核，可以直接修改，或注销账号删除全部信息")
    if kind not in tuple(RequestKind):
        raise RequestProblem("kind", "请选择要删除还是更正")
    details = (details or "").strip()
    if not details:
        raise RequestProblem("details", "请写明需要删除或更正的内容和理由")
    if len(details) > MAX_DETAILS:
        raise RequestProblem("details", f"最多{MAX_DETAILS}字")
    if db.session.scalar(sa.select(RightsRequest.id).where(
            RightsRequest.account_id == account.id,
            RightsRequest.status == RequestStatus.OPEN).limit(1)) is not None:
        raise RequestProblem("details", "您已有一条请求正在处理，请等财政局答复后再提交新的请求")
    request = RightsRequest(account_id=account.id, kind=kind, details=details,
                            jurisdiction_code=record.jurisdiction_code,
                            prefecture_code=record.prefecture_code
                            or record.jurisdiction_code[:4] + "00",
                            status=RequestStatus.OPEN, answer="")
    db.session.add(request)
    db.session.flush()
    audit.record("rights.request", actor=account, subject=mask(account.id_number), ip=ip,
                 details={"request": request.id, "kind": kind})
    db.session.commit()
    return request


# -- the bureau's side --------------------------------------------------------------------------

def can_answer(account: Account, request: RightsRequest) -> bool:
    if account is None or not account.is_authenticated or account.role != Role.REVIEWER \
            or account.region is None:
        return False
    return account.region.covers(request.jurisdiction_code)


def scope(region: Region):
    """The requests a reviewer of `region` may see and answer (Region.covers, as SQL)."""
    return access.covered_by(region, RightsRequest)


def requests_for(region: Region, status: str) -> list[RightsRequest]:
    """Open ones oldest first (the queue), answered ones newest first."""
    query = sa.select(RightsRequest).where(scope(region))
    if status == RequestStatus.OPEN:
        query = query.where(RightsRequest.status == RequestStatus.OPEN) \
            .order_by(RightsRequest.created_at, RightsRequest.id)
    else:
        query = query.where(RightsRequest.status != RequestStatus.OPEN) \
            .order_by(RightsRequest.answered_at.desc(), RightsRequest.id.desc())
    return list(db.session.scalars(query.limit(LIST_LIMIT)))


def open_count(region: Region) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(RightsRequest).where(
        scope(region), RightsRequest.status == RequestStatus.OPEN))


@dataclass
class Answer:
    outcome: str            # done | refused
    text: str
    confirmed: bool = False  # deleting the record, ticked

    def problems(self, request: RightsRequest) -> dict[str, str]:
        problems = {}
        if self.outcome not in (RequestStatus.DONE, RequestStatus.REFUSED):
            problems["outcome"] = "请选择已办理或不予办理"
        if not self.text:
            problems["text"] = ("请填写不予办理的理由" if self.outcome == RequestStatus.REFUSED
                                else "请填写办理情况，申报人会看到")
        elif len(self.text) > MAX_ANSWER:
            problems["text"] = f"最多{MAX_ANSWER}字"
        if self.outcome == RequestStatus.DONE and request.kind == RequestKind.DELETION \
                and not self.confirmed:
            problems["confirm"] = "请确认删除后再提交“已办理”"
        return problems


def answer(request: RightsRequest, reviewer: Account, given: Answer, ip: str) -> bool:
    """Record the answer; raise AlreadyAnswered if another reviewer was first. Returns whether
    the record was erased (a deletion agreed to)."""
    if not can_answer(reviewer, request):
        raise PermissionError("outside the reviewer's jurisdiction")
    result = db.session.execute(
        sa.update(RightsRequest).where(RightsRequest.id == request.id,
                                       RightsRequest.status == RequestStatus.OPEN)
        .values(status=given.outcome, answer=given.text, answered_by=reviewer.id,
                answered_at=utcnow()))
    if result.rowcount != 1:
        db.session.rollback()
        raise AlreadyAnswered()
    account = request.account
    record, erased = None, {}
    if given.outcome == RequestStatus.DONE and request.kind == RequestKind.DELETION:
        record = held_record(account)
        erased = erase_application(record) if record is not None else {}
        # A copy of their data holds the erased record too.
        erased["files"] = db.session.execute(sa.delete(StoredFile).where(
            StoredFile.owner_id == account.id, StoredFile.purpose == "copy")).rowcount
    audit.record("rights.answer", actor=reviewer, subject=mask(account.id_number), ip=ip,
                 details={"request": request.id, "kind": request.kind,
                          "outcome": given.outcome, "erased": erased})
    jobs.enqueue("notice.rights_answer", created_by=reviewer, request_id=request.id)
    db.session.commit()
    return record is not None


def notice_text(request: RightsRequest) -> str:
    bureau = request.jurisdiction.bureau_name if request.jurisdiction else "财政局"
    return (f"您向{bureau}提交的个人信息{request.kind_label}请求已答复（{request.status_label}），"
            "请登录会计人员信息采集系统，在“账号设置”中查看。")


def deliver_answer_notice(job) -> dict:
    from jobs import RetryLater
    from sms import send_notice
    request = db.session.get(RightsRequest, job.payload["request_id"])
    if request is None:
        return {"outcome": "gone"}
    phone = request.account.phone
    if not phone:
        return {"outcome": "no phone"}
    if not send_notice(phone, notice_text(request)):
        raise RetryLater("SMS provider refused or unreachable")
    return {"outcome": "sms"}
