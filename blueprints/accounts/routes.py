from flask import (
    current_app,
    flash,
    get_flashed_messages,
    make_response,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from blueprints.accounts import bp, login_page, wechat_step
from blueprints.accounts.forms import (
    BindPhoneForm,
    ChangePasswordForm,
    ChangePhoneForm,
    ForgotPasswordForm,
    LoginForm,
    RegisterForm,
    SecondFactorForm,
)
from blueprints.accounts.sms_step import (
    SendResult,
    captcha_solved,
    current_result,
    remember_code_job,
    result_of,
    send,
)
from blueprints.forms_util import add_error
from blueprints.web import (
    client_ip,
    invalid,
    is_htmx,
    limit_posts_per_address,
    redirect_to,
    redirect_url,
    render_page,
    safe_next,
)
from domain import accounts, captcha, login_sessions, second_factor, wechat_bindings
from extensions import db
from sms import CodeProblem, LimitExceeded, Purpose


def _form_page(template, form, status=200, sms=None, **context):
    return render_page(template, block="form", status=status, form=form, sms=sms, **context)


def _apply_problem(form, problem):
    """An AccountProblem names its field; a CodeProblem is about the SMS code."""
    name = getattr(problem, "field", "sms_code")
    add_error(form[name] if name in form else form.sms_code, str(problem))


LOGIN = "accounts/login.html"


@bp.get("/")
@bp.get("/login")
def login():
    if current_user.is_authenticated:
        return redirect_to("main.home")
    # Messages (flashed before a redirect here) are read once per request: the page renders
    # them with the same call.
    if request.args or is_htmx() or get_flashed_messages() or not login_page.cacheable():
        response = _form_page(LOGIN, LoginForm(next=request.args.get("next")))
    else:
        response = login_page.plain_response(wechat=wechat_step.shown())
    if wechat_step.offered():
        response.vary.add("User-Agent")  # 微信一键登录 inside WeChat only
    return response


@bp.post("/")
@bp.post("/login")
@limit_posts_per_address("LOGIN_IP_LIMIT")
def submit_login():
    if current_user.is_authenticated:
        return redirect_to("main.home")
    form = LoginForm(next=request.args.get("next"))
    if not form.validate_on_submit():
        return invalid(LOGIN, block="form", form=form, sms=None)
    if not captcha_solved(form.captcha.data):
        add_error(form.captcha, "图形验证码不正确，请看清新的图片后重新输入")
        form.captcha.data = ""
        return invalid(LOGIN, block="form", form=form, sms=None)
    try:
        account = accounts.authenticate(form.id_number.data, form.password.data, client_ip())
    except accounts.LoginRefused as refused:
        form.captcha.data = ""
        return invalid(LOGIN, block="form", form=form, sms=None, refused=refused.message)
    if second_factor.needed(account):
        session.clear()
        try:
            remember_code_job(second_factor.begin(session, account, safe_next(form.next.data),
                                                  client_ip()))
        except LimitExceeded as limit:
            flash(f"{limit.message}；一分钟内收到的验证码仍然有效。", "error")
        return redirect_to("accounts.verify_login")
    _log_in(account)
    return redirect_url(wechat_step.after_login(account, safe_next(form.next.data)))


VERIFY = "accounts/verify_login.html"


def _verify_page(form, status=200, sms=None):
    try:
        waiting = second_factor.pending(session)
    except second_factor.SecondFactorExpired:
        flash("登录已超时，请重新输入证件号码和密码。", "error")
        return redirect_to("accounts.login")
    if status == 422:
        return invalid(VERIFY, block="form", form=form, sms=sms, phone=waiting.account.phone)
    return render_page(VERIFY, block="form", status=status, form=form,
                       sms=sms or current_result(), phone=waiting.account.phone)


@bp.route("/login/verify", methods=["GET", "POST"])
@limit_posts_per_address("LOGIN_IP_LIMIT")
def verify_login():
    """Staff: the code sent to their bound phone, after the password."""
    form = SecondFactorForm()
    if not form.validate_on_submit():
        return _verify_page(form, 422 if form.is_submitted() else 200)
    try:
        waiting = second_factor.confirm(session, form.sms_code.data, client_ip())
    except second_factor.SecondFactorExpired:
        return _verify_page(form)
    except CodeProblem as problem:
        add_error(form.sms_code, str(problem))
        return _verify_page(form, 422)
    _log_in(waiting.account)
    return redirect_url(waiting.next_url or url_for("main.home"))


@bp.post("/login/verify/send-code")
@limit_posts_per_address("LOGIN_IP_LIMIT")
def resend_login_code():
    try:
        job = second_factor.resend(session, client_ip())
    except second_factor.SecondFactorExpired:
        return _verify_page(SecondFactorForm())
    except LimitExceeded as limit:
        return _verify_page(SecondFactorForm(), 429, SendResult(429, limit.message))
    remember_code_job(job)
    return _verify_page(SecondFactorForm(), 200, result_of(job))


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
    response = redirect_to("accounts.login")
    # A borrowed phone keeps nothing of the person: cached pages and stored data go too.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


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


def _code_page(template, form, purpose, account=None):
    """A form's 获取验证码 button posts here (its own endpoint per form, by `formaction`): check
    the phone and the captcha, queue the code, say what happened; the typed values stay."""
    result = send(form, purpose, account=account)
    return _form_page(template, form, result.status, sms=result)


def _refused(template, form, problem):
    _apply_problem(form, problem)
    return invalid(template, block="form", form=form, sms=None)


def _locked_out(locked):
    """Too many wrong current passwords: every session has ended; say so on the login page."""
    logout_user()
    session.clear()
    flash(locked.message, "error")
    return redirect_to("accounts.login")


def _not_valid(template, form):
    """The form as typed: 422 with its errors when it was posted, else the empty page."""
    if form.is_submitted():
        return invalid(template, block="form", form=form, sms=None)
    return _form_page(template, form)


REGISTER = "accounts/register.html"


@bp.route("/register", methods=["GET", "POST"])
@limit_posts_per_address("REGISTER_IP_LIMIT")
def register():
    if current_user.is_authenticated:
        return redirect_to("main.home")
    form = RegisterForm()
    if not form.validate_on_submit():
        return _not_valid(REGISTER, form)
    try:
        account = accounts.register(accounts.Registration(
            id_type=form.id_type.data, id_number=form.id_number.data, name=form.name.data,
            phone=form.phone.data, sms_code=form.sms_code.data, password=form.password.data),
            client_ip())
    except accounts.IdNumberTaken:
        return _form_page(REGISTER, form, 409, id_taken=True)
    except (accounts.AccountProblem, CodeProblem) as problem:
        return _refused(REGISTER, form, problem)
    _log_in(account)
    flash("注册成功，欢迎！请开始填写信息采集。", "success")
    return redirect_url(wechat_step.after_login(account, None))


@bp.post("/register/send-code")
@limit_posts_per_address("REGISTER_IP_LIMIT")
def send_register_code():
    if current_user.is_authenticated:
        return redirect_to("main.home")
    return _code_page(REGISTER, RegisterForm(), Purpose.REGISTER)


FORGOT = "accounts/forgot_password.html"


@bp.route("/forgot-password", methods=["GET", "POST"])
@limit_posts_per_address("RESET_IP_LIMIT")
def forgot_password():
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        return _not_valid(FORGOT, form)
    try:
        unbound = accounts.reset_password(form.id_number.data, form.phone.data,
                                          form.sms_code.data, form.password.data, client_ip())
    except (accounts.AccountProblem, CodeProblem) as problem:
        return _refused(FORGOT, form, problem)
    logout_user()
    session.clear()
    words = "密码已重置，其他设备上的登录已全部退出"
    if unbound:
        words += "，微信一键登录已解除（登录后可重新绑定）"
    flash(words + "。请用新密码登录。", "success")
    return redirect_to("accounts.login")


@bp.post("/forgot-password/send-code")
@limit_posts_per_address("RESET_IP_LIMIT")
def send_reset_code():
    return _code_page(FORGOT, ForgotPasswordForm(), Purpose.RESET)


CHANGE_PASSWORD = "accounts/change_password.html"


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm(account=current_user)
    if not form.validate_on_submit():
        return _not_valid(CHANGE_PASSWORD, form)
    try:
        accounts.change_password(current_user, form.old_password.data, form.password.data,
                                 client_ip())
    except accounts.SessionLocked as locked:
        return _locked_out(locked)
    except accounts.AccountProblem as problem:
        return _refused(CHANGE_PASSWORD, form, problem)
    words = "密码已修改，其他设备上的登录已全部退出。"
    if wechat_step.offered() and wechat_bindings.binding_of(current_user):
        words += "微信一键登录仍然有效，如需停用，请在账号设置的“微信一键登录”中解除绑定。"
    flash(words, "success")
    return redirect_to("main.home")


CHANGE_PHONE = "accounts/change_phone.html"


@bp.route("/account/phone", methods=["GET", "POST"])
@login_required
def change_phone():
    form = ChangePhoneForm()
    if not form.validate_on_submit():
        return _not_valid(CHANGE_PHONE, form)
    try:
        accounts.change_phone(current_user, form.current_password.data, form.phone.data,
                              form.sms_code.data, client_ip())
    except accounts.SessionLocked as locked:
        return _locked_out(locked)
    except (accounts.AccountProblem, CodeProblem) as problem:
        return _refused(CHANGE_PHONE, form, problem)
    flash("手机号已更换。", "success")
    return redirect_to("main.home")


@bp.post("/account/phone/send-code")
@login_required
def send_change_phone_code():
    return _code_page(CHANGE_PHONE, ChangePhoneForm(), Purpose.CHANGE_PHONE,
                      account=current_user)


BIND_PHONE = "accounts/bind_phone.html"


@bp.route("/account/bind-phone", methods=["GET", "POST"])
@login_required
def bind_phone():
    if not current_user.must_bind_phone:
        return redirect_to("main.home")
    form = BindPhoneForm(account=current_user)
    if not form.validate_on_submit():
        return _not_valid(BIND_PHONE, form)
    try:
        accounts.bind_phone(current_user, form.phone.data, form.sms_code.data,
                            form.password.data, client_ip())
    except (accounts.AccountProblem, CodeProblem) as problem:
        return _refused(BIND_PHONE, form, problem)
    flash("手机号已绑定，新密码已生效。", "success")
    return redirect_to("main.home")


@bp.post("/account/bind-phone/send-code")
@login_required
def send_bind_code():
    if not current_user.must_bind_phone:
        return redirect_to("main.home")
    return _code_page(BIND_PHONE, BindPhoneForm(account=current_user), Purpose.BIND,
                      account=current_user)
