from flask import Blueprint

bp = Blueprint("collection", __name__, url_prefix="/collection")

from blueprints.collection import changes, materials, routes, submission  # noqa: E402,F401
