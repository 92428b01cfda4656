"""An accountant's application: creation, which sections may change in which status, saving a
section (and its draft), and the derived jurisdiction."""
import sqlalchemy as sa
from sqlalchemy.orm import joinedload, lazyload

from domain.jurisdiction import county_from_work
from domain.sections import SECTION_KEYS
from extensions import db
from models import Account, Application, ApplicationStatus, ReviewDecision, Section, utcnow
from models.application import OPEN_STATUSES

MAX_DRAFT_VALUE = 500     # characters kept per typed value in a draft
MAX_DRAFT_FIELDS = 200


class SectionLocked(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def current_of(account: Account) -> Application | None:
    """The version the person works on: the open one (the first collection, or a change being
    filled in, reviewed or fixed), else the approved record. One query: the sections come
    joined; the account is the one already loaded."""
    query = sa.select(Application).where(
        Application.account_id == account.id,
        Application.status.in_((*OPEN_STATUSES, ApplicationStatus.APPROVED))).options(
        joinedload(Application.sections), lazyload(Application.account))
    found = db.session.scalars(query).unique().all()
    return next((a for a in found if a.status in OPEN_STATUSES), found[0] if found else None)


def application_for(account: Account) -> Application:
    """The account's current version (see current_of), created on first use (safe against a
    double request)."""
    application = current_of(account)
    if application is None:
        try:
            with db.session.begin_nested():
                application = Application(account_id=account.id)
                db.session.add(application)
            db.session.commit()
        except sa.exc.IntegrityError:
            application = current_of(account)
    if account.imported and application.section("qualification") is None:
        _fill_from_archive(application, account)
    return application


def _fill_from_archive(application: Application, account: Account) -> None:
    """An existing accountant's qualifications are in the archive: their section starts
    answered from it (to be checked), so it never shows 未填写 for what they already have."""
    from domain.archive_import import archive_qualifications
    found = archive_qualifications(account.id_number)
    if found is None or application.status != ApplicationStatus.DRAFT:
        return
    application.sections.append(Section(key="qualification", data=found.to_stored(),
                                        completed=True, from_archive=True))
    db.session.commit()


def next_unfinished(application: Application, after: str) -> str | None:
    """The first data section after `after` (then from the start) not yet answered, or None
    when all four are: the way forward of 保存并继续, as the manual walks them."""
    order = SECTION_KEYS[SECTION_KEYS.index(after) + 1:] + SECTION_KEYS[:SECTION_KEYS.index(after)]
    for key in order:
        section = application.section(key)
        if section is None or not section.completed or section.needs_changes:
            return key
    return None


def lock_reason(application: Application, key: str) -> str | None:
    """Why the section cannot be changed now, or None when it can."""
    status = application.status
    if status == ApplicationStatus.PENDING:
        return "信息已提交审核，审核期间不能修改。"
    if status == ApplicationStatus.APPROVED:
        return "信息已审核通过，不能再修改；如需变更，请使用信息变更功能。"
    if status not in OPEN_STATUSES:
        return "这是历史版本，不能修改。"
    if status == ApplicationStatus.REJECTED and key not in reopened_sections(application):
        return "审核未通过，但此部分无需修改；请修改标记为“需修改”的部分后重新提交。"
    if status == ApplicationStatus.DRAFT and application.is_change \
            and key not in editable_parts(application):
        return "此部分不在本次信息变更的范围内，保持不变；如也需变更，请撤回本次变更后重新选择。"
    return None


def editable_parts(application: Application) -> list[str]:
    """The parts (section keys, "materials") the person may change now."""
    if application.status == ApplicationStatus.REJECTED:
        return reopened_sections(application)
    if application.status != ApplicationStatus.DRAFT:
        return []
    if not application.is_change:
        return [*SECTION_KEYS, "materials"]
    parts = list(application.change_parts or [])
    return parts + (["materials"] if application.section("materials") is not None else [])


def latest_decision(application: Application) -> ReviewDecision | None:
    return db.session.scalar(
        sa.select(ReviewDecision).where(ReviewDecision.application_id == application.id)
        .order_by(ReviewDecision.id.desc()).limit(1))


def reopened_sections(application: Application) -> list[str]:
    """The sections the last rejection reopened: editable until the person resubmits, even
    after they have been saved once (a second look before resubmitting is allowed)."""
    if application.status != ApplicationStatus.REJECTED:
        return []
    decision = latest_decision(application)
    return list(decision.reopened) if decision is not None else []


def check_editable(application: Application, key: str) -> None:
    reason = lock_reason(application, key)
    if reason:
        raise SectionLocked(reason)


def _section(application: Application, key: str) -> Section:
    if key not in SECTION_KEYS:
        raise KeyError(key)
    section = application.section(key)
    if section is None:
        section = Section(key=key)
        application.sections.append(section)
    return section


def save_section(application: Application, key: str, given) -> None:
    """Store valid answers (one of domain.answers' types) and mark the section done."""
    from domain import prechecks  # imported here: prechecks builds on this module
    check_editable(application, key)
    checked = prechecks.subjects(application) if key in prechecks.ANSWER_SECTIONS else None
    section = _section(application, key)
    section.data = given.to_stored()
    section.draft = None
    section.completed = True
    section.needs_changes = False
    section.from_archive = False
    if key == "work":
        set_jurisdiction(application, county_from_work(given))
    application.updated_at = utcnow()
    if checked is not None:
        prechecks.answers_changed(application, checked)
    db.session.commit()


def set_jurisdiction(application: Application, county_code: str | None) -> None:
    application.jurisdiction_code = county_code
    application.prefecture_code = county_code[:4] + "00" if county_code else None


def save_draft(application: Application, key: str, typed: dict) -> None:
    """Keep what was typed, valid or not, so a reload or a lost connection loses nothing."""
    check_editable(application, key)
    section = _section(application, key)
    section.draft = clip_draft(typed)
    db.session.commit()


def clip_draft(typed: dict) -> dict:
    clipped = {}
    for name, values in list(typed.items())[:MAX_DRAFT_FIELDS]:
        if name in ("csrf_token", "action"):
            continue
        clipped[name[:60]] = [str(v)[:MAX_DRAFT_VALUE] for v in values[:20]]
    return clipped


