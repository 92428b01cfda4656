"""Administration: staff accounts, the archive import, background jobs. Administrators do not
review."""
from urllib.parse import quote

from flask import Response, abort, current_app, flash, render_template, request
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from blueprints.admin import bp
from blueprints.admin.forms import ArchiveUploadForm, RegionForm, StaffForm
from blueprints.forms_util import add_error
from blueprints.roles import role_required
from blueprints.web import client_ip, redirect_to, render_page
from domain import archive_uploads, audit, job_admin, staff
from domain.accounts import AccountProblem
from domain.id_numbers import InvalidIdNumber
from domain.person_names import InvalidName
from domain.phones import InvalidPhone
from extensions import csrf, db
from models import Role


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


@bp.get("/imports")
@role_required(Role.ADMIN)
def imports():
    return _imports_page(ArchiveUploadForm())


def _imports_page(form, status=200):
    return render_page("admin/imports.html", block="form", form=form, status=status,
                       runs=archive_uploads.recent_runs(), max_size=_archive_max_size())


def _archive_max_size() -> str:
    limit = current_app.config["ARCHIVE_MAX_BYTES"]
    return f"{limit // 1048576}MB" if limit >= 1048576 else f"{limit // 1024}KB"


# Exempt from the global CSRF check only because that check reads the body before this view
# may raise the size limit; the form checks its CSRF token itself.
@bp.post("/imports")
@csrf.exempt
@role_required(Role.ADMIN)
def upload_archive():
    request.max_content_length = current_app.config["ARCHIVE_MAX_BYTES"]
    try:
        form = ArchiveUploadForm()
    except RequestEntityTooLarge:
        form = ArchiveUploadForm(formdata=None)
        add_error(form.archive, f"文件超过{_archive_max_size()}，请把档案拆成几个较小的文件分别上传")
        return _imports_page(form, 413)
    if not form.validate_on_submit():
        return _imports_page(form, 422)
    job = archive_uploads.queue_upload(current_user, form.archive.data.filename, form.content,
                                       client_ip())
    db.session.commit()
    return redirect_to("admin.import_status", job_id=job.id)


def _import_job_or_404(job_id):
    job = archive_uploads.import_job(job_id)
    if job is None:
        abort(404)
    return job


@bp.get("/imports/<int:job_id>")
@role_required(Role.ADMIN)
def import_status(job_id):
    return render_page("admin/import_status.html", block="status",
                       job=_import_job_or_404(job_id))


@bp.get("/imports/<int:job_id>/rejected.csv")
@role_required(Role.ADMIN)
def rejected_rows(job_id):
    stored = archive_uploads.rejected_rows_file(_import_job_or_404(job_id))
    if stored is None:
        abort(404)
    audit.record("archive.rejected_download", actor=current_user, subject=stored.filename[:120],
                 ip=client_ip(), details={"job": job_id, "rows": stored.row_count})
    db.session.commit()
    return Response(stored.content, mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=rejected-rows.csv; "
                               f"filename*=UTF-8''{quote(stored.filename)}",
        "Cache-Control": "private, no-store"})


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
