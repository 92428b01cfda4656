"""A person's rights over their own data (个人信息保护法 Art. 44–47), reached from 账号设置: a copy
of everything held (个人信息副本), closing the account (注销账号 / 撤回同意) while nothing was
submitted, and once something was, a deletion or correction request to the finance bureau.
Applicants only: to staff these pages do not exist (a copy is its owner's alone)."""
from flask import Response, abort, flash, session
from flask_login import current_user, login_required, logout_user

from blueprints.accounts.sms_step import SendResult, remember_code_job, result_of
from blueprints.forms_util import add_error
from blueprints.rights import bp
from blueprints.rights.forms import CloseAccountForm, RightsRequestForm
from blueprints.web import client_ip, invalid, redirect_to, render_page
from domain import account_closing, personal_copy, rights_requests
from extensions import db
from models import Job
from sms import CodeProblem, LimitExceeded, LimitsUnavailable, Purpose


@bp.before_request
@login_required
def applicants_only():
    if current_user.is_staff:
        abort(404)


COPY = "rights/copy.html"


def _copy_page(status=200, refused=None):
    job = personal_copy.latest_job(current_user)
    return render_page(COPY, block="status", status=status, job=job, refused=refused,
                       stored=personal_copy.current_file(job, current_user))


@bp.get("/copy")
def copy():
    return _copy_page()


@bp.post("/copy")
def request_copy():
    try:
        personal_copy.request_copy(current_user, client_ip())
    except personal_copy.TooManyCopies as refused:
        return _copy_page(429, refused.message)
    db.session.commit()
    return redirect_to("rights.copy")


@bp.get("/copy/<int:file_id>.zip")
def download_copy(file_id):
    stored = personal_copy.copy_file(file_id, current_user)
    if stored is None:
        abort(404)
    personal_copy.record_download(stored, current_user, client_ip())
    return Response(stored.content, mimetype=stored.content_type,
                    headers=personal_copy.download_headers())


CLOSE = "rights/close.html"


def _code_status() -> SendResult | None:
    """The confirmation code this browser asked for on this page, if any."""
    job_id = session.get("sms_job")
    job = db.session.get(Job, job_id) if isinstance(job_id, int) else None
    if job is None or job.kind != "sms.code" or job.created_by != current_user.id \
            or job.payload.get("purpose") != Purpose.CLOSE_ACCOUNT:
        return None
    return result_of(job)


def _close_page(status=200, form=None, request_form=None, sms=None, block="form"):
    record = rights_requests.held_record(current_user)
    context = dict(
        record=record, form=form or CloseAccountForm(),
        request_form=request_form or RightsRequestForm(),
        requests=rights_requests.requests_of(current_user),
        sms=sms or _code_status(), in_archive=account_closing.in_archive(current_user))
    if status == 422:
        return invalid(CLOSE, block=block, **context)
    return render_page(CLOSE, block=block, status=status, **context)


@bp.route("/close", methods=["GET", "POST"])
def close_account():
    """Never submitted: close the account, confirmed by a code to the bound phone."""
    form = CloseAccountForm()
    if not account_closing.may_close(current_user):
        return _close_page(409 if form.is_submitted() else 200)
    if not form.validate_on_submit():
        return _close_page(422 if form.is_submitted() else 200, form=form)
    try:
        account_closing.close(current_user, form.sms_code.data, client_ip())
    except account_closing.RecordHeld:
        return _close_page(409)
    except CodeProblem as problem:
        add_error(form.sms_code, str(problem))
        return _close_page(422, form=form)
    logout_user()
    session.clear()
    flash("您的账号已注销，信息已全部删除。如需重新使用，可以用同一证件号码重新注册。", "success")
    response = redirect_to("accounts.login")
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.post("/close/send-code")
def send_close_code():
    form = CloseAccountForm()
    if not account_closing.may_close(current_user):
        return _close_page(409)
    try:
        job = account_closing.request_code(current_user, client_ip())
    except LimitExceeded as limit:
        status = 503 if isinstance(limit, LimitsUnavailable) else 429
        return _close_page(status, form=form, sms=SendResult(status, limit.message))
    db.session.commit()
    remember_code_job(job)
    return _close_page(form=form, sms=result_of(job))


@bp.post("/requests")
def send_request():
    """Submitted: a deletion or correction request to the bureau that holds the record."""
    request_form = RightsRequestForm()
    if not request_form.validate_on_submit():
        return _close_page(422, request_form=request_form, block="request_form")
    try:
        sent = rights_requests.send(current_user, request_form.kind.data,
                                    request_form.details.data, client_ip())
    except rights_requests.RequestProblem as problem:
        add_error(request_form[problem.field], problem.message)
        return _close_page(422, request_form=request_form, block="request_form")
    flash(f"请求已发送至{sent.jurisdiction.bureau_name}，答复后会短信通知您，并在本页显示。",
          "success")
    return redirect_to("rights.close_account")
