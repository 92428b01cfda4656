from flask import redirect, render_template, url_for
from flask_login import current_user, login_required

from blueprints.main import bp
from domain.id_numbers import mask as mask_id
from domain.phones import mask as mask_phone
from models import Role


@bp.route("/home")
@login_required
def home():
    if not current_user.is_staff:
        return redirect(url_for("collection.index"))
    if current_user.role == Role.REVIEWER:
        return redirect(url_for("review.list_applications"))
    if current_user.role == Role.ADMIN:
        return redirect(url_for("admin.list_staff"))
    if current_user.role == Role.AUDITOR:
        return redirect(url_for("audit_log.list_entries"))
    return render_template("main/home.html", masked_id=mask_id(current_user.id_number),
                           masked_phone=mask_phone(current_user.phone))


@bp.route("/privacy")
def privacy():
    return render_template("main/privacy.html")


@bp.route("/healthz")
def healthz():
    return {"status": "ok"}
