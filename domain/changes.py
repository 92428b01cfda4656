"""信息变更: after 审核成功 a person changes parts of their record, and the change is reviewed.

A change is a new version of the record: an Application of kind CHANGE whose `base` is the
approved one. It starts as a copy of the base (every section, every kept picture, marked
`carried`), with only the parts the person chose open to edit. The approved record stays in
force and visible while the change is reviewed. Approving the change makes it the record and
the base a past version (SUPERSEDED); a rejected change reopens what the reviewer marks, as the
first review does, and leaves the record untouched; withdrawing it leaves no trace but the
audit log and its decisions. The change's 属地 follows its own work answers, so a new employer
in another county is reviewed by that county. One open change at a time (a partial unique
index keeps it so under races)."""
from dataclasses import dataclass, field

import sqlalchemy as sa

from domain import answers as typed
from domain import audit
from domain.id_numbers import mask
from domain.sections import DATA_SECTIONS, TITLES
from domain.summary import MATERIALS_OF, NOT_GIVEN, Row, section_rows
from extensions import db
from models import (
    Account,
    Application,
    ApplicationKind,
    ApplicationStatus,
    Material,
    MaterialPrecheck,
    ReviewDecision,
    Section,
    utcnow,
)

# What a person can say changed, in their words, and the section it lives in.
PARTS = [
    ("work", "工作单位 / 岗位（含在岗状态、人员类别）"),
    ("education", "学历"),
    ("qualification", "专业技术资格"),
    ("basic", "通讯地址 / 邮箱 / 民族 / 政治面貌"),
]
PART_KEYS = [key for key, _words in PARTS]
OPEN = (ApplicationStatus.DRAFT, ApplicationStatus.PENDING, ApplicationStatus.REJECTED)


class ChangeRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def record_of(account: Account) -> Application | None:
    """The approved record in force."""
    return db.session.scalar(sa.select(Application).where(
        Application.account_id == account.id, Application.status == ApplicationStatus.APPROVED))


def open_change(account: Account) -> Application | None:
    return db.session.scalar(sa.select(Application).where(
        Application.account_id == account.id, Application.kind == ApplicationKind.CHANGE,
        Application.status.in_(OPEN)))


def start(record: Application, parts: list[str], ip: str) -> Application:
    """A draft change of `record` with `parts` open to edit: sections and pictures copied from
    the record (the pictures by the database, not through Python)."""
    chosen = [key for key in PART_KEYS if key in parts]
    if not chosen:
        raise ChangeRefused("请至少选择一项要变更的内容")
    if record.status != ApplicationStatus.APPROVED:
        raise ChangeRefused("只有审核通过的信息才能变更")
    if open_change(record.account) is not None:
        raise ChangeRefused("您已有一项信息变更尚未完成，请先完成或撤回它")
    change = Application(account_id=record.account_id, kind=ApplicationKind.CHANGE,
                         base_id=record.id, change_parts=chosen, status=ApplicationStatus.DRAFT,
                         jurisdiction_code=record.jurisdiction_code,
                         prefecture_code=record.prefecture_code)
    for section in record.sections:
        if section.key in TITLES:
            change.sections.append(Section(key=section.key, data=section.data, completed=True,
                                           needs_changes=section.key in chosen))
    if any(MATERIALS_OF[key] for key in chosen if key != "basic"):
        # open to uploads; whether one is needed follows from the answers (stale_pictures)
        change.sections.append(Section(key="materials", completed=True))
    try:
        with db.session.begin_nested():
            db.session.add(change)
            db.session.flush()
    except sa.exc.IntegrityError:   # another tab started one a moment ago
        raise ChangeRefused("您已有一项信息变更尚未完成，请先完成或撤回它") from None
    columns = ("owner_id", "kind", "pending", "sha256", "size_bytes", "width", "height",
               "content", "thumbnail", "notes", "uploaded_at")
    table = Material.__table__
    db.session.execute(table.insert().from_select(
        ["application_id", *columns, "carried"],
        sa.select(sa.literal(change.id), *(table.c[name] for name in columns),
                  sa.true()).where(table.c.application_id == record.id,
                                   table.c.pending.is_(False))))
    audit.record("change.start", actor=record.account, ip=ip,
                 subject=mask(record.account.id_number),
                 details={"application": change.id, "parts": chosen})
    db.session.commit()
    return change


