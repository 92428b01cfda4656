"""信息变更 for the person: choosing what changed, withdrawing a change, and the record's past
versions (domain/changes.py has the rules). Editing, uploading and submitting a change use the
collection's own pages: a change is the version the person works on (applications.current_of)."""
from flask import abort, flash
from flask_login import current_user

from blueprints.collection import bp
from blueprints.collection.forms import ChangeForm
from blueprints.forms_util import add_error
from blueprints.web import client_ip, invalid, redirect_to, render_page
from domain import applications, changes
from domain.summary import summarise

CHOOSE = "collection/change.html"


@bp.route("/change", methods=["GET", "POST"])
def start_change():
    if changes.open_change(current_user) is not None:
        return redirect_to("collection.index")   # one open change at a time: this one
    record = changes.record_of(current_user)
    if record is None:
        flash("信息审核通过后才能申请信息变更。", "error")
        return redirect_to("collection.index")
    form = ChangeForm()
    if not form.validate_on_submit():
        if form.is_submitted():
            return invalid(CHOOSE, block="form", form=form, record=record, application=record)
        return render_page(CHOOSE, block="form", form=form, record=record, application=record)
    try:
        changes.start(record, form.parts.data, client_ip())
    except changes.ChangeRefused as refused:
        add_error(form.parts, refused.message)
        return invalid(CHOOSE, block="form", form=form, record=record, application=record)
    flash("已开始信息变更：请修改所选内容并上传相应材料，然后提交审核。审核通过前，原信息继续有效。",
          "success")
    return redirect_to("collection.index")


@bp.route("/change/withdraw", methods=["POST"])
def withdraw_change():
    application = applications.application_for(current_user)
    if not application.is_open_change:
        return redirect_to("collection.summary")
    try:
        changes.withdraw(application, client_ip())
    except changes.ChangeRefused as refused:
        flash(refused.message, "error")
        return redirect_to("collection.summary")
    flash("已撤回信息变更，原信息保持不变。", "success")
    return redirect_to("collection.summary")


@bp.route("/versions/<int:application_id>")
def version(application_id):
    """A past (or the current) approved version of the record, read-only."""
    found = changes.version_of(current_user, application_id)
    if found is None:
        abort(404)
    return render_page("collection/version.html", application=found,
                       summaries=summarise(found))
