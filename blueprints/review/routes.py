"""The reviewer's work: the list, the detail page with photos, decisions, export, progress.
Every route is for reviewers only, and only inside their jurisdiction; anything else is 404."""
from flask import Response, abort, flash, request, url_for
from flask_login import current_user

from blueprints.forms_util import add_error
from blueprints.review import bp
from blueprints.review.export import download_headers
from blueprints.review.forms import DecisionForm, ExportForm, ListFilterForm
from blueprints.roles import role_required
from blueprints.web import client_ip, is_htmx, redirect_to, redirect_url, render_page
from domain import audit, changes, exports, prechecks, review, review_queue
from domain.access import can_view
from domain.clock import usable_date
from domain.id_numbers import mask
from domain.regions import counties_within
from domain.summary import summarise
from extensions import db
from models import Application, ApplicationStatus, Job, Role
from models.application import KIND_LABELS


def _filter_from_request() -> tuple[ListFilterForm, review_queue.ListFilter]:
    form = ListFilterForm(formdata=request.args)
    counties = counties_within(current_user.region)
    form.county.choices = [("", "全部")] + [(c.code, c.name) for c in counties]
    allowed = {c.code for c in counties}
    status = form.status.data if form.status.data in review_queue.TAB_KEYS \
        else ApplicationStatus.PENDING
    form.validate()  # only to parse dates; an unparsable date is simply not applied
    return form, review_queue.ListFilter(
        status=status, county=form.county.data if form.county.data in allowed else "",
        date_from=usable_date(form.date_from.data, form.date_from.errors),
        date_to=usable_date(form.date_to.data, form.date_to.errors),
        query=(form.q.data or "")[:40], doubt=bool(form.doubt.data),
        kind=form.kind.data if form.kind.data in KIND_LABELS else "")


@bp.route("")
@role_required(Role.REVIEWER)
def list_applications():
    form, list_filter = _filter_from_request()
    result = review_queue.page(current_user.region, list_filter,
                               after=request.args.get("after"), before=request.args.get("before"))
    return render_page("review/list.html", block="results", form=form, result=result,
                       list_filter=list_filter, tabs=review_queue.TABS)


def _application_in_scope(application_id: int) -> Application:
    application = db.session.get(Application, application_id)
    if application is None or application.status == ApplicationStatus.DRAFT \
            or not can_view(current_user, application):
        abort(404)
    return application


def _list_args() -> dict[str, str]:
    """The list the detail page was opened from (its filters ride on the detail's links)."""
    return _filter_from_request()[1].query_args()


def _detail(application, form=None, status=200, revealed=False, conflict=False):
    summaries = summarise(application)
    kept = [material for s in summaries for _spec, material in s.materials if material]
    change = {}
    if application.is_change:   # 信息变更: the diff, and only the pictures uploaded for it
        change = dict(base=changes.base_of(application), diff=changes.diff(application),
                      fresh={m.id for m in changes.fresh_materials(application)})
    return render_page("review/detail.html", block="decision", status=status,
                       application=application, summaries=summaries,
                       flags=prechecks.flags_for(application, kept),
                       form=form or DecisionForm(), decisions=review.decisions_of(application),
                       revealed=revealed, conflict=conflict, list_args=_list_args(),
                       versions=changes.versions(application.account), **change)


@bp.route("/<int:application_id>")
@role_required(Role.REVIEWER)
def show_application(application_id):
    return _detail(_application_in_scope(application_id))


@bp.route("/<int:application_id>/reveal", methods=["POST"])
@role_required(Role.REVIEWER)
def reveal_id_number(application_id):
    application = _application_in_scope(application_id)
    audit.record("id.reveal", actor=current_user, ip=client_ip(),
                 subject=mask(application.account.id_number),
                 details={"application": application.id})
    db.session.commit()
    if not is_htmx():  # without JavaScript: the whole application again, with the number shown
        return _detail(application, revealed=True)
    return render_page("review/detail.html", block="identity", application=application,
                       revealed=True, summaries=[], flags={}, form=DecisionForm(), decisions=[],
                       list_args=_list_args())


