from flask import Blueprint

bp = Blueprint("rights", __name__, url_prefix="/account")

from blueprints.rights import routes  # noqa: E402,F401
