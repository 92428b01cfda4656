"""个人信息副本 (个人信息保护法 Art. 45): a person's copy of everything the system holds about
them, built by a background job as one ZIP — `index.html` to read, `data.json` for a machine,
and their own photos under `images/`.

What it holds: the account, every section's saved answers and unsaved drafts, every photo,
the review decisions with their reasons, who among the staff saw the full ID number or a photo
and when (by role and bureau, never by name: the person's right is to know that their data was
seen and by which office, not to learn the staff's identities), their deletion and correction
requests, the archive's record of them, and their login history. Passwords and SMS codes are
held only as one-way hashes and are not part of it.

The ZIP is a stored file (purpose "copy") of its owner only, kept COPY_KEEP_DAYS; a new copy
replaces the previous one. Asking, building and every download are audit-logged."""
import io
import json
import zipfile
from datetime import datetime, timedelta
from urllib.parse import quote

import sqlalchemy as sa
from flask import current_app

import jobs
from domain import audit, labels, materials
from domain.clock import LOCAL_TIME, UTC, local_time
from domain.id_numbers import mask
from domain.review import REOPENABLE
from domain.sections import TITLES
from domain.summary import summarise
from extensions import db
from models import (
    Account,
    Appeal,
    Application,
    ArchiveRecord,
    AuditEntry,
    Job,
    LoginSession,
    Material,
    ReviewDecision,
    RightsRequest,
    StoredFile,
    utcnow,
)
from models.account import ROLE_LABELS, Role

KIND = "rights.copy"
PURPOSE = "copy"
ZIP = "application/zip"
FILENAME = "个人信息副本.zip"
MAX_PER_DAY = 5
LOGINS_SHOWN = 100
# The audit actions that record a member of staff seeing what is masked everywhere else.
VIEWS = {"id.reveal": "查看了完整证件号码和手机号码", "image.view": "查看了证明材料图片",
         "appeal.reveal": "处理账号申诉时查看了完整证件号码和手机号码",
         "appeal.image": "处理账号申诉时查看了账号的证件照片"}
VARIANTS = {"full": "原图", "thumb": "缩略图"}
NOT_INCLUDED = ["登录密码：只保存不可逆的摘要，任何人（包括工作人员）都无法还原，因此不在副本中",
                "短信验证码：只保存不可逆的摘要，1天后删除"]
MATERIAL_TITLES = {
    "id_photo": "1寸白底证件照", "id_front": "证件正面（个人资料页）", "id_back": "证件反面",
    "work_proof": "工作证明", "residence_proof": "居住证明（居住证、户口簿或学生证）",
    "education_full_time": "全日制最高学历（学位）证书",
    "education_part_time": "非全日制最高学历（学位）证书",
} | {f"qualification_{kind}": f"会计专业技术资格证书（{level}）"
     for level, kind in materials.LEVEL_KINDS.items()}


class TooManyCopies(Exception):
    def __init__(self):
        super().__init__(f"每天最多生成{MAX_PER_DAY}次个人信息副本，请明天再试；已生成的副本在有效期内仍可下载")
        self.message = str(self)


# -- asking for a copy, and the file ------------------------------------------------------------

def latest_job(account: Account) -> Job | None:
    return db.session.scalar(sa.select(Job).where(Job.kind == KIND, Job.created_by == account.id)
                             .order_by(Job.id.desc()).limit(1))


def request_copy(account: Account, ip: str) -> Job:
    """Queue the copy (the caller commits). A copy already being built is the answer to a
    second press; more than MAX_PER_DAY a day raises TooManyCopies."""
    latest = latest_job(account)
    if latest is not None and not latest.finished:
        return latest
    asked_today = db.session.scalar(sa.select(sa.func.count()).select_from(Job).where(
        Job.kind == KIND, Job.created_by == account.id,
        Job.created_at >= utcnow() - timedelta(days=1)))
    if asked_today >= MAX_PER_DAY:
        raise TooManyCopies()
    job = jobs.enqueue(KIND, created_by=account, max_attempts=3, account_id=account.id)
    audit.record("copy.request", actor=account, subject=mask(account.id_number), ip=ip,
                 details={"job": job.id})
    return job