def is_change(application: Application) -> bool:
    return application.kind == ApplicationKind.CHANGE


def base_of(change: Application) -> Application | None:
    return db.session.get(Application, change.base_id) if change.base_id else None


def parts_of(change: Application) -> list[str]:
    return list(change.change_parts or [])


def material_kinds(change: Application) -> set[str]:
    """The pictures this change may replace: those of the chosen parts."""
    return {kind for key in parts_of(change) if key != "basic" for kind in MATERIALS_OF[key]}


def _answers(application: Application, key: str):
    section = application.section(key)
    return typed.from_stored(key, section.data) if section is not None else None


def _facts(key: str, given) -> dict[str, object]:
    """Per picture kind, the facts it proves: a new picture is needed when they change."""
    if given is None:
        return {}
    if key == "work":
        if given.employer is not None:
            e = given.employer
            return {"work_proof": (e.name, e.credit_code, e.county)}
        n = given.not_employed
        return {"residence_proof": (n.category, n.county, n.school_name)}
    if key == "education":
        return {f"education_{block}": degree for block, degree in given.blocks()
                if degree is not None}
    if key == "qualification":
        from domain.materials import LEVEL_KINDS
        facts: dict[str, object] = {}
        for record in given.records:
            kind = f"qualification_{LEVEL_KINDS.get(record.level, '')}"
            facts[kind] = (*facts.get(kind, ()), (record.certificate_number, record.obtained_on))
        return facts
    return {}


def fresh_kinds(change: Application) -> dict[str, str]:
    """kind → why a new picture is needed: the facts it proves changed, so the picture carried
    over from the record no longer proves them."""
    base = base_of(change)
    reasons = {
        "work": "工作单位或在岗情况已变更，请上传能证明新情况的",
        "education": "学历已变更，请上传新的",
        "qualification": "专业技术资格已变更，请上传新的",
    }
    needed = {}
    for key in parts_of(change):
        if key == "basic":
            continue
        old, new = _facts(key, _answers(base, key)), _facts(key, _answers(change, key))
        for kind, facts in new.items():
            if old.get(kind) != facts:
                needed[kind] = reasons[key]
    return needed


def stale_pictures(change: Application) -> list[tuple[str, str]]:
    """(kind, message) of each picture still carried over although its facts changed."""
    from domain.materials import materials_of, spec_for
    kept = materials_of(change)
    stale = []
    for kind, reason in fresh_kinds(change).items():
        material = kept.get(kind)
        spec = spec_for(change, kind)
        if material is not None and material.carried and spec is not None:
            stale.append((kind, f"{reason}{spec.title}"))
    return stale


def unchanged(change: Application) -> bool:
    base = base_of(change)
    return all(_answers(change, key) == _answers(base, key) for key in parts_of(change)) and \
        not any(not m.carried for m in _kept(change))


def _kept(change: Application) -> list[Material]:
    return list(db.session.scalars(sa.select(Material).where(
        Material.application_id == change.id, Material.pending.is_(False))))


def problems(change: Application) -> list[str]:
    """What keeps a change from being submitted, beyond the first collection's own checks."""
    if unchanged(change):
        return ["您还没有修改任何内容：请修改要变更的部分，或撤回本次变更"]
    return [message for _kind, message in stale_pictures(change)]


def fresh_materials(change: Application) -> list[Material]:
    """The pictures uploaded for this change (the reviewer sees only these)."""
    return [m for m in _kept(change) if not m.carried]


