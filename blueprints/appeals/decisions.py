"""The staff's side of account appeals (domain/appeals.py): the list, one appeal beside the
account it is about, revealing the full numbers, the photos, the decision. Reviewers see the
appeals of their jurisdiction, administrators every one; anything else is 404."""
import sqlalchemy as sa
from flask import abort, flash, make_response, request
from flask_login import current_user

from blueprints.appeals import bp
from blueprints.appeals.forms import AppealDecisionForm
from blueprints.forms_util import add_error
from blueprints.roles import role_required
from blueprints.web import client_ip, redirect_to, render_page
from domain import appeal_decisions, appeals, audit
from domain.id_numbers import mask
from extensions import db
from models import Appeal, AppealPhoto, AppealStatus, Material, Role

TABS = [("open", "待处理"), ("decided", "已处理")]
DECIDERS = (Role.REVIEWER, Role.ADMIN)
DETAIL = "appeals/detail.html"


@bp.route("/appeals")
@role_required(*DECIDERS)
def list_appeals():
    tab = "decided" if request.args.get("status") == "decided" else "open"
    return render_page("appeals/list.html", rows=appeals.appeals_for(current_user, tab),
                       tab=tab, tabs=TABS, open_count=appeals.open_count(current_user))


def _appeal_in_scope(appeal_id: int) -> Appeal:
    found = db.session.get(Appeal, appeal_id)
    if found is None or not appeals.can_decide(current_user, found):
        abort(404)
    return found


def _detail(appeal, form=None, status=200, revealed=False, conflict=False):
    return render_page(DETAIL, block="decision", status=status, appeal=appeal,
                       account=appeal.account, account_photos=appeals.account_photos(appeal),
                       photo_kinds=appeals.PHOTO_KINDS, form=form or AppealDecisionForm(),
                       revealed=revealed, conflict=conflict,
                       no_account_reason=appeal_decisions.NO_ACCOUNT_REASON)


@bp.route("/appeals/<int:appeal_id>")
@role_required(*DECIDERS)
def show_appeal(appeal_id):
    return _detail(_appeal_in_scope(appeal_id))


@bp.post("/appeals/<int:appeal_id>/reveal")
@role_required(*DECIDERS)
def reveal_appeal(appeal_id):
    appeal = _appeal_in_scope(appeal_id)
    audit.record("appeal.reveal", actor=current_user, ip=client_ip(),
                 subject=mask(appeal.id_number), details={"appeal": appeal.id})
    db.session.commit()
    return render_page(DETAIL, block="identity", appeal=appeal, account=appeal.account,
                       account_photos=appeals.account_photos(appeal),
                       photo_kinds=appeals.PHOTO_KINDS, form=AppealDecisionForm(),
                       revealed=True, conflict=False, no_account_reason=appeal_decisions.NO_ACCOUNT_REASON)


@bp.post("/appeals/<int:appeal_id>/decide")
@role_required(*DECIDERS)
def decide_appeal(appeal_id):
    appeal = _appeal_in_scope(appeal_id)
    form = AppealDecisionForm()
    decision = appeal_decisions.Decision(outcome=form.outcome.data or "",
                                reason=(form.reason.data or "").strip())
    problems = decision.problems(appeal)
    if problems:
        for name, message in problems.items():
            add_error(form[name], message)
        return _detail(appeal, form, 422)
    try:
        appeal_decisions.decide(appeal, current_user, decision, client_ip())
    except appeal_decisions.AlreadyDecided:
        db.session.refresh(appeal)
        return _detail(appeal, form, 409, conflict=True)
    except appeals.AppealProblem as problem:
        add_error(form[problem.field], problem.message)
        return _detail(db.session.get(Appeal, appeal_id), form, 409)
    words = "已通过" if decision.outcome == AppealStatus.APPROVED else "未通过"
    flash(f"{appeal.name}的账号申诉（编号{appeal.id}）{words}，已短信通知申诉人。", "success")
    return redirect_to("appeals.list_appeals")


def _jpeg(body: bytes, name: str):
    response = make_response(body)
    response.headers["Content-Type"] = "image/jpeg"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Disposition"] = f'inline; filename="{name}.jpg"'
    return response


def _logged_view(appeal: Appeal, photo: str) -> None:
    audit.record("appeal.image", actor=current_user, ip=client_ip(),
                 subject=mask(appeal.id_number), details={"appeal": appeal.id, "photo": photo})
    db.session.commit()


@bp.get("/appeals/<int:appeal_id>/photos/<kind>-<variant>.jpg")
@role_required(*DECIDERS)
def appeal_photo(appeal_id, kind, variant):
    appeal = _appeal_in_scope(appeal_id)
    photo = db.session.scalar(sa.select(AppealPhoto).where(
        AppealPhoto.appeal_id == appeal.id, AppealPhoto.kind == kind))
    if photo is None or variant not in ("full", "thumb"):
        abort(404)
    _logged_view(appeal, f"{kind}-{variant}")
    return _jpeg(photo.thumbnail if variant == "thumb" else photo.content,
                 f"appeal-{appeal.id}-{kind}-{variant}")


@bp.get("/appeals/<int:appeal_id>/account-photos/<int:material_id>-<variant>.jpg")
@role_required(*DECIDERS)
def account_photo(appeal_id, material_id, variant):
    """The account's own ID photos, for this appeal only (an administrator sees no record)."""
    appeal = _appeal_in_scope(appeal_id)
    material = db.session.get(Material, material_id)
    if material is None or material not in appeals.account_photos(appeal) \
            or variant not in ("full", "thumb"):
        abort(404)
    _logged_view(appeal, f"account-{material.kind}-{variant}")
    return _jpeg(material.thumbnail if variant == "thumb" else material.content,
                 f"appeal-{appeal.id}-account-{material.kind}-{variant}")
