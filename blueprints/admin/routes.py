"""Administration: staff accounts and archive import results. Administrators do not review."""
import json

import sqlalchemy as sa
from flask import abort, flash, render_template
from flask_login import current_user

from blueprints.admin import bp
from blueprints.admin.forms import RegionForm, StaffForm
from blueprints.forms_util import add_error
from blueprints.roles import role_required
from blueprints.web import client_ip, redirect_to, render_page
from domain import job_admin, staff
from domain.accounts import AccountProblem
from domain.id_numbers import InvalidIdNumber
from domain.person_names import InvalidName
from domain.phones import InvalidPhone
from extensions import db
from models import AuditEntry, Role


def _staff_or_404(account_id):
    account = staff.get_staff(account_id)
    if account is None:
        abort(404)
    return account


@bp.route("/staff")
@role_required(Role.ADMIN)
def list_staff():
    return render_template("admin/staff.html", accounts=staff.staff_accounts())


@bp.route("/staff/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def create_staff():
    form = StaffForm()
    if not form.validate_on_submit():
        return render_page("admin/staff_form.html", form=form)
    try:
        account, password = staff.create_staff(form.role.data, form.region.data,
                                               form.id_number.data or "", form.name.data or "",
                                               form.phone.data or "", created_by=current_user,
                                               ip=client_ip())
    except AccountProblem as problem:
        add_error(form[problem.field] if problem.field in form else form.id_number,
                  problem.message)
        return render_page("admin/staff_form.html", form=form, status=422)
    except (InvalidIdNumber, InvalidName, InvalidPhone) as problem:
        field = {InvalidIdNumber: "id_number", InvalidName: "name", InvalidPhone: "phone"}
        add_error(form[field[type(problem)]], str(problem))
        return render_page("admin/staff_form.html", form=form, status=422)
    # Shown once, in this response only: never put into the (signed, readable) session cookie.
    return render_template("admin/one_time_password.html", account=account, password=password)


@bp.route("/staff/<int:account_id>/enable", methods=["POST"])
@role_required(Role.ADMIN)
def toggle_staff(account_id):
    account = _staff_or_404(account_id)
    try:
        staff.set_enabled(account, not account.is_enabled, current_user, client_ip())
    except AccountProblem as problem:
        flash(problem.message, "error")
    return redirect_to("admin.list_staff")


@bp.route("/staff/<int:account_id>/region", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def set_region(account_id):
    account = _staff_or_404(account_id)
    form = RegionForm(region=account.region_code)
    if form.validate_on_submit():
        try:
            staff.set_region(account, form.region.data, current_user, client_ip())
        except AccountProblem as problem:
            add_error(form.region, problem.message)
        else:
            flash(f"已将{account.name}的管辖地区改为{account.region.name}。", "success")
            return redirect_to("admin.list_staff")
    status = 422 if form.is_submitted() else 200
    return render_page("admin/region_form.html", form=form, account=account, status=status)


@bp.route("/staff/<int:account_id>/reset-password", methods=["POST"])
@role_required(Role.ADMIN)
def reset_password(account_id):
    account = _staff_or_404(account_id)
    password = staff.reset_staff_password(account, current_user, client_ip())
    return render_template("admin/one_time_password.html", account=account, password=password)


@bp.route("/imports")
@role_required(Role.ADMIN)
def imports():
    rows = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "archive.import")
                              .order_by(AuditEntry.id.desc()).limit(100))
    runs = [(row, json.loads(row.details or "{}")) for row in rows]
    return render_template("admin/imports.html", runs=runs)


@bp.route("/jobs")
@role_required(Role.ADMIN)
def list_jobs():
    return render_template("admin/jobs.html", failed=job_admin.failed_jobs(),
                           counts=job_admin.counts(), labels=job_admin.KIND_LABELS)


@bp.route("/jobs/<int:job_id>/retry", methods=["POST"])
@role_required(Role.ADMIN)
def retry_job(job_id):
    if job_admin.retry(job_id, current_user, client_ip()):
        flash(f"任务 {job_id} 已重新排队执行。", "success")
    else:
        flash(f"任务 {job_id} 不是失败的任务，无需重试。", "error")
    return redirect_to("admin.list_jobs")