def build_copy_job(job) -> dict:
    account = db.session.get(Account, job.payload["account_id"])
    if account is None:  # the account was closed meanwhile: nothing to copy, nobody to give it
        return {"outcome": "gone"}
    content = zip_bytes(account)
    db.session.execute(sa.delete(StoredFile).where(StoredFile.owner_id == account.id,
                                                   StoredFile.purpose == PURPOSE))
    stored = StoredFile(owner_id=account.id, purpose=PURPOSE, filename=FILENAME,
                        content_type=ZIP, content=content, size_bytes=len(content),
                        expires_at=utcnow() + timedelta(
                            days=current_app.config["COPY_KEEP_DAYS"]))
    db.session.add(stored)
    db.session.flush()
    audit.record("copy.build", actor=account, subject=mask(account.id_number),
                 details={"job": job.id, "file": stored.id, "bytes": len(content)})
    db.session.commit()
    return {"file_id": stored.id, "bytes": len(content)}


def copy_file(file_id, account: Account) -> StoredFile | None:
    """The stored copy, for its owner only and only until it expires."""
    if not isinstance(file_id, int):
        return None
    stored = db.session.get(StoredFile, file_id)
    if stored is None or stored.owner_id != account.id or stored.purpose != PURPOSE \
            or stored.expires_at < utcnow():
        return None
    return stored


def current_file(job: Job | None, account: Account) -> StoredFile | None:
    if job is None or not job.finished:
        return None
    return copy_file((job.result or {}).get("file_id"), account)


def record_download(stored: StoredFile, account: Account, ip: str) -> None:
    audit.record("copy.download", actor=account, subject=mask(account.id_number), ip=ip,
                 details={"file": stored.id, "bytes": stored.size_bytes})
    db.session.commit()


def download_headers() -> dict:
    return {"Content-Disposition": "attachment; filename=personal-data-copy.zip; "
                                   f"filename*=UTF-8''{quote(FILENAME)}",
            "Cache-Control": "private, no-store"}


# -- what is in it ------------------------------------------------------------------------------

def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC).astimezone(LOCAL_TIME).isoformat(timespec="seconds")


def _row(key: str, label: str, value) -> dict:
    return {"key": key, "label": label, "value": "" if value is None else str(value)}


def _staff(account: Account | None) -> dict:
    """Who acted, as the person is told: the role and the bureau, never the name."""
    if account is None:
        return {"role": "工作人员", "bureau": ""}
    return {"role": ROLE_LABELS.get(Role(account.role), "工作人员"),
            "bureau": account.region.bureau_name if account.region else ""}


def _account(account: Account) -> list[dict]:
    rows = [_row("name", "姓名", account.name), _row("id_type", "证件类型", account.id_type),
            _row("id_number", "证件号码", account.id_number),
            _row("phone", "手机号码", account.phone or "")]
    if account.birth_date:
        rows += [_row("gender", "性别", account.gender),
                 _row("birth_date", "出生日期", account.birth_date.isoformat())]
    return rows + [
        _row("source", "账号来源", "原有会计人员档案导入" if account.imported else "本人注册"),
        _row("created_at", "账号建立时间", local_time(account.created_at)),
        _row("last_login_at", "最近登录时间", local_time(account.last_login_at)),
        _row("password_changed_at", "最近修改密码时间", local_time(account.password_changed_at))]


def _application(application: Application | None) -> dict | None:
    if application is None:
        return None
    return {"status": application.status, "status_label": application.status_label,
            "bureau": application.jurisdiction.bureau_name if application.jurisdiction else "",
            "created_at": _iso(application.created_at),
            "submitted_at": _iso(application.submitted_at),
            "decided_at": _iso(application.decided_at)}


def _sections(application: Application | None) -> list[dict]:
    if application is None:
        return []
    return [{"key": s.key, "title": s.title, "status": s.status,
             "rows": [{"key": r.key, "label": r.label, "value": r.value, "group": r.group}
                      for r in s.rows]}
            for s in summarise(application)]


