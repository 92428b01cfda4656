"""The audit log, read-only, for auditors only: Chinese event names, filters by event, person
and date (domain.audit_search), 100 entries a page."""
from flask import render_template, request

from blueprints.audit_log import bp
from blueprints.audit_log.forms import AuditFilterForm
from blueprints.roles import role_required
from blueprints.web import ID_MAX
from domain import audit_search
from domain.clock import usable_date
from models import Role


@bp.route("")
@role_required(Role.AUDITOR)
def list_entries():
    form = AuditFilterForm(formdata=request.args)
    form.validate()   # only to parse dates; an unparsable date is simply not applied
    audit_filter = audit_search.AuditFilter(
        action=(form.action.data or "").strip()[:40],
        person=(form.person.data or "").strip()[:40],
        date_from=usable_date(form.date_from.data, form.date_from.errors),
        date_to=usable_date(form.date_to.data, form.date_to.errors))
    before = request.args.get("before", type=int)
    entries, next_before = audit_search.page(
        audit_filter, before if before and 0 < before <= ID_MAX else None)
    return render_template("audit_log/list.html", form=form, entries=entries,
                           audit_filter=audit_filter, next_before=next_before)
