from flask import (
    current_app, flash, get_flashed_messages, make_response, render_template, request, session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from blueprints.accounts import bp
from blueprints.accounts.forms import (
    BindPhoneForm, ChangePasswordForm, ChangePhoneForm, ForgotPasswordForm, LoginForm,
    RegisterForm,
)
from blueprints.accounts import login_page
from blueprints.accounts.sms_step import captcha_solved, current_result, send
from blueprints.forms_util import add_error
from blueprints.web import (
    client_ip, is_htmx, limit_posts_per_address, redirect_to, redirect_url, render_page,
    safe_next,
)
from domain import accounts, captcha, login_sessions
from extensions import db
from sms import CodeProblem, Purpose


def _sending(form) -> bool:
    return request.method == "POST" and request.form.get("action") == "send_code"


def _form_page(template, form, status=200, sms=None, **context):
    return render_page(template, block="form", status=status, form=form, sms=sms, **context)


def _apply_problem(form, problem):
    """An AccountProblem names its field; a CodeProblem is about the SMS code."""
    name = getattr(problem, "field", "sms_code")
    add_error(form[name] if name in form else form.sms_code, str(problem))


@bp.get("/")
@bp.get("/login")
def login():
    if current_user.is_authenticated:
        return redirect_to("main.home")
    # Messages (flashed before a redirect here) are read once per request: the page renders
    # them with the same call.
    if request.args or is_htmx() or get_flashed_messages() or not login_page.cacheable():
        return _form_page("accounts/login.html", LoginForm(next=request.args.get("next")))
    return login_page.plain_response()


@bp.post("/")
@bp.post("/login")
@limit_posts_per_address("LOGIN_IP_LIMIT")
def submit_login():
    if current_user.is_authenticated:
        return redirect_to("main.home")
    form = LoginForm(next=request.args.get("next"))
    if not form.validate_on_submit():
        return _form_page("accounts/login.html", form, 422)
    if not captcha_solved(form.captcha.data):
        add_error(form.captcha, "图形验证码不正确，请看清新的图片后重新输入")
        form.captcha.data = ""
        return _form_page("accounts/login.html", form, 422)
    try:
        account = accounts.authenticate(form.id_number.data, form.password.data, client_ip())
    except accounts.LoginRefused as refused:
        form.captcha.data = ""
        return _form_page("accounts/login.html", form, 422, refused=refused.message)
    _log_in(account)
    return redirect_url(safe_next(form.next.data) or url_for("main.home"))


def _log_in(account):
    session.clear()  # a new session at every login: nothing from before survives
    login_sessions.start(account, client_ip())
    db.session.commit()
    login_user(account)
    session.permanent = True


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        login_sessions.end(current_user.session_token)
        db.session.commit()
    logout_user()
    session.clear()
    flash("您已安全退出。", "success")
    return redirect_to("accounts.login")


@bp.post("/session/keep-alive")
@login_required
def keep_alive():
    """继续使用 in the warning static/js/app.js shows before the idle logout."""
    login_sessions.touch(current_user.session_token)
    db.session.commit()
    return "", 204


@bp.route("/captcha.png")
def captcha_image():
    png = captcha.new_challenge(session, current_app.config["SECRET_KEY"],
                                current_app.config["CAPTCHA_TTL_SECONDS"])
    response = make_response(png)
    response.headers["Content-Type"] = "image/png"
    return response


@bp.get("/sms-status")
def sms_status():
    """The line under 获取验证码 while a code is on its way (htmx asks every 2 s)."""
    result = current_result()
    if result is None:
        return "", 204
    # Always 200: htmx swaps only successful answers, and the line itself says what went wrong.
    return render_template("accounts/_sms_status.html", sms=result)


def _sms_form(template, form, purpose, save, account=None):
    """Every form with a 获取验证码 button: send a code, or validate and save.
    Returns (response, None) to answer now, or (None, what save returned) on success."""
    if _sending(form):
        result = send(form, purpose, account=account)
        return _form_page(template, form, result.status, sms=result), None
    if not form.validate_on_submit():
        return _form_page(template, form, 422 if form.is_submitted() else 200), None
    try:
        return None, save()
    except accounts.IdNumberTaken:
        return _form_page(template, form, 409, id_taken=True), None
    except (accounts.AccountProblem, CodeProblem) as problem:
        _apply_problem(form, problem)
        return _form_page(template, form, 422), None


@bp.route("/register", methods=["GET", "POST"])
@limit_posts_per_address("REGISTER_IP_LIMIT")
def register():
    if current_user.is_authenticated:
        return redirect_to("main.home")
    form = RegisterForm()
    response, account = _sms_form("accounts/register.html", form, Purpose.REGISTER, lambda: (
        accounts.register(accounts.Registration(
            id_type=form.id_type.data, id_number=form.id_number.data, name=form.name.data,
            phone=form.phone.data, sms_code=form.sms_code.data, password=form.password.data),
            client_ip())))
    if response is not None:
        return response
    _log_in(account)
    flash("注册成功，欢迎！请开始填写信息采集。", "success")
    return redirect_to("main.home")


@bp.route("/forgot-password", methods=["GET", "POST"])
@limit_posts_per_address("RESET_IP_LIMIT")
def forgot_password():
    form = ForgotPasswordForm()
    response, _ = _sms_form("accounts/forgot_password.html", form, Purpose.RESET, lambda: (
        accounts.reset_password(form.id_number.data, form.phone.data, form.sms_code.data,
                                form.password.data, client_ip())))
    if response is not None:
        return response
    logout_user()
    session.clear()
    flash("密码已重置，其他设备上的登录已全部退出。请用新密码登录。", "success")
    return redirect_to("accounts.login")


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm(account=current_user)
    if not form.validate_on_submit():
        return _form_page("accounts/change_password.html", form,
                          422 if form.is_submitted() else 200)
    try:
        accounts.change_password(current_user, form.old_password.data, form.password.data,
                                 client_ip())
    except accounts.AccountProblem as problem:
        _apply_problem(form, problem)
        return _form_page("accounts/change_password.html", form, 422)
    flash("密码已修改，其他设备上的登录已全部退出。", "success")
    return redirect_to("main.home")


@bp.route("/account/phone", methods=["GET", "POST"])
@login_required
def change_phone():
    form = ChangePhoneForm()
    response, _ = _sms_form(
        "accounts/change_phone.html", form, Purpose.CHANGE_PHONE, lambda: accounts.change_phone(
            current_user, form.current_password.data, form.phone.data, form.sms_code.data,
            client_ip()), account=current_user)
    if response is not None:
        return response
    flash("手机号已更换。", "success")
    return redirect_to("main.home")


@bp.route("/account/bind-phone", methods=["GET", "POST"])
@login_required
def bind_phone():
    if not current_user.must_bind_phone:
        return redirect_to("main.home")
    form = BindPhoneForm(account=current_user)
    response, _ = _sms_form(
        "accounts/bind_phone.html", form, Purpose.BIND, lambda: accounts.bind_phone(
            current_user, form.phone.data, form.sms_code.data, form.password.data, client_ip()),
        account=current_user)
    if response is not None:
        return response
    flash("手机号已绑定，新密码已生效。", "success")
    return redirect_to("main.home")