@bp.route("/<int:application_id>/decide", methods=["POST"])
@role_required(Role.REVIEWER)
def decide(application_id):
    application = _application_in_scope(application_id)
    form = DecisionForm()
    if form.decision.data not in ("approve", "reject"):
        add_error(form.decision, "请选择通过或不通过")
        return _detail(application, form, 422)
    decision = review.Decision(approved=form.decision.data == "approve",
                               reasons=form.reasons.data or [],
                               note=(form.note.data or "").strip(), reopen=form.reopen.data or [])
    problems = decision.problems()
    if problems:
        for name, message in problems.items():
            add_error(form[name], message)
        return _detail(application, form, 422)
    try:
        review.decide(application, current_user, decision, client_ip())
    except review.AlreadyDecided:
        db.session.refresh(application)
        return _detail(application, form, 409, conflict=True)
    return _to_the_next(application, "已通过" if decision.approved else "已退回")


def _to_the_next(decided: Application, done: str):
    """审核下一份: straight on to the next pending application of the same list."""
    _form, list_filter = _filter_from_request()
    args = list_filter.query_args()
    following = review_queue.next_pending(current_user.region, list_filter, decided)
    if following is None:
        flash(f"{done}：{decided.account.name}。本列表的待审核申报已全部处理完。", "success")
        return redirect_to("review.list_applications", **args)
    flash(f"{done}：{decided.account.name}。下面是下一份待审核的申报。", "success")
    return redirect_to("review.show_application", application_id=following.id, **args)


@bp.route("/export.xlsx", methods=["GET", "POST"])
@role_required(Role.REVIEWER)
def export():
    """GET (a plain link) exports masked numbers; the form (POST) may ask for them in full,
    with a reason."""
    _form, list_filter = _filter_from_request()
    export_form = ExportForm(meta={"csrf": False})  # CSRFProtect checks every POST already
    if request.method == "POST" and not export_form.validate():
        for message in export_form.reason.errors or ["请刷新页面后重新导出"]:
            flash(message, "error")
        return redirect_url(url_for("review.list_applications", **request.args))
    full = request.method == "POST" and export_form.wants_full()
    reason = (export_form.reason.data or "").strip()[:200] if full else ""
    if not exports.too_long_to_stream(current_user.region, list_filter):
        content = exports.export_now(current_user, list_filter, full, reason, client_ip())
        return Response(content, mimetype=exports.XLSX, headers=download_headers())
    job = exports.queue_export(current_user, list_filter, full, reason, client_ip())
    db.session.commit()
    return redirect_to("review.export_status", job_id=job.id)


def _own_export_job(job_id):
    job = db.session.get(Job, job_id)
    if job is None or job.kind != "review.export" or job.created_by != current_user.id:
        abort(404)
    return job


@bp.route("/exports/<int:job_id>")
@role_required(Role.REVIEWER)
def export_status(job_id):
    return render_page("review/export_status.html", block="status",
                       job=_own_export_job(job_id))


@bp.route("/exports/<int:job_id>/file")
@role_required(Role.REVIEWER)
def export_file(job_id):
    job = _own_export_job(job_id)
    stored = exports.export_file((job.result or {}).get("file_id"), current_user)
    if stored is None:
        abort(404)
    return Response(stored.content, mimetype=stored.content_type, headers=download_headers())


@bp.route("/progress")
@role_required(Role.REVIEWER)
def progress():
    rows = review_queue.progress(current_user.region)
    return render_page("review/progress.html", rows=rows,
                       chart=_chart(rows), statuses=review_queue.TABS)


def _chart(rows):
    """Bars per region, stacked by status, drawn as SVG on the server (no JS library)."""
    widest = max((sum(r[s] for s, _ in review_queue.TABS) for r in rows), default=0) or 1
    bars = []
    for index, row in enumerate(rows):
        x = 0.0
        segments = []
        for status, _label in review_queue.TABS:
            width = 560 * row[status] / widest
            segments.append({"status": status, "x": x, "width": width, "count": row[status]})
            x += width
        bars.append({"name": row["region"].name, "y": index * 26, "segments": segments})
    return {"bars": bars, "height": len(rows) * 26 + 10}
