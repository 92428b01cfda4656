"""Machine pre-checks (机器核对) for reviewers: which picture is checked against which typed
values, when a check is asked for, what is kept, and the flag beside each photo on the
reviewer's page. The engines themselves are `precheck/`.

A check runs in the background after a picture is kept — uploaded, replaced, or (the 1-inch
photo) confirmed — and again when an answer it compares with changes. Its result is advice to
the reviewer: it never blocks the applicant, never changes a status, and the applicant never
sees it.

A result is never shown beside a picture or an answer it was not made from: replacing a picture
or changing the answer drops the old result in the same transaction, and the job keeps its
result only if, under a row lock, the picture (its SHA-256) and the typed values are still the
ones it read. `applications.precheck_doubt` (any mismatch among the results) follows every
change, for the reviewers' list filter 机器核对有疑点."""
import logging
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

import jobs
import precheck
from domain import answers
from domain.materials import ID_PHOTO, LEVEL_KINDS, materials_of
from extensions import db
from models import Application, Material, MaterialPrecheck, utcnow
from precheck import MATCH, MISMATCH, NOT_CHECKED, STATUS_LABELS, UNREADABLE, Result

log = logging.getLogger(__name__)

JOB_KIND = "precheck.material"
ID_CARD, CERTIFICATE, PORTRAIT = "id_card", "certificate", "portrait"
ID_FRONT = "id_front"
EDUCATION_KINDS = {f"education_{block}": block for block in answers.EDUCATION_BLOCKS}
QUALIFICATION_KINDS = {f"qualification_{suffix}": level for level, suffix in LEVEL_KINDS.items()}
CHECKED_KINDS = (ID_PHOTO, ID_FRONT, *EDUCATION_KINDS, *QUALIFICATION_KINDS)
# The sections whose answers a check compares with (the ID number and name are the account's).
ANSWER_SECTIONS = ("education", "qualification")


@dataclass(frozen=True)
class Subject:
    """What one picture is checked for: the check, and the typed values it compares with."""
    check: str
    values: tuple[str, ...] = ()

    def run(self, image: bytes) -> Result:
        """Never raises: an absent or failing engine is a `not_checked` result."""
        if self.check == ID_CARD:
            return precheck.check_id_card(image, *self.values)
        if self.check == CERTIFICATE:
            return precheck.check_certificate(image, *self.values)
        return precheck.check_portrait(image)


def subject_of(application: Application, kind: str,
               given: answers.Answers | None = None) -> Subject | None:
    """The check of a material of this kind against what the application holds now: the
    account's document type, ID number and name; the certificate number of the education block
    or of the qualification record of that level. None for a kind the machine does not read
    (the back of the card, the work certificate, the residence proof) or whose answer is gone."""
    account = application.account
    if kind == ID_PHOTO:
        return Subject(PORTRAIT)
    if kind == ID_FRONT:
        return Subject(ID_CARD, (account.id_type, account.id_number, account.name))
    given = answers.of(application) if given is None else given
    number = None
    if kind in EDUCATION_KINDS and given.education is not None:
        degree = getattr(given.education, EDUCATION_KINDS[kind])
        number = degree.certificate_number if degree is not None else None
    elif kind in QUALIFICATION_KINDS and given.qualification is not None:
        number = next((record.certificate_number for record in given.qualification.records
                       if record.level == QUALIFICATION_KINDS[kind]), None)
    return Subject(CERTIFICATE, (number, account.name)) if number is not None else None


def subjects(application: Application) -> dict[str, Subject | None]:
    given = answers.of(application)
    return {kind: subject_of(application, kind, given) for kind in CHECKED_KINDS}


def enabled() -> bool:
    return bool(current_app.config["PRECHECK_ENABLED"])


# Asking for checks (in the caller's transaction) ----------------------------------------------

def queue_check(material: Material, replaced: bool = False) -> None:
    """The material's picture was kept, or the answer it is compared with changed: drop its old
    result and, with pre-checks on, ask for a new one (it runs after the caller commits).
    `replaced`: the material it replaces was deleted, its result with it (ON DELETE CASCADE)."""
    if material.id is None:
        db.session.flush()
    if not drop_results(material.application_id, [material.id]) and replaced:
        _update_doubt(material.application_id)
    if enabled() and subject_of(material.application, material.kind) is not None:
        jobs.enqueue(JOB_KIND, created_by=material.owner_id, material_id=material.id,
                     sha256=material.sha256)


def answers_changed(application: Application, before: dict[str, Subject | None]) -> None:
    """After a section was saved: check again the pictures whose typed values changed."""
    after = subjects(application)
    changed = {kind for kind in CHECKED_KINDS if before.get(kind) != after.get(kind)}
    if changed:
        for kind, material in materials_of(application).items():
            if kind in changed:
                queue_check(material)


def queue_missing(application: Application) -> int:
    """At submission: ask for the checks of pictures that have no result (kept while the checks
    were off, or before they existed). A check already queued is not run twice: the job skips a
    picture that has its result."""
    if not enabled():
        return 0
    checked = set(db.session.scalars(sa.select(MaterialPrecheck.material_id).where(
        MaterialPrecheck.application_id == application.id)))
    given = answers.of(application)
    queued = 0
    for kind, material in materials_of(application).items():
        if material.id not in checked and subject_of(application, kind, given) is not None:
            jobs.enqueue(JOB_KIND, created_by=application.account_id, material_id=material.id,
                         sha256=material.sha256)
            queued += 1
    return queued


