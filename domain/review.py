"""Review decisions: 通过, or 不通过 with reasons and the sections to reopen. Exactly one decision
per submission, enforced by a conditional UPDATE in the database, not a read-then-write."""
from dataclasses import dataclass, field

import sqlalchemy as sa

import jobs
from domain import audit, changes
from domain.access import can_view
from domain.id_numbers import mask
from domain.sections import DATA_SECTIONS
from extensions import db
from models import Account, Application, ApplicationStatus, ReviewDecision, Section, utcnow

REOPENABLE = [(info.key, info.title) for info in DATA_SECTIONS] + [("materials", "证明材料")]
REOPENABLE_KEYS = [key for key, _title in REOPENABLE]
_TITLE = dict(REOPENABLE)

# Each common reason and the parts it is about. A decision giving the reason must reopen at least
# one of them (the applicant could not fix it otherwise); the form ticks them when the reason is
# ticked, except for a reason that may concern any part (the reviewer says which).
REASON_PARTS = {
    "照片不符合要求": ("materials",),
    "证件照片不清晰": ("materials",),
    "工作证明未加盖公章": ("materials",),
    "缺少居住证明": ("materials",),
    "基本信息填写有误": ("basic",),
    "工作信息填写有误": ("work",),
    "学历信息与证书不符": ("education", "materials"),
    "资格信息与证书不符": ("qualification", "materials"),
    "填写信息与证明材料不一致": tuple(REOPENABLE_KEYS),
    "其他": (),
}
COMMON_REASONS = list(REASON_PARTS)
PRESELECT_UP_TO = 2   # a reason about more parts than this ticks none of them


def preselected_parts(reason: str) -> tuple[str, ...]:
    parts = REASON_PARTS.get(reason, ())
    return parts if len(parts) <= PRESELECT_UP_TO else ()


def unreopened_reason(reasons: list[str], reopen: list[str]) -> str | None:
    """The message for the first reason none of whose parts is reopened, if any."""
    for reason in reasons:
        parts = REASON_PARTS.get(reason, ())
        if parts and not set(parts) & set(reopen):
            if len(parts) == 1:
                return f"原因“{reason}”涉及{_TITLE[parts[0]]}，请勾选“{_TITLE[parts[0]]}”，" \
                       "否则申报人无法修改"
            names = "、".join(f"“{_TITLE[p]}”" for p in parts)
            return f"原因“{reason}”涉及{names}，请至少勾选其中一项，否则申报人无法修改"
    return None


MAX_NOTE = 500


class AlreadyDecided(Exception):
    """Another reviewer decided first, or the application is not waiting for review."""


@dataclass
class Decision:
    approved: bool
    reasons: list[str] = field(default_factory=list)
    note: str = ""
    reopen: list[str] = field(default_factory=list)

    def problems(self) -> dict[str, str]:
        """Field → message for a decision that cannot be recorded as given."""
        if self.approved:
            return {}
        problems = {}
        if not self.reasons and not self.note:
            problems["reasons"] = "请选择不通过的原因，或填写说明"
        if any(r not in COMMON_REASONS for r in self.reasons):
            problems["reasons"] = "请从列表中选择原因"
        if "其他" in self.reasons and not self.note:
            problems["note"] = "选择“其他”时请填写具体说明"
        if len(self.note) > MAX_NOTE:
            problems["note"] = f"说明最多{MAX_NOTE}字"
        if not self.reopen:
            problems["reopen"] = "请选择需要申报人修改的部分"
        elif any(key not in REOPENABLE_KEYS for key in self.reopen):
            problems["reopen"] = "请从列表中选择需要修改的部分"
        elif "reasons" not in problems:
            contradiction = unreopened_reason(self.reasons, self.reopen)
            if contradiction:
                problems["reopen"] = contradiction
        return problems


def decide(application: Application, reviewer: Account, decision: Decision, ip: str) -> None:
    if not can_view(reviewer, application):
        raise PermissionError("outside the reviewer's jurisdiction")
    status = ApplicationStatus.APPROVED if decision.approved else ApplicationStatus.REJECTED
    if decision.approved and application.is_change and application.status == \
            ApplicationStatus.PENDING and not changes.supersede_base(application):
        db.session.rollback()   # the record it changes is no longer in force
        raise AlreadyDecided()
    result = db.session.execute(
        sa.update(Application)
        .where(Application.id == application.id, Application.status == ApplicationStatus.PENDING)
        .values(status=status, decided_at=utcnow()))
    if result.rowcount != 1:
        db.session.rollback()
        raise AlreadyDecided()
    reopen = [] if decision.approved else decision.reopen
    recorded = ReviewDecision(
        application_id=application.id, reviewer_id=reviewer.id, approved=decision.approved,
        reasons=[] if decision.approved else decision.reasons,
        note="" if decision.approved else decision.note, reopened=reopen)
    db.session.add(recorded)
    db.session.flush()
    # The notice goes out after the commit, from a job: the decision never waits on a provider.
    jobs.enqueue("notice.decision", created_by=reviewer, decision_id=recorded.id)
    for key in reopen:
        _reopen(application, key)
    audit.record("review.approve" if decision.approved else "review.reject", actor=reviewer,
                 ip=ip, subject=mask(application.account.id_number),
                 details={"application": application.id, "kind": application.kind,
                          "reasons": decision.reasons, "reopened": reopen})
    db.session.commit()


def decisions_of(application: Application) -> list[ReviewDecision]:
    """Every decision on the application, newest first."""
    return list(db.session.scalars(
        sa.select(ReviewDecision).where(ReviewDecision.application_id == application.id)
        .order_by(ReviewDecision.id.desc())))


def _reopen(application: Application, key: str) -> None:
    section = db.session.scalar(sa.select(Section).where(
        Section.application_id == application.id, Section.key == key))
    if section is None:
        section = Section(application_id=application.id, key=key, completed=key == "materials")
        db.session.add(section)
    section.needs_changes = True


def notice_text(decision: "Decision | ReviewDecision", change: bool = False) -> str:
    what = "信息变更" if change else "会计人员信息采集"
    if decision.approved:
        return f"您的{what}已审核通过。"
    reasons = "、".join(r for r in decision.reasons if r != "其他")
    short = reasons or decision.note[:30]
    return f"您的{what}未通过审核（{short}），请登录系统按提示修改后重新提交。"
