from flask import abort, request
from flask_login import current_user, login_required

from blueprints.collection import bp
from blueprints.collection.sources import (
    build_form,
    draft_of,
    keep_hidden_answers,
    with_records_changed,
)
from blueprints.web import invalid, redirect_to, render_page
from domain import applications, materials
from domain.sections import DATA_SECTIONS, SECTION_KEYS, TITLES, status_of
from models import ApplicationStatus

# Actions that re-render the form with what was typed, without validating or saving it.
_REFRESH = ("refresh", "add_record")


@bp.before_request
@login_required
def applicants_only():
    if current_user.is_staff:
        abort(404)


def _application():
    return applications.application_for(current_user)


@bp.route("")
def index():
    application = _application()
    if application.status == ApplicationStatus.APPROVED:
        return redirect_to("collection.summary")
    rows = [(info, status_of(application.section(info.key))) for info in DATA_SECTIONS]
    from_archive = {s.key for s in application.sections if s.from_archive}
    decision = applications.latest_decision(application) \
        if application.status == ApplicationStatus.REJECTED else None
    return render_page("collection/index.html", application=application, rows=rows,
                       materials_status=materials.section_status(application),
                       decision=decision, from_archive=from_archive)


def _section_page(application, key, form, status=200, **context):
    section = application.section(key)
    context.update(application=application, key=key, title=TITLES[key], form=form,
                   locked=applications.lock_reason(application, key),
                   from_archive=section is not None and section.from_archive)
    if status == 422:
        return invalid(f"collection/{key}.html", block="form", **context)
    return render_page(f"collection/{key}.html", block="form", status=status, **context)


@bp.route("/<key>", methods=["GET", "POST"])
def section(key):
    if key not in SECTION_KEYS:
        abort(404)
    application = _application()
    if request.method == "GET":
        return _section_page(application, key, build_form(application, key))
    reason = applications.lock_reason(application, key)
    if reason:
        return _section_page(application, key, build_form(application, key), 409)
    action = request.form.get("action", "save")
    if action in _REFRESH or action.startswith("remove_record_"):
        formdata = keep_hidden_answers(application, key, request.form)
        if key == "qualification":
            formdata = with_records_changed(formdata, action)
        applications.save_draft(application, key, draft_of(application, key, formdata))
        return _section_page(application, key, build_form(application, key, formdata))
    form = build_form(application, key, request.form)
    if not form.validate():
        typed = keep_hidden_answers(application, key, request.form)
        applications.save_draft(application, key, draft_of(application, key, typed))
        return _section_page(application, key, form, 422)
    applications.save_section(application, key, form.to_answers())
    if request.form.get("return") == "summary":
        return redirect_to("collection.summary")
    if action == "save_next":  # the manual's order: the next section still to do, then 证明材料
        following = applications.next_unfinished(application, after=key)
        if following is None:
            return redirect_to("collection.materials_index")
        return redirect_to("collection.section", key=following)
    return redirect_to("collection.index")


@bp.route("/<key>/draft", methods=["POST"])
def save_draft(key):
    if key not in SECTION_KEYS:
        abort(404)
    application = _application()
    try:
        applications.save_draft(application, key, draft_of(application, key, request.form))
    except applications.SectionLocked as locked:
        return locked.message, 409
    return "", 204
