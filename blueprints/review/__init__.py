from flask import Blueprint

bp = Blueprint("review", __name__, url_prefix="/review")

from blueprints.review import rights_requests, routes  # noqa: E402,F401
