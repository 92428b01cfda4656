"""Flask-Login wiring: the cookie holds a login-session token, looked up on the server."""
from flask import abort, current_app

from domain import login_sessions


def configure_login_manager(login_manager):
    login_manager.session_protection = None  # the server-side session is the protection

    @login_manager.user_loader
    def load_account(token):
        return login_sessions.load(token, current_app.config["SESSION_IDLE_MINUTES"])

    @login_manager.unauthorized_handler
    def unauthorized():
        abort(401)
