"""Application factory: `create_app(config_class)` built from small register_* steps."""
import logging
import os
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import CONFIGS, LOOPBACK, ProductionConfig, StagingConfig
from extensions import csrf, db, login_manager, migrate

BASE_DIR = Path(__file__).resolve().parent


def create_app(config_class=None):
    if config_class is None:
        config_class = CONFIGS[os.environ.get("APP_ENV", "development")]
    # No built-in static route: blueprints/assets.py serves static/ under hashed names.
    app = Flask(__name__, instance_path=str(BASE_DIR / "instance"), static_folder=None,
                static_url_path="/static")
    app.config.from_object(config_class)
    configure(app, config_class)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_hooks(app)
    register_commands(app)
    return app


def configure(app, config_class):
    if issubclass(config_class, ProductionConfig):
        config_class.check(app.config)  # staging's own check, for StagingConfig
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'app.db'}"
    if app.config["TRUST_PROXY"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUST_PROXY"],
                                x_proto=app.config["TRUST_PROXY"])
    if issubclass(config_class, StagingConfig):
        app.wsgi_app = loopback_only(app.wsgi_app)
    logging.basicConfig(level=logging.INFO)


def loopback_only(wsgi_app):
    """Staging carries test hooks: it answers only requests that reach it from this machine
    (nginx on 127.0.0.1, the test client), whatever a forwarded header claims."""
    def guarded(environ, start_response):
        if environ.get("REMOTE_ADDR") not in LOOPBACK:
            start_response("403 Forbidden", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"staging answers only 127.0.0.1"]
        return wsgi_app(environ, start_response)
    return guarded


def register_extensions(app):
    import db_connections  # noqa: F401 — its pool listener finds connections a restart closed
    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"))
    csrf.init_app(app)
    from domain.passwords import hasher_for
    app.extensions["password_hasher"] = hasher_for(app.config)
    from domain import rate_limits
    from sms import limits as sms_limits
    rate_limits.init_app(app)
    sms_limits.init_app(app, app.extensions[rate_limits.KEY])
    login_manager.init_app(app)
    from blueprints.accounts.session_loader import configure_login_manager
    configure_login_manager(login_manager)
    import jobs
    jobs.init_app(app)


def register_blueprints(app):
    from blueprints.web import BoundedInt
    # Every <int:…> in a URL is a row id: out of the database's range it is simply not found.
    app.url_map.converters["int"] = BoundedInt
    from blueprints import assets
    assets.init_app(app, BASE_DIR / "static")
    from blueprints.accounts import bp as accounts_bp
    from blueprints.admin import bp as admin_bp
    from blueprints.appeals import bp as appeals_bp
    from blueprints.audit_log import bp as audit_log_bp
    from blueprints.collection import bp as collection_bp
    from blueprints.main import bp as main_bp
    from blueprints.media import bp as media_bp
    from blueprints.review import bp as review_bp
    from blueprints.rights import bp as rights_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(collection_bp)
    app.register_blueprint(media_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(rights_bp)
    app.register_blueprint(appeals_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(audit_log_bp)


def register_errorhandlers(app):
    from blueprints.main.errors import register
    register(app)


def register_hooks(app):
    from blueprints.main.hooks import register
    from blueprints.main.template_filters import register as register_filters
    register(app)
    register_filters(app)
    # SQLite: enforce foreign keys like PostgreSQL does.
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        from sqlalchemy import event

        with app.app_context():
            @event.listens_for(db.engine, "connect")
            def _sqlite_pragmas(connection, _record):
                cursor = connection.cursor()
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.execute("PRAGMA busy_timeout=5000")
                cursor.close()


def register_commands(app):
    from commands import register
    register(app)