def drop_results(application_id: int, material_ids: list[int]) -> bool:
    """Remove these materials' results (their pictures or answers changed); True if any was."""
    removed = db.session.execute(sa.delete(MaterialPrecheck).where(
        MaterialPrecheck.material_id.in_(material_ids)))
    if removed.rowcount:
        _update_doubt(application_id)
    return bool(removed.rowcount)


def _lock_application(application_id: int) -> None:
    """Every writer of an application's results takes its row lock before reading them, so
    precheck_doubt is decided from what the others committed (PostgreSQL; SQLite has one
    writer at a time anyway)."""
    db.session.execute(sa.select(Application.id).where(Application.id == application_id)
                       .with_for_update())


def _update_doubt(application_id: int) -> None:
    _lock_application(application_id)
    doubt = bool(db.session.scalar(sa.select(sa.exists().where(
        MaterialPrecheck.application_id == application_id,
        MaterialPrecheck.status == MISMATCH))))
    # Not a change by the applicant: updated_at stays as it was.
    db.session.execute(
        sa.update(Application)
        .where(Application.id == application_id, Application.precheck_doubt != doubt)
        .values(precheck_doubt=doubt, updated_at=Application.updated_at)
        .execution_options(synchronize_session="fetch"))


# The job ---------------------------------------------------------------------------------------

def run_check_job(job) -> dict:
    """precheck.material: read one picture and keep the result, if the picture and the answers
    are still those it read. Loads the engines once per process (the worker keeps them)."""
    material_id, sha256 = job.payload["material_id"], job.payload["sha256"]
    material = db.session.get(Material, material_id)
    if material is None or material.pending or material.sha256 != sha256:
        return {"kept": False, "why": "replaced"}
    if db.session.scalar(sa.select(MaterialPrecheck.id).where(
            MaterialPrecheck.material_id == material_id, MaterialPrecheck.sha256 == sha256)):
        return {"kept": False, "why": "already checked"}
    application_id, kind = material.application_id, material.kind
    subject = subject_of(material.application, kind)
    if subject is None:
        return {"kept": False, "why": "not checked"}
    image = material.content
    db.session.rollback()             # no transaction held open while the engine reads
    result = subject.run(image)
    kept = _keep(material_id, application_id, kind, sha256, subject, result)
    return {"kept": kept, "status": result.status, "duration_ms": result.duration_ms}


def _keep(material_id: int, application_id: int, kind: str, sha256: str, subject: Subject,
          result: Result) -> bool:
    # Locks in the order a replacement takes them: the material, then the application.
    current = db.session.execute(
        sa.select(Material.sha256, Material.pending).where(Material.id == material_id)
        .with_for_update()).one_or_none()
    if current is None or current.pending or current.sha256 != sha256:
        db.session.rollback()
        return False
    _lock_application(application_id)
    application = db.session.get(Application, application_id)
    if subject_of(application, kind) != subject:
        db.session.rollback()
        return False
    row = db.session.scalar(sa.select(MaterialPrecheck).where(
        MaterialPrecheck.material_id == material_id))
    if row is None:
        row = MaterialPrecheck(material_id=material_id, application_id=application_id)
        db.session.add(row)
    row.sha256, row.kind, row.status, row.message = sha256, result.kind, result.status, \
        result.message
    row.result, row.confidence = result.to_dict(), result.confidence
    row.duration_ms, row.engine, row.checked_at = result.duration_ms, result.engine, utcnow()
    db.session.flush()
    _update_doubt(application_id)
    db.session.commit()
    return True


def load_engines() -> None:
    """At worker start-up, with the checks on: load the models once, before the first job."""
    if enabled() and precheck.available():
        precheck.load()
        log.info("pre-check engines loaded")


# What the reviewer sees -----------------------------------------------------------------------

ICONS = {MATCH: "✓", MISMATCH: "✗", UNREADABLE: "?", NOT_CHECKED: "–"}


@dataclass(frozen=True)
class Flag:
    """The pre-check beside one photo: a status (said in words, not by colour alone), what was
    found per field, and how sure and how quick the engine was."""
    status: str
    lines: tuple[str, ...]
    details: str = ""
    engine: str = ""

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def icon(self) -> str:
        return ICONS[self.status]


def flags_for(application: Application, kept: list[Material]) -> dict[int, Flag]:
    """A flag for each of these kept materials of the application, by material id."""
    rows = {row.material_id: row for row in db.session.scalars(sa.select(MaterialPrecheck)
            .where(MaterialPrecheck.application_id == application.id))}
    given = answers.of(application)
    flags = {}
    for material in kept:
        row = rows.get(material.id)
        if row is not None and row.sha256 == material.sha256:
            flags[material.id] = _flag(Result.from_dict(row.result))
        elif subject_of(application, material.kind, given) is None:
            flags[material.id] = Flag(NOT_CHECKED, ("此类材料不做机器核对",))
        else:
            flags[material.id] = Flag(NOT_CHECKED, ("尚无核对结果" if enabled()
                                                    else "机器核对未开启",))
    return flags


def _flag(result: Result) -> Flag:
    if result.status == NOT_CHECKED or not result.fields:
        return Flag(NOT_CHECKED, (result.message.removeprefix("未检查："),),
                    engine=result.engine)
    details = []
    if result.confidence is not None:
        details.append(f"置信度{round(result.confidence * 100)}%")
    took = result.duration_ms
    details.append(f"用时{took}毫秒" if took < 1000 else f"用时{took / 1000:.1f}秒")
    return Flag(result.status, tuple(f.message for f in result.fields.values()),
                "，".join(details), result.engine)
