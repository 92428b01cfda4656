from flask import Blueprint

bp = Blueprint("appeals", __name__)

from blueprints.appeals import decisions, routes  # noqa: E402,F401
