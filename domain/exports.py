"""The reviewer's Excel export. Short lists are built at once; longer ones by a job into a stored
file that only the reviewer who asked may download, until it expires. ID numbers and phones are
masked unless the reviewer ticks the box and gives a reason; every export is audit-logged with
its row count (and the reason, for a full one)."""
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

import jobs
from domain import audit, review_queue
from domain.review_workbook import workbook_bytes
from extensions import db
from models import Account, StoredFile, utcnow

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILENAME = "会计人员信息审核列表.xlsx"


def filter_payload(list_filter: review_queue.ListFilter) -> dict:
    return {"status": list_filter.status, "county": list_filter.county, "query":
            list_filter.query, "date_from": list_filter.date_from.isoformat()
            if list_filter.date_from else None, "date_to": list_filter.date_to.isoformat()
            if list_filter.date_to else None, "doubt": list_filter.doubt,
            "kind": list_filter.kind}


def filter_from_payload(payload: dict) -> review_queue.ListFilter:
    from datetime import date
    return review_queue.ListFilter(
        status=payload["status"], county=payload["county"], query=payload["query"],
        date_from=date.fromisoformat(payload["date_from"]) if payload["date_from"] else None,
        date_to=date.fromisoformat(payload["date_to"]) if payload["date_to"] else None,
        doubt=bool(payload.get("doubt")),     # absent from jobs queued before the filter
        kind=payload.get("kind") or "")


def too_long_to_stream(region, list_filter) -> bool:
    limit = current_app.config["EXPORT_SYNC_MAX_ROWS"]
    inner = review_queue.base_query(region, list_filter).with_only_columns(
        sa.literal(1)).limit(limit + 1)
    return db.session.scalar(sa.select(sa.func.count()).select_from(inner.subquery())) > limit


def audit_export(reviewer: Account, list_filter, rows: int, full: bool, reason: str,
                 ip: str) -> None:
    """Every export is logged with its filter and size; a full one with its reason."""
    details = {"status": list_filter.status, "county": list_filter.county,
               "query": bool(list_filter.query), "rows": rows, "full": full}
    if list_filter.doubt:
        details["doubt"] = True
    if list_filter.kind:
        details["kind"] = list_filter.kind
    if full:
        details["reason"] = reason
    audit.record("review.export", actor=reviewer, ip=ip, details=details)


def export_now(reviewer: Account, list_filter, full: bool, reason: str, ip: str) -> bytes:
    """A short list's workbook, built in the request and logged with its row count."""
    content, rows = workbook_bytes(review_queue.all_rows(reviewer.region, list_filter), full)
    audit_export(reviewer, list_filter, rows, full, reason, ip)
    db.session.commit()
    return content


def queue_export(reviewer: Account, list_filter, full: bool = False, reason: str = "",
                 ip: str = "") -> "jobs.Job":
    return jobs.enqueue("review.export", created_by=reviewer, max_attempts=2,
                        reviewer_id=reviewer.id, filter=filter_payload(list_filter),
                        full=full, reason=reason, ip=ip)


def build_review_export(job) -> dict:
    reviewer = db.session.get(Account, job.payload["reviewer_id"])
    list_filter = filter_from_payload(job.payload["filter"])
    full = job.payload.get("full", False)
    content, rows = workbook_bytes(review_queue.all_rows(reviewer.region, list_filter), full)
    reviewer = db.session.get(Account, job.payload["reviewer_id"])  # the rows were let go
    audit_export(reviewer, list_filter, rows, full, job.payload.get("reason", ""),
                 job.payload.get("ip", ""))
    stored = StoredFile(owner_id=reviewer.id, purpose="export", filename=FILENAME,
                        content_type=XLSX, content=content, size_bytes=len(content),
                        row_count=rows, expires_at=utcnow() + timedelta(
                            hours=current_app.config["EXPORT_KEEP_HOURS"]))
    db.session.add(stored)
    db.session.commit()
    return {"file_id": stored.id, "rows": rows}


def export_file(file_id: int, owner: Account) -> StoredFile | None:
    """The stored export, only for the reviewer who asked for it and only until it expires."""
    stored = db.session.get(StoredFile, file_id)
    if stored is None or stored.owner_id != owner.id or stored.purpose != "export" \
            or stored.expires_at < utcnow():
        return None
    return stored
