"""The audit log, read-only, for auditors only."""
import sqlalchemy as sa
from flask import render_template, request

from blueprints.audit_log import bp
from blueprints.roles import role_required
from blueprints.web import ID_MAX
from extensions import db
from models import AuditEntry, Role

PAGE_SIZE = 100


@bp.route("")
@role_required(Role.AUDITOR)
def list_entries():
    query = sa.select(AuditEntry).order_by(AuditEntry.id.desc())
    action = (request.args.get("action") or "").strip()[:40]
    if action:
        query = query.where(AuditEntry.action == action)
    before = request.args.get("before", type=int)
    if before and 0 < before <= ID_MAX:  # a page link's id; anything else is not applied
        query = query.where(AuditEntry.id < before)
    entries = list(db.session.scalars(query.limit(PAGE_SIZE + 1)))
    more = len(entries) > PAGE_SIZE
    entries = entries[:PAGE_SIZE]
    return render_template("audit_log/list.html", entries=entries, action=action,
                           next_before=entries[-1].id if more and entries else None)
