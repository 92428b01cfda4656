"""个人信息汇总 and 提交审核."""
from flask import flash
from flask_login import current_user

from blueprints.collection import bp
from blueprints.web import client_ip, redirect_to, render_page
from domain import applications, changes, submission
from domain.sections import TITLES
from domain.summary import summarise


@bp.route("/summary")
def summary():
    application = applications.application_for(current_user)
    is_change = application.is_open_change
    return render_page("collection/summary.html", application=application,
                       summaries=summarise(application),
                       missing=submission.missing_parts(application),
                       decision=applications.latest_decision(application),
                       editable_parts=applications.editable_parts(application),
                       can_submit=application.status in submission.SUBMITTABLE,
                       changed_values=changes.changed_values(application) if is_change else {},
                       change_titles=[TITLES[k] for k in changes.parts_of(application)],
                       versions=changes.versions(current_user))


@bp.route("/submit", methods=["POST"])
def submit():
    application = applications.application_for(current_user)
    if application.status not in submission.SUBMITTABLE:
        # A double tap or a replayed POST: the first one already submitted.
        return redirect_to("collection.summary")
    if submission.missing_parts(application):
        flash("还有未完成的部分，请完成后再提交。", "error")
        return redirect_to("collection.summary")
    if submission.submit(application, client_ip()):
        flash("已提交审核。审核期间信息不能修改，审核结果将以短信通知您。", "success")
    return redirect_to("collection.summary")