def _draft_label(section: str, name: str) -> str:
    if name in labels.SECTION_ANSWERS:
        return labels.SECTION_ANSWERS[name]
    block, _, rest = name.partition("-")
    if block in labels.EDUCATION_BLOCKS and rest in labels.EDUCATION:
        return f"{labels.EDUCATION_BLOCKS[block]}·{labels.EDUCATION[rest]}"
    if block == "records" and rest.count("-") == 1:
        index, _, field = rest.partition("-")
        if index.isdigit() and field in labels.QUALIFICATION:
            return f"{labels.QUALIFICATION['records']} {int(index) + 1}·{labels.QUALIFICATION[field]}"
    if section == "qualification" and name in labels.QUALIFICATION:
        return labels.QUALIFICATION[name]
    return name


def _drafts(application: Application | None) -> list[dict]:
    """What was typed on a section and not saved (kept so nothing typed is lost)."""
    if application is None:
        return []
    return [{"section": section.key, "title": TITLES.get(section.key, section.key),
             "fields": [{"name": name, "label": _draft_label(section.key, name),
                         "values": list(values)} for name, values in section.draft.items()]}
            for section in application.sections if section.draft]


def _materials(application: Application | None, folder: str = "images"
               ) -> tuple[list[dict], list[tuple[str, bytes]]]:
    if application is None:
        return [], []
    titles = MATERIAL_TITLES | {spec.kind: spec.title
                                for spec in materials.required_materials(application)}
    listed, files = [], []
    rows = db.session.scalars(sa.select(Material).where(Material.application_id == application.id)
                              .order_by(Material.id))
    for material in rows:
        path = f"{folder}/{material.kind}{'-pending' if material.pending else ''}.jpg"
        listed.append({"kind": material.kind, "title": titles.get(material.kind, material.kind),
                       "file": path, "pending": material.pending,
                       "uploaded_at": _iso(material.uploaded_at), "width": material.width,
                       "height": material.height, "bytes": material.size_bytes,
                       "notes": material.notes})
        files.append((path, material.content))
    return listed, files


def _decisions(application: Application | None) -> list[dict]:
    if application is None:
        return []
    reopenable = dict(REOPENABLE)
    rows = db.session.scalars(sa.select(ReviewDecision).where(
        ReviewDecision.application_id == application.id).order_by(ReviewDecision.id))
    return [{"decided_at": _iso(d.decided_at), "outcome": "通过" if d.approved else "不通过",
             "reasons": list(d.reasons or []), "note": d.note,
             "reopened": [reopenable.get(key, key) for key in d.reopened or []],
             "by": _staff(d.reviewer)} for d in rows]


def views_of(account: Account, application: Application | None) -> list[dict]:
    """Every time a member of staff saw this application's full ID number and phone or one of
    its photos, in review or while deciding an appeal about the account. The audit rows carry
    only the masked number, which other people may share, so a row counts only if it also
    names this application, or an appeal about this account (and then, of the photos, only
    the account's own: the appellant's are the appellant's)."""
    appeal_ids = set(db.session.scalars(sa.select(Appeal.id).where(
        Appeal.account_id == account.id)))
    if application is None and not appeal_ids:
        return []
    rows = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.subject == mask(account.id_number), AuditEntry.action.in_(tuple(VIEWS)))
        .order_by(AuditEntry.id))
    staff = {}
    titles = MATERIAL_TITLES | ({spec.kind: spec.title
                                 for spec in materials.required_materials(application)}
                                if application is not None else {})
    found = []
    for row in rows:
        try:
            details = json.loads(row.details or "{}")
        except ValueError:
            continue
        if not _names_this_person(row.action, details, application, appeal_ids):
            continue
        if row.actor_id not in staff:
            staff[row.actor_id] = _staff(db.session.get(Account, row.actor_id)
                                         if row.actor_id else None)
        entry = {"at": _iso(row.at), "what": VIEWS[row.action], "by": staff[row.actor_id]}
        if row.action == "image.view":
            kind = details.get("material", "")
            entry["material"] = titles.get(kind, kind)
            entry["variant"] = VARIANTS.get(details.get("variant"), "")
        elif row.action == "appeal.image":   # "account-<kind>-<variant>"
            _, kind, variant = details["photo"].split("-")
            entry["material"] = titles.get(kind, kind)
            entry["variant"] = VARIANTS.get(variant, "")
        found.append(entry)
    return found