# The diff -------------------------------------------------------------------------------------

@dataclass
class ChangedRow:
    key: str
    label: str
    old: str
    new: str
    sensitive: str | None = None
    group: bool = False

    @property
    def changed(self) -> bool:
        return not self.group and self.old != self.new


@dataclass
class PartDiff:
    key: str
    title: str
    rows: list[ChangedRow] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(row.changed for row in self.rows)


def _rows(application: Application, key: str) -> list[Row]:
    return section_rows(key, _answers(application, key))


def diff(change: Application) -> list[PartDiff]:
    """Old beside new for each chosen part, in the rows the summary shows."""
    base = base_of(change)
    parts = []
    for info in DATA_SECTIONS:
        if info.key not in parts_of(change):
            continue
        old = {row.key: row for row in _rows(base, info.key)}
        new = _rows(change, info.key)
        part = PartDiff(info.key, info.title)
        for row in new:
            before = old.pop(row.key, None)
            part.rows.append(ChangedRow(row.key, row.label,
                                        before.value if before else NOT_GIVEN, row.value,
                                        row.sensitive, row.group))
        for row in old.values():   # a record or a block that was removed
            part.rows.append(ChangedRow(row.key, row.label, row.value, "（已删除）",
                                        row.sensitive, row.group))
        parts.append(part)
    return parts


def changed_values(change: Application) -> dict[str, dict[str, str]]:
    """section key → row key → the old value, for the rows a change altered: the person's
    summary shows it under the new one."""
    return {part.key: {row.key: row.old for row in part.rows if row.changed}
            for part in diff(change)}


# Approval, withdrawal, history ----------------------------------------------------------------

def supersede_base(change: Application) -> bool:
    """In the approving transaction, before the change itself is marked approved: the record
    it replaces becomes a past version. False if that record is no longer the one in force."""
    result = db.session.execute(
        sa.update(Application).where(Application.id == change.base_id,
                                     Application.status == ApplicationStatus.APPROVED)
        .values(status=ApplicationStatus.SUPERSEDED, updated_at=utcnow()))
    return result.rowcount == 1


def withdraw(change: Application, ip: str) -> None:
    """撤回: a change never submitted is removed; one that was rejected is kept as withdrawn
    (its decision stays with it), its copied pictures removed."""
    if change.status not in (ApplicationStatus.DRAFT, ApplicationStatus.REJECTED):
        raise ChangeRefused("审核期间不能撤回变更")
    account = change.account
    db.session.execute(sa.delete(MaterialPrecheck).where(
        MaterialPrecheck.application_id == change.id))
    db.session.execute(sa.delete(Material).where(Material.application_id == change.id))
    decided = db.session.scalar(sa.select(sa.func.count()).select_from(ReviewDecision).where(
        ReviewDecision.application_id == change.id))
    if decided:
        change.status = ApplicationStatus.WITHDRAWN
    else:
        db.session.delete(change)
    audit.record("change.withdraw", actor=account, ip=ip, subject=mask(account.id_number),
                 details={"application": change.id})
    db.session.commit()


@dataclass(frozen=True)
class Version:
    application: Application
    label: str


VERSION_LABELS = {
    ApplicationStatus.APPROVED: "当前有效",
    ApplicationStatus.SUPERSEDED: "历史版本",
}


def versions(account: Account) -> list[Application]:
    """Every approved version of the record, newest first (the one in force first)."""
    return list(db.session.scalars(sa.select(Application).where(
        Application.account_id == account.id,
        Application.status.in_((ApplicationStatus.APPROVED, ApplicationStatus.SUPERSEDED)))
        .order_by(Application.decided_at.desc(), Application.id.desc())))


def version_of(account: Account, application_id: int) -> Application | None:
    found = db.session.get(Application, application_id)
    if found is None or found.account_id != account.id or found.status not in (
            ApplicationStatus.APPROVED, ApplicationStatus.SUPERSEDED):
        return None
    return found
