"""微信一键登录 and 绑定微信: the views. The rules are in domain/wechat_bindings.py (who may bind,
what ends a binding, the login check) and domain/wechat_states.py (the callback's state).

    POST /wechat/login                 微信一键登录: to WeChat's silent authorisation
    GET  /wechat/callback              WeChat comes back: state checked and spent, code exchanged
    GET|POST /account/wechat           the binding's status; 绑定微信 by the password again
    GET|POST /account/wechat/sms       绑定微信 by an SMS code to the bound phone instead
    POST /account/wechat/unbind        解除绑定"""
from flask import abort, current_app, flash, request, session, url_for
from flask_login import current_user, login_required

import wechat
from blueprints.accounts import bp
from blueprints.accounts.forms import (
    WeChatBindForm,
    WeChatBindSmsForm,
    WeChatStartForm,
    WeChatUnbindForm,
)
from blueprints.accounts.routes import _locked_out, _log_in
from blueprints.accounts.sms_step import current_result, send
from blueprints.accounts.wechat_step import csp_with_wechat, in_wechat, offered, shown, to_wechat
from blueprints.forms_util import add_error
from blueprints.web import (
    client_ip,
    invalid,
    limit_posts_per_address,
    redirect_to,
    redirect_url,
    render_page,
    safe_next,
)
from domain import accounts, login_sessions, wechat_bindings
from domain.phones import mask as mask_phone
from domain.rate_limits import hit_per_address
from domain.wechat_bindings import WeChatRefused
from domain.wechat_states import Intent, StateRefused, take
from sms import CodeProblem, Purpose


@bp.app_context_processor
def wechat_context():
    """For the templates: the login page's button, the 账号设置 line, WeChat's browser (all
    callables, so only the pages that show them ask)."""
    return {"wechat_login_shown": shown, "wechat_settings_shown": _settings_shown,
            "wechat_bound": _bound, "wechat_notices": _notices_by_wechat,
            "in_wechat_browser": in_wechat}


# Pages holding a form that ends at WeChat's authorisation page (inside WeChat only).
FORMS_TO_WECHAT = {"accounts.login", "accounts.submit_login", "accounts.wechat_settings",
                   "accounts.bind_wechat_by_sms", "accounts.send_wechat_bind_code"}


@bp.after_request
def let_forms_reach_wechat(response):
    if request.endpoint in FORMS_TO_WECHAT and shown():
        response.headers["Content-Security-Policy"] = csp_with_wechat()
    return response


def _settings_shown() -> bool:
    return offered() and current_user.is_authenticated and not current_user.is_staff


def _bound() -> bool:
    return wechat_bindings.binding_of(current_user) is not None


def _notices_by_wechat() -> bool:
    """Whether this person's decision notice goes to their WeChat first."""
    return _settings_shown() and wechat.notices_configured(current_app.config) and _bound()


def _applicants_only():
    """Staff cannot bind WeChat: for them (and while WeChat is not configured) these pages do
    not exist."""
    if not offered() or current_user.is_staff:
        abort(404)


@bp.post("/wechat/login")
@limit_posts_per_address("LOGIN_IP_LIMIT")
def wechat_login():
    if current_user.is_authenticated:
        return redirect_to("main.home")
    if not offered():
        abort(404)
    form = WeChatStartForm()
    form.validate_on_submit()
    return to_wechat(Intent.LOGIN, form.next.data)


@bp.get("/wechat/callback")
def wechat_callback():
    if not offered():
        abort(404)
    if not hit_per_address("LOGIN_IP_LIMIT", request.endpoint, client_ip()):
        abort(429)
    try:
        pending = take(session, request.args.get("state"))
    except StateRefused:
        refused = wechat_bindings.callback_refused("state", client_ip(), _signed_in())
        return _back_with(refused.message, bind=current_user.is_authenticated)
    try:
        openid = _openid_from(request.args.get("code"), pending.is_bind)
        if pending.is_bind:
            return _finish_bind(pending, openid)
        return _finish_login(pending, openid)
    except WeChatRefused as refused:
        return _back_with(refused.message, bind=pending.is_bind, next_url=pending.next_url)


def _signed_in():
    return current_user._get_current_object() if current_user.is_authenticated else None


def _openid_from(code: str | None, binding: bool) -> str:
    """The openid for the code WeChat brought back; a used or unknown code, WeChat away or a
    snapshot-page virtual user are refused (WeChatRefused, audit-logged)."""
    try:
        result = wechat.client().exchange_code(code or "")
    except wechat.CodeInvalid:
        raise wechat_bindings.callback_refused("code", client_ip(), _signed_in(),
                                               binding) from None
    except wechat.WeChatError as error:
        current_app.logger.warning("wechat code exchange failed: %s", type(error).__name__)
        raise wechat_bindings.callback_refused("unavailable", client_ip(), _signed_in(),
                                               binding) from None
    if result.is_snapshot_user:
        raise wechat_bindings.callback_refused("snapshot", client_ip(), _signed_in(), binding)
    return result.openid