def _names_this_person(action: str, details: dict, application: Application | None,
                       appeal_ids: set[int]) -> bool:
    if action == "appeal.reveal":
        return details.get("appeal") in appeal_ids
    if action == "appeal.image":
        return details.get("appeal") in appeal_ids \
            and str(details.get("photo", "")).startswith("account-")
    return application is not None and details.get("application") == application.id


def _requests(account: Account) -> list[dict]:
    rows = db.session.scalars(sa.select(RightsRequest).where(
        RightsRequest.account_id == account.id).order_by(RightsRequest.id))
    return [{"created_at": _iso(r.created_at), "kind": r.kind_label, "details": r.details,
             "bureau": r.jurisdiction.bureau_name if r.jurisdiction else "",
             "status": r.status_label, "answer": r.answer,
             "answered_at": _iso(r.answered_at)} for r in rows]


def _archive(account: Account) -> list[dict]:
    rows = db.session.scalars(sa.select(ArchiveRecord).where(
        ArchiveRecord.id_number == account.id_number).order_by(ArchiveRecord.id))
    return [{"level": r.level, "certificate_number": r.certificate_number,
             "obtained_on": r.obtained_on.isoformat() if r.obtained_on else None,
             "imported_at": _iso(r.imported_at)} for r in rows]


def _logins(account: Account) -> list[dict]:
    rows = db.session.scalars(sa.select(LoginSession).where(
        LoginSession.account_id == account.id).order_by(LoginSession.id.desc())
        .limit(LOGINS_SHOWN))
    return [{"started_at": _iso(s.created_at), "last_seen_at": _iso(s.last_seen_at),
             "ended_at": _iso(s.ended_at), "ip": s.ip or ""} for s in rows]


def collect(account: Account) -> tuple[dict, list[tuple[str, bytes]]]:
    """Everything held about the account as one JSON-ready dict, and the photos' files."""
    from domain.applications import current_of
    application = current_of(account)
    listed, files = _materials(application)
    versions = []
    for other in db.session.scalars(sa.select(Application).where(
            Application.account_id == account.id).order_by(Application.id)):
        if application is not None and other.id == application.id:
            continue
        other_listed, other_files = _materials(other, f"versions/{other.id}/images")
        files += other_files
        versions.append({"kind": other.kind_label, "application": _application(other),
                         "sections": _sections(other), "materials": other_listed,
                         "decisions": _decisions(other)})
    data = {
        "title": "个人信息副本",
        "legal_basis": "《中华人民共和国个人信息保护法》第四十五条",
        "generated_at": _iso(utcnow()),
        "holder": "云南省财政厅及各州（市）、县（市、区）财政部门",
        "account": _account(account),
        "application": _application(application),
        "sections": _sections(application),
        "drafts": _drafts(application),
        "materials": listed,
        "decisions": _decisions(application),
        "versions": versions,   # earlier versions of the record and changes (信息变更)
        "views": views_of(account, application),
        "requests": _requests(account),
        "archive": _archive(account),
        "logins": _logins(account),
        "not_included": NOT_INCLUDED,
    }
    return data, files


def zip_bytes(account: Account) -> bytes:
    data, files = collect(account)
    html = current_app.jinja_env.get_template("rights/copy_document.html").render(
        data=data)
    stamp = datetime.now(LOCAL_TIME).timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        def add(name, content, compress):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = compress
            archive.writestr(info, content)
        add("index.html", html.encode("utf-8"), zipfile.ZIP_DEFLATED)
        add("data.json", json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"),
            zipfile.ZIP_DEFLATED)
        for path, content in files:  # JPEGs: already compressed
            add(path, content, zipfile.ZIP_STORED)
    return buffer.getvalue()
