"""The appellant's pages (账号申诉), reached without an account: from the register page's
"证件号码已注册" notice (taken_id) and from 忘记密码 (lost_phone). The filing's answer is the
same page whether or not the ID number has an account."""
from flask import abort, current_app, render_template, request

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
RECHOOSE = "已选择的照片没有保存，改正后请重新选择全部照片再提交"


def _kind(slug: str) -> AppealKind:
    if slug not in KINDS:
        abort(404)
    return KINDS[slug]


def _page(form, slug, status=200, sms=None, photo_problems=None, problem=None):
    return render_page(NEW, block="form", status=status, form=form, sms=sms, slug=slug,
                       kind=KINDS[slug], photo_kinds=appeals.PHOTO_KINDS,
                       photo_problems=photo_problems or {}, problem=problem)


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
    uploads = _uploads()
    photos, photo_problems = appeals.process_photos(
        uploads, ImageRules.from_config(current_app.config))
    chosen = any(uploads.values())
    if not fields_ok or photo_problems:
        return _page(form, slug, 422, photo_problems=photo_problems,
                     problem=RECHOOSE if chosen else None)
    try:
        appeals.file(appeals.Filing(
            kind=kind, id_type=form.id_type.data, id_number=form.id_number.data,
            name=form.name.data, phone=form.phone.data, sms_code=form.sms_code.data,
            statement=form.statement.data, photos=photos), client_ip())
    except appeals.AppealLimited as limited:
        return _page(form, slug, 429, problem=limited.message + "。" + RECHOOSE)
    except LimitsUnavailable:
        return _page(form, slug, 503, problem="系统繁忙，暂时无法提交申诉，请稍后再试。" + RECHOOSE)
    except (appeals.AppealProblem, CodeProblem) as problem:
        add_error(form[getattr(problem, "field", "sms_code")], str(problem))
        return _page(form, slug, 422, problem=RECHOOSE)
    return redirect_to("appeals.appeal_filed")


@bp.post("/appeal/<slug>/send-code")
@limit_posts_per_address("APPEAL_POST_IP_LIMIT")
def send_appeal_code(slug):
    _kind(slug)
    form = AppealForm()
    result = send(form, Purpose.APPEAL)
    return _page(form, slug, result.status, sms=result)


@bp.get("/appeal/filed")
def appeal_filed():
    return render_template("appeals/filed.html")
