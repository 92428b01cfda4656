"""The archive as administrators upload it (管理 → 档案导入): the file is checked at once, stored,
and imported by a job that writes its progress into job.result after every batch; the rows it
refuses come back as a file to fix and upload again. Any administrator may follow any import
(the province's archive is shared work); the files expire after ARCHIVE_KEEP_DAYS."""
import io
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePath

import sqlalchemy as sa
from flask import current_app

import jobs
from domain import audit
from domain.archive_files import RejectedRows, UnreadableFile, open_archive
from domain.archive_import import ImportReport, audit_run, import_archive
from extensions import db
from models import Account, AuditEntry, Job, StoredFile, utcnow

KIND = "archive.import"
REJECTS = "archive_rejects"
CSV_TYPE = "text/csv; charset=utf-8"


def check_upload(filename: str, content: bytes) -> None:
    """Refuse at once (UnreadableFile) a file that cannot be read or lacks a column."""
    if not content:
        raise UnreadableFile("文件是空的，请选择导出的档案文件")
    with open_archive(io.BytesIO(content), filename) as archive:
        archive.require_columns()


def queue_upload(admin: Account, filename: str, content: bytes, ip: str) -> Job:
    """Store the uploaded file and queue its import; the caller commits."""
    filename = PurePath((filename or "").replace("\\", "/")).name[-200:] or "archive.csv"
    stored = StoredFile(owner_id=admin.id, purpose="archive", filename=filename,
                        content_type="application/octet-stream", content=content,
                        size_bytes=len(content), expires_at=_expiry())
    db.session.add(stored)
    db.session.flush()
    job = jobs.enqueue(KIND, created_by=admin, max_attempts=2, file_id=stored.id,
                       filename=filename)
    audit.record("archive.upload", actor=admin, subject=filename[:120], ip=ip,
                 details={"bytes": len(content), "file": stored.id, "job": job.id})
    return job


def _expiry() -> datetime:
    return utcnow() + timedelta(days=current_app.config["ARCHIVE_KEEP_DAYS"])


def run_import_job(job) -> dict:
    """The job: import the stored file, its progress in job.result after every batch."""
    job_id, payload, created_by = job.id, dict(job.payload), job.created_by
    stored = db.session.get(StoredFile, payload["file_id"])
    if stored is None:
        return {"file": payload.get("filename", ""), "error": "上传的文件已过期删除，请重新上传"}
    filename, content = stored.filename, stored.content
    admin = db.session.get(Account, created_by) if created_by else None
    db.session.commit()  # nothing held open while the rows go in

    def record_progress(report: ImportReport) -> None:
        db.session.execute(sa.update(Job).where(Job.id == job_id)
                           .values(result={**report.progress(), "file": filename}))

    try:
        with open_archive(io.BytesIO(content), filename) as archive:
            archive.require_columns()
            record_progress(ImportReport(total=archive.total))
            db.session.commit()
            rejected_file = RejectedRows(archive.header)
            report = import_archive(archive, rejected_file=rejected_file,
                                    on_batch=record_progress)
    except UnreadableFile as problem:
        return {"file": filename, "error": str(problem)}
    result = {**report.as_result(), "file": filename, "rejected_file_id": None}
    if report.rejected_count:
        result["rejected_file_id"] = _store_rejects(rejected_file, filename, created_by)
    rejected_file.close()
    audit_run(report, source="upload", filename=filename, actor=admin, job_id=job_id)
    db.session.commit()
    return result


def _store_rejects(rejected_file: RejectedRows, filename: str, owner_id) -> int:
    content = rejected_file.content()
    stored = StoredFile(owner_id=owner_id, purpose=REJECTS, content_type=CSV_TYPE,
                        filename=f"{PurePath(filename).stem[:150]}-拒绝的行.csv",
                        content=content, size_bytes=len(content),
                        row_count=rejected_file.count, expires_at=_expiry())
    db.session.add(stored)
    db.session.flush()
    return stored.id


# --- what the pages show ----------------------------------------------------------------------

def import_job(job_id: int) -> Job | None:
    job = db.session.get(Job, job_id)
    return job if job is not None and job.kind == KIND else None


def rejected_rows_file(job: Job) -> StoredFile | None:
    """The job's rejected rows, until they expire."""
    file_id = (job.result or {}).get("rejected_file_id")
    stored = db.session.get(StoredFile, file_id) if file_id else None
    if stored is None or stored.purpose != REJECTS or stored.expires_at < utcnow():
        return None
    return stored


@dataclass
class Run:
    """One import, uploaded (with its job) or run on the server with the CLI."""
    at: datetime
    filename: str
    job: Job | None = None
    counts: dict | None = None   # accepted / unchanged / rejected, once known


def recent_runs(limit: int = 50) -> list[Run]:
    uploads = [Run(job.created_at, (job.payload or {}).get("filename", ""), job=job,
                   counts=job.result if job.status == "done" else None)
               for job in db.session.scalars(sa.select(Job).where(Job.kind == KIND)
                                             .order_by(Job.id.desc()).limit(limit))]
    server = []
    for entry in db.session.scalars(sa.select(AuditEntry)
                                    .where(AuditEntry.action == "archive.import")
                                    .order_by(AuditEntry.id.desc()).limit(limit)):
        details = json.loads(entry.details or "{}")
        if "job" not in details:
            server.append(Run(entry.at, entry.subject, counts=details))
    return sorted(uploads + server, key=lambda run: run.at, reverse=True)[:limit]
