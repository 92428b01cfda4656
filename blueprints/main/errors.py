"""Error pages, HTMX-aware: an HTMX request gets a short message swapped into the page's message
area (or, for an expired session, a full redirect to the login page) instead of a whole page
inside a fragment."""
import logging
from pathlib import Path

from flask import current_app, flash, make_response, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError

from blueprints.web import is_htmx, to_messages
from domain.rate_limits import LimitsUnavailable
from extensions import db

log = logging.getLogger("app.errors")
RETRY_AFTER_SECONDS = "10"

MESSAGES = {
    400: ("请求无效", "页面可能已过期，请刷新页面后重新提交。"),
    401: ("请先登录", "登录已过期或尚未登录，请重新登录。"),
    403: ("没有权限", "您没有权限访问此页面。"),
    404: ("页面不存在", "您访问的页面不存在，或您无权查看。请返回首页。"),
    405: ("请求方式不正确", "请通过页面上的按钮操作。"),
    413: ("文件过大", "上传的内容超过了大小限制，请压缩后重新上传。"),
    429: ("操作过于频繁", "请稍后再试。"),
    500: ("系统繁忙", "服务器出现问题，请稍后重试。您填写的内容未丢失，可返回上一页。"),
    503: ("系统暂时无法访问", "系统正忙或正在维护，请稍等片刻再试。您填写的内容仍在页面上，可稍后重新提交。"),
}


# Forms that work without logging in: a CSRF failure there is an expired page, not a session.
PUBLIC_FORMS = {"accounts.submit_login", "accounts.register", "accounts.send_register_code",
                "accounts.forgot_password", "accounts.send_reset_code", "accounts.logout",
                "accounts.verify_login", "accounts.resend_login_code", "accounts.wechat_login",
                "appeals.new_appeal", "appeals.send_appeal_code"}


def error_response(status: int, detail: str | None = None):
    title, message = MESSAGES.get(status, MESSAGES[500])
    message = detail or message
    if is_htmx():
        return to_messages(make_response(
            render_template("main/_message.html", category="error", message=f"{title}：{message}"),
            status))
    return make_response(
        render_template("main/error.html", title=title, message=message, status=status), status)


def _render_bare(template: str, **context) -> str:
    """Render without Flask's context processors: Flask-Login's would load the user, and the
    database that lookup needs is what is away."""
    return current_app.jinja_env.get_template(template).render(**context)


def _unavailable_page() -> bytes:
    """The same page nginx shows while the app itself is away (static/errors/), so there is one
    text to keep right; plain HTML, nothing that needs the database."""
    page = current_app.extensions.get("unavailable_page")
    if page is None:
        path = Path(current_app.root_path) / "static" / "errors" / "unavailable.html"
        page = current_app.extensions["unavailable_page"] = path.read_bytes()
    return page


def unavailable_response():
    """The database or Redis is away. Said plainly, without touching either again."""
    if is_htmx():
        title, message = MESSAGES[503]
        response = to_messages(make_response(_render_bare(
            "main/_message.html", category="error", message=f"{title}：{message}"), 503))
    else:
        response = make_response(_unavailable_page(), 503)
    response.headers["Retry-After"] = RETRY_AFTER_SECONDS
    response.headers["Cache-Control"] = "no-store"
    return response


def register(app):
    for status in MESSAGES:
        if status in (401, 503):
            continue
        app.register_error_handler(status, lambda e, s=status: error_response(s))
    app.register_error_handler(503, lambda e: unavailable_response())

    @app.errorhandler(DBAPIError)
    def database_unavailable(error):
        # Only a lost or refused connection is an outage; any other database error is a bug.
        if not is_outage(error):
            raise error
        log.warning("database unavailable: %s", str(error.orig)[:200])
        try:
            db.session.rollback()
        except DBAPIError:
            db.session.remove()
        return unavailable_response()

    @app.teardown_appcontext
    def end_session_without_the_database(_error):
        """The database went away after the answer was made: the ROLLBACK that ends the
        request's session cannot reach it. Drop the connection instead of turning a finished
        answer into a 500 (Flask-SQLAlchemy's own teardown runs after this one, and finds
        nothing left to close)."""
        try:
            db.session.remove()
        except DBAPIError as error:
            if not is_outage(error):
                raise
            log.warning("database lost while ending a request: %s", str(error.orig)[:200])
            try:
                db.session().invalidate()
            except DBAPIError:
                pass
            db.session.registry.clear()

    @app.errorhandler(LimitsUnavailable)
    def limits_unavailable(error):
        log.warning("rate-limit storage unavailable: %s", error)
        return unavailable_response()

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        if not current_user.is_authenticated and request.endpoint not in PUBLIC_FORMS:
            # The session (and its CSRF token) is gone: the answer is to log in again.
            return unauthorized(error)
        return error_response(400, "页面已过期或来源不正确（CSRF校验失败），请刷新页面后重新提交。"
                                   "您填写的内容需重新输入。")

    @app.errorhandler(401)
    def unauthorized(error):
        flash("登录已过期或尚未登录，请登录后继续。", "info")
        login_url = url_for("accounts.login", next=request.full_path.rstrip("?")
                            if request.method == "GET" else None)
        if is_htmx():
            response = make_response("", 401)
            response.headers["HX-Redirect"] = login_url
            return response
        response = make_response("", 303)
        response.headers["Location"] = login_url
        return response


OUTAGE_SQLSTATES = ("08", "53", "57P")  # connection lost, out of resources, shut down
SQLITE_OUTAGES = {"SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN", "SQLITE_IOERR"}


def is_outage(error: DBAPIError) -> bool:
    """A database that cannot be reached or is going down (try again soon), as opposed to a
    statement that is wrong (a bug: 500, logged)."""
    from sqlalchemy.exc import InterfaceError, OperationalError
    if error.connection_invalidated or isinstance(error, InterfaceError):
        return True
    if not isinstance(error, OperationalError):
        return False
    sqlite_name = getattr(error.orig, "sqlite_errorname", None)
    if sqlite_name is not None:
        return sqlite_name in SQLITE_OUTAGES
    sqlstate = getattr(error.orig, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith(OUTAGE_SQLSTATES)
