"""WeChat one-tap login: a faster door to an account already verified by ID number and SMS.

Who may bind: an applicant whose account is in use (enabled, phone bound by SMS); never staff.
Binding needs the password again or an SMS code to the bound phone, and an openid from WeChat's
silent authorisation that is not a snapshot-page virtual user. One WeChat per account and one
account per WeChat (per official account): binding a WeChat already bound elsewhere moves it.

What ends a binding (README, "WeChat: when a binding ends"): 解除绑定; forgot password (the
account is being taken back: every other door closes); an administrator's password reset;
disabling the account. What keeps it: changing the password or the phone from a logged-in
session, a temporary login lock (the one-tap is refused while it lasts, like the password).

Every login, bind and unbind is audit-logged; the openid never is (`wechat_ids.reference`)."""
import sqlalchemy as sa
from flask import current_app

import wechat
from domain import audit, login_lock, wechat_ids
from domain.id_numbers import mask
from extensions import db
from models import Account, Role, WeChatBinding, utcnow
from sms import Purpose, verify_code

NOT_BOUND = "此微信还没有绑定账号。请先用证件号码和密码登录，登录后可以绑定微信，下次一键登录。"
DISABLED = "该账号已停用，请联系所在地财政局会计管理部门"
STAFF = "工作人员账号不能绑定微信，请使用证件号码、密码和短信验证码登录。"
NOT_READY = "请先绑定手机号并设置新密码，再绑定微信。"

# Why a callback from WeChat went no further; {action} is the button to press again.
CALLBACK_PROBLEMS = {
    "state": "微信授权没有完成：这次授权已失效，或不是从本页面发起的。请重新点击“{action}”。",
    "code": "微信授权已失效（授权码无效或已使用）。请重新点击“{action}”。",
    "unavailable": "暂时无法连接微信，请稍后再点击“{action}”。",
    "snapshot": "您正在朋友圈的快照页中浏览，无法使用微信授权。请点击屏幕下方的“使用完整服务”，"
                "再点击“{action}”。",
    "session": "登录已超时或已更换账号，微信没有绑定。请登录后重新点击“{action}”。",
}


class WeChatRefused(Exception):
    """The one-tap login or a bind cannot go on; `message` is for the person, `reason` for the
    audit log."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.message = message
        self.reason = reason


def login_offered(config) -> bool:
    """WeChat configured, and the site's own address known (the fixed redirect_uri)."""
    return wechat.configured(config) and bool(config.get("PUBLIC_URL"))


def site_address(endpoint: str, **values) -> str | None:
    """The page's address as people reach it, from PUBLIC_URL (never from a request): WeChat's
    redirect_uri, the link in a template message. None when PUBLIC_URL is not set."""
    base = current_app.config.get("PUBLIC_URL")
    if not base:
        return None
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return base.rstrip("/") + path


def bind_refusal(account: Account) -> str | None:
    """Why this account may not bind WeChat, or None if it may."""
    if account.role != Role.APPLICANT:
        return STAFF
    if not account.is_enabled:
        return DISABLED
    if account.must_bind_phone or not account.phone:
        return NOT_READY
    return None


def callback_refused(reason: str, ip: str, account=None, binding: bool = False) -> WeChatRefused:
    """Audit-log a callback that goes no further (a wrong or used state, a used code, WeChat
    away, a snapshot-page user...) and return the refusal to raise or show."""
    action = "绑定微信" if binding else "微信一键登录"
    audit.record("wechat.refused", actor=account,
                 subject=mask(account.id_number) if account else "", ip=ip,
                 details={"reason": reason, "intent": "bind" if binding else "login"})
    db.session.commit()
    return WeChatRefused(CALLBACK_PROBLEMS[reason].format(action=action), reason)


def confirm_by_password(account: Account, password: str, ip: str) -> None:
    """绑定微信 asks for the password again. Wrong ones count toward the login lock, as for
    修改密码 (accounts.SessionLocked ends every session); AccountProblem when wrong."""
    from domain import accounts
    refusal = bind_refusal(account)
    if refusal:
        raise WeChatRefused(refusal, "not_allowed")
    accounts.check_current_password(account, password, "password", ip, "登录密码不正确")


def confirm_by_sms(account: Account, code: str) -> None:
    """... or a code sent to the account's bound phone (spent here; the caller commits)."""
    refusal = bind_refusal(account)
    if refusal:
        raise WeChatRefused(refusal, "not_allowed")
    verify_code(account.phone, Purpose.WECHAT_BIND, code)


def _appid() -> str:
    return current_app.config["WECHAT_APPID"]