def _finish_login(pending, openid: str):
    account = wechat_bindings.log_in(openid, client_ip())
    if current_user.is_authenticated:
        login_sessions.end(current_user.session_token)
    _log_in(account)
    return redirect_url(pending.next_url or url_for("main.home"))


def _finish_bind(pending, openid: str):
    if not current_user.is_authenticated or current_user.id != pending.account_id:
        raise wechat_bindings.callback_refused("session", client_ip(), _signed_in(), True)
    wechat_bindings.bind(current_user._get_current_object(), openid, pending.proof,
                         client_ip())
    flash("微信已绑定。以后在微信中打开本系统，点击登录页的“微信一键登录”即可登录。", "success")
    return redirect_url(pending.next_url or url_for("accounts.wechat_settings"))


def _back_with(message: str, bind: bool, next_url: str | None = None):
    flash(message, "error")
    if bind and current_user.is_authenticated:
        return redirect_to("accounts.wechat_settings", next=next_url)
    return redirect_to("accounts.login", next=next_url)


SETTINGS = "accounts/wechat.html"
BIND_BY_SMS = "accounts/wechat_sms.html"


def _settings_page(form, status=200):
    binding = wechat_bindings.binding_of(current_user)
    context = {"form": form, "binding": binding, "in_wechat": in_wechat(),
               "may_bind": wechat_bindings.bind_refusal(current_user) is None,
               "next_url": safe_next(form.next.data)}
    if status == 422:
        return invalid(SETTINGS, block="form", **context)
    return render_page(SETTINGS, block="form", status=status, **context)


@bp.route("/account/wechat", methods=["GET", "POST"])
@login_required
def wechat_settings():
    """The binding's status, with 解除绑定; inside WeChat and not bound: 绑定微信 by the
    password (the page a password login inside WeChat offers first)."""
    _applicants_only()
    form = WeChatBindForm(next=request.args.get("next"))
    may_bind = in_wechat() and wechat_bindings.binding_of(current_user) is None
    if not (may_bind and form.is_submitted()):
        return _settings_page(form)
    if not form.validate():
        return _settings_page(form, 422)
    try:
        wechat_bindings.confirm_by_password(current_user, form.password.data, client_ip())
    except accounts.SessionLocked as locked:
        return _locked_out(locked)
    except (accounts.AccountProblem, WeChatRefused) as problem:
        add_error(form.password, problem.message)
        return _settings_page(form, 422)
    return to_wechat(Intent.BIND_BY_PASSWORD, form.next.data, current_user)


def _sms_page(form, status=200, sms=None):
    context = {"form": form, "sms": sms, "phone": mask_phone(current_user.phone or ""),
               "next_url": safe_next(form.next.data)}
    if status == 422:
        return invalid(BIND_BY_SMS, block="form", **context)
    return render_page(BIND_BY_SMS, block="form", status=status, **context)


def _sms_bind_possible():
    _applicants_only()
    if not in_wechat() or wechat_bindings.binding_of(current_user) is not None or \
            wechat_bindings.bind_refusal(current_user):
        return redirect_to("accounts.wechat_settings")
    return None


@bp.route("/account/wechat/sms", methods=["GET", "POST"])
@login_required
def bind_wechat_by_sms():
    elsewhere = _sms_bind_possible()
    if elsewhere is not None:
        return elsewhere
    form = WeChatBindSmsForm(next=request.args.get("next"))
    if not form.validate_on_submit():
        return _sms_page(form, 422 if form.is_submitted() else 200,
                         None if form.is_submitted() else current_result())
    try:
        wechat_bindings.confirm_by_sms(current_user, form.sms_code.data)
    except (CodeProblem, WeChatRefused) as problem:
        add_error(form.sms_code, str(problem))
        return _sms_page(form, 422)
    return to_wechat(Intent.BIND_BY_SMS, form.next.data, current_user)


@bp.post("/account/wechat/sms/send-code")
@login_required
def send_wechat_bind_code():
    elsewhere = _sms_bind_possible()
    if elsewhere is not None:
        return elsewhere
    form = WeChatBindSmsForm()
    result = send(form, Purpose.WECHAT_BIND, account=current_user, phone=current_user.phone)
    return _sms_page(form, result.status, result)


@bp.post("/account/wechat/unbind")
@login_required
def unbind_wechat():
    _applicants_only()
    if WeChatUnbindForm().validate_on_submit() and \
            wechat_bindings.unbind(current_user._get_current_object(), client_ip()):
        flash("已解除微信绑定。以后请使用证件号码和密码登录，审核结果将以短信通知。", "success")
    return redirect_to("accounts.wechat_settings")
