"""The appellant's pages (账号申诉), reached without an account: from the register page's
"证件号码已注册" notice (taken_id) and from 忘记密码 (lost_phone). The filing's answer is the
same page whether or not the ID number has an account."""
from flask import abort, current_app, make_response, render_template, request, session

from blueprints.accounts.sms_step import send
from blueprints.appeals import bp
from blueprints.appeals.forms import AppealForm
from blueprints.forms_util import add_error
from blueprints.web import client_ip, limit_posts_per_address, redirect_to, render_page
from domain import appeals
from domain.images import ImageRules
from domain.rate_limits import LimitsUnavailable
from models import AppealKind
from sms import CodeProblem, Purpose

KINDS = {"taken-id": AppealKind.TAKEN_ID, "lost-phone": AppealKind.LOST_PHONE}
NEW = "appeals/new.html"
DRAFTS = "appeal_photos"  # {kind: stored file id} of this browser's kept photos


def _kind(slug: str) -> AppealKind:
    if slug not in KINDS:
        abort(404)
    return KINDS[slug]


def _kept() -> dict[str, int]:
    kept = session.get(DRAFTS)
    if not isinstance(kept, dict):
        return {}
    return {kind: file_id for kind, file_id in kept.items() if appeals.draft(file_id)}


def _page(form, slug, status=200, sms=None, photo_problems=None, problem=None):
    return render_page(NEW, block="form", status=status, form=form, sms=sms, slug=slug,
                       kind=KINDS[slug], photo_kinds=appeals.PHOTO_KINDS, kept=_kept(),
                       photo_problems=photo_problems or {}, problem=problem)


def _refused(form, slug, status, fresh, photo_problems=None, problem=None):
    """The form again, the photos that went through kept for the next try."""
    if fresh:
        session[DRAFTS] = appeals.keep_drafts(fresh, _kept())
    return _page(form, slug, status, photo_problems=photo_problems, problem=problem)


def _uploads() -> dict[str, bytes]:
    return {kind: upload.read() for kind in appeals.PHOTO_KINDS
            if (upload := request.files.get(kind)) is not None}


@bp.route("/appeal/<slug>", methods=["GET", "POST"])
@limit_posts_per_address("APPEAL_POST_IP_LIMIT")
def new_appeal(slug):
    kind = _kind(slug)
    form = AppealForm()
    if not form.is_submitted():
        return _page(form, slug)
    fields_ok = form.validate()
    rules, kept = ImageRules.from_config(current_app.config), _kept()
    fresh, photo_problems = appeals.process_photos(_uploads(), rules, kept)
    if not fields_ok or photo_problems:
        return _refused(form, slug, 422, fresh, photo_problems=photo_problems)
    photos = appeals.drafts({k: v for k, v in kept.items() if k not in fresh}, rules) | fresh
    try:
        appeals.file(appeals.Filing(
            kind=kind, id_type=form.id_type.data, id_number=form.id_number.data,
            name=form.name.data, phone=form.phone.data, sms_code=form.sms_code.data,
            statement=form.statement.data, photos=photos, drafts=kept), client_ip())
    except appeals.AppealLimited as limited:
        return _refused(form, slug, 429, fresh, problem=limited.message)
    except LimitsUnavailable:
        return _refused(form, slug, 503, fresh, problem="系统繁忙，暂时无法提交申诉，请稍后再试")
    except (appeals.AppealProblem, CodeProblem) as problem:
        add_error(form[getattr(problem, "field", "sms_code")], str(problem))
        return _refused(form, slug, 422, fresh)
    session.pop(DRAFTS, None)
    return redirect_to("appeals.appeal_filed")


@bp.post("/appeal/<slug>/send-code")
@limit_posts_per_address("APPEAL_POST_IP_LIMIT")
def send_appeal_code(slug):
    _kind(slug)
    form = AppealForm()
    result = send(form, Purpose.APPEAL)
    return _page(form, slug, result.status, sms=result)


@bp.get("/appeal/photos/<kind>.jpg")
def kept_photo(kind):
    """A photo this browser chose for a filing that was refused, shown back to it alone."""
    stored = appeals.draft(_kept().get(kind))
    if stored is None:
        abort(404)
    response = make_response(stored.content)
    response.headers["Content-Type"] = "image/jpeg"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/appeal/filed")
def appeal_filed():
    return render_template("appeals/filed.html")
