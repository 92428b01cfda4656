"""The reviewer's Excel export. Short lists stream at once; longer ones are built by a job into
a stored file that only the reviewer who asked may download, until it expires."""
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

import jobs
from domain import review_queue
from domain.review_workbook import workbook_bytes
from extensions import db
from models import Account, StoredFile, utcnow

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILENAME = "会计人员信息审核列表.xlsx"


def filter_payload(list_filter: review_queue.ListFilter) -> dict:
    return {"status": list_filter.status, "county": list_filter.county, "query":
            list_filter.query, "date_from": list_filter.date_from.isoformat()
            if list_filter.date_from else None, "date_to": list_filter.date_to.isoformat()
            if list_filter.date_to else None}


def filter_from_payload(payload: dict) -> review_queue.ListFilter:
    from datetime import date
    return review_queue.ListFilter(
        status=payload["status"], county=payload["county"], query=payload["query"],
        date_from=date.fromisoformat(payload["date_from"]) if payload["date_from"] else None,
        date_to=date.fromisoformat(payload["date_to"]) if payload["date_to"] else None)


def too_long_to_stream(region, list_filter) -> bool:
    limit = current_app.config["EXPORT_SYNC_MAX_ROWS"]
    inner = review_queue.base_query(region, list_filter).with_only_columns(
        sa.literal(1)).limit(limit + 1)
    return db.session.scalar(sa.select(sa.func.count()).select_from(inner.subquery())) > limit


def queue_export(reviewer: Account, list_filter) -> "jobs.Job":
    return jobs.enqueue("review.export", created_by=reviewer, max_attempts=2,
                        reviewer_id=reviewer.id, filter=filter_payload(list_filter))


def build_review_export(job) -> dict:
    reviewer = db.session.get(Account, job.payload["reviewer_id"])
    list_filter = filter_from_payload(job.payload["filter"])
    content, rows = workbook_bytes(review_queue.all_rows(reviewer.region, list_filter))
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
