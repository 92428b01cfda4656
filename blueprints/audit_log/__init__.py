from flask import Blueprint

bp = Blueprint("audit_log", __name__, url_prefix="/audit")

from blueprints.audit_log import routes  # noqa: E402,F401
