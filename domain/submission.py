"""提交审核: what is still missing, and the submission itself (idempotent)."""
import sqlalchemy as sa

from domain import audit, changes, materials, prechecks
from domain.id_numbers import mask
from domain.sections import COMPLETED, DATA_SECTIONS, status_of
from extensions import db
from models import Application, ApplicationStatus, utcnow

SUBMITTABLE = (ApplicationStatus.DRAFT, ApplicationStatus.REJECTED)


def missing_parts(application: Application) -> list[tuple[str, str]]:
    """(title, section key) of every part not yet ready; empty when it can be submitted."""
    missing = [(info.title, info.key) for info in DATA_SECTIONS
               if status_of(application.section(info.key)) != COMPLETED]
    if materials.section_status(application) != COMPLETED:
        missing.append(("证明材料", "materials"))
    if application.is_open_change:
        stale = changes.stale_pictures(application)
        if stale:   # say which picture, not only 证明材料
            missing = [part for part in missing if part[1] != "materials"]
            missing += [(message, "materials") for _kind, message in stale]
        if not missing and changes.unchanged(application):
            missing.append(("您还没有修改任何内容：请修改要变更的部分，或撤回本次变更",
                            changes.parts_of(application)[0]))
    return missing


def submit(application: Application, ip: str) -> bool:
    """Move to 审核中. True if this call submitted; False if it was already submitted (a double
    tap or a replayed POST), which is not an error. The conditional UPDATE makes it atomic."""
    if missing_parts(application):
        raise ValueError("application is not complete")
    result = db.session.execute(
        sa.update(Application)
        .where(Application.id == application.id, Application.status.in_(SUBMITTABLE))
        .values(status=ApplicationStatus.PENDING, submitted_at=utcnow(), decided_at=None))
    if result.rowcount != 1:
        db.session.rollback()
        return False
    audit.record("change.submit" if application.is_change else "application.submit",
                 actor=application.account, ip=ip, subject=mask(application.account.id_number),
                 details={"application": application.id})
    prechecks.queue_missing(application)
    db.session.commit()
    db.session.refresh(application)
    return True