def binding_of(account: Account) -> WeChatBinding | None:
    """The account's binding to the official account configured now (one to an earlier
    official account opens nothing and is replaced by the next bind)."""
    return db.session.scalar(sa.select(WeChatBinding).where(
        WeChatBinding.account_id == account.id, WeChatBinding.appid == _appid()))


def _binding_for(openid: str) -> WeChatBinding | None:
    return db.session.scalar(sa.select(WeChatBinding).where(
        WeChatBinding.appid == _appid(),
        WeChatBinding.openid_digest == wechat_ids.digest(_appid(), openid)))


def _refuse(message: str, reason: str, openid: str, ip: str, account=None):
    audit.record("wechat.login.failed", actor=account,
                 subject=mask(account.id_number) if account else "", ip=ip,
                 details={"reason": reason, "wechat": _reference(openid)})
    db.session.commit()
    raise WeChatRefused(message, reason)


def _reference(openid: str) -> str:
    return wechat_ids.reference(wechat_ids.digest(_appid(), openid))


def log_in(openid: str, ip: str) -> Account:
    """The account bound to this WeChat, ready for a new login session (the caller starts it
    and commits); or WeChatRefused, audit-logged. Refused while the account is disabled or
    locked, exactly as the password login would be."""
    binding = _binding_for(openid)
    account = binding.account if binding else None
    if account is None or bind_refusal(account) in (STAFF, NOT_READY):
        _refuse(NOT_BOUND, "not_bound", openid, ip)
    if not account.is_enabled:
        _refuse(DISABLED, "disabled", openid, ip, account)
    minutes = login_lock.minutes_locked(account, account.id_number)
    if minutes:
        _refuse(login_lock.message(minutes), "locked", openid, ip, account)
    account.last_login_at = binding.last_login_at = utcnow()
    audit.record("wechat.login", actor=account, subject=mask(account.id_number), ip=ip,
                 details={"wechat": binding_reference(binding)})
    return account


def binding_reference(binding: WeChatBinding) -> str:
    return wechat_ids.reference(binding.openid_digest)


def bind(account: Account, openid: str, proof: str, ip: str) -> None:
    """Bind this WeChat to the account (its password or SMS code was checked before WeChat
    was asked). A binding of the same WeChat to another account ends: one account per WeChat."""
    refusal = bind_refusal(account)
    if refusal:
        raise WeChatRefused(refusal, "not_allowed")
    appid, digest = _appid(), wechat_ids.digest(_appid(), openid)
    elsewhere = db.session.scalar(sa.select(WeChatBinding).where(
        WeChatBinding.appid == appid, WeChatBinding.openid_digest == digest,
        WeChatBinding.account_id != account.id))
    if elsewhere is not None:
        _end(elsewhere, "moved", actor=account, ip=ip)
    db.session.execute(sa.delete(WeChatBinding).where(WeChatBinding.account_id == account.id))
    binding = WeChatBinding(account_id=account.id, appid=appid, openid_digest=digest,
                            openid_sealed=wechat_ids.seal(openid))
    db.session.add(binding)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:  # the same WeChat bound at this very moment elsewhere
        db.session.rollback()
        raise WeChatRefused("绑定没有完成，请重试。", "race") from None
    audit.record("wechat.bind", actor=account, subject=mask(account.id_number), ip=ip,
                 details={"wechat": wechat_ids.reference(digest), "proof": proof})
    db.session.commit()


def _end(binding: WeChatBinding, reason: str, actor=None, ip: str = "") -> None:
    audit.record("wechat.unbind", actor=actor or binding.account,
                 subject=mask(binding.account.id_number), ip=ip,
                 details={"reason": reason, "wechat": binding_reference(binding)})
    db.session.delete(binding)
    db.session.flush()


def end_binding(account: Account, reason: str, *, actor=None, ip: str = "") -> bool:
    """End the account's binding(s), audit-logged with `reason`; True if there was one. The
    caller commits, with the change that ends it (a password reset, disabling...)."""
    bindings = list(db.session.scalars(sa.select(WeChatBinding).where(
        WeChatBinding.account_id == account.id)))
    for binding in bindings:
        _end(binding, reason, actor=actor, ip=ip)
    return bool(bindings)


def unbind(account: Account, ip: str) -> bool:
    """解除绑定, by the person."""
    ended = end_binding(account, "person", ip=ip)
    db.session.commit()
    return ended


def notice_openid(account: Account) -> str | None:
    """Where a template message for this account goes, if it has a usable binding."""
    binding = binding_of(account)
    return wechat_ids.unseal(binding.openid_sealed) if binding else None
