from flask import Blueprint

bp = Blueprint("accounts", __name__)

from blueprints.accounts import routes, wechat_routes  # noqa: E402,F401
