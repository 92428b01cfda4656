from flask import redirect, render_template, url_for
from flask_login import current_user, login_required

from blueprints.main import bp
from models import Role

# Where each role starts after logging in.
HOME_OF = {
    Role.APPLICANT: "collection.index",
    Role.REVIEWER: "review.list_applications",
    Role.ADMIN: "admin.list_staff",
    Role.AUDITOR: "audit_log.list_entries",
}


@bp.route("/home")
@login_required
def home():
    return redirect(url_for(HOME_OF[Role(current_user.role)]))


@bp.route("/privacy")
def privacy():
    return render_template("main/privacy.html")


@bp.route("/healthz")
def healthz():
    return {"status": "ok"}
