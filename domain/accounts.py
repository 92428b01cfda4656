"""Accounts: registration, login with lockout, password reset and change, phone binding."""
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from domain import audit, initial_password, login_sessions, unknown_id_lock
from domain.id_numbers import mask as mask_id
from domain.passwords import Hasher
from domain.phones import mask as mask_phone
from extensions import db
from models import Account, Role, utcnow
from sms import Purpose, verify_code

# One answer for an unknown ID and a wrong password, so the login form reveals nothing.
BAD_CREDENTIALS = "证件号码或密码不正确，请核对后重试。忘记密码可通过“忘记密码”找回"


class AccountProblem(ValueError):
    """A problem with a field the person can fix; `field` names the form field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class IdNumberTaken(AccountProblem):
    def __init__(self):
        super().__init__("id_number", "该证件号码已注册")


class LoginRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def hasher() -> Hasher:
    return current_app.extensions["password_hasher"]


def find_by_id_number(id_number: str) -> Account | None:
    return db.session.scalar(sa.select(Account).where(Account.id_number == id_number))


def password_matches(account: Account | None, password: str) -> bool:
    """One argon2 verification whatever the account: an unknown ID and an imported account
    still on its initial password (checked against the ID number, see initial_password) do
    the same work as a normal account, so the answer's timing tells nothing."""
    if account is not None and initial_password.is_pending(account):
        hasher().verify(None, password)  # the dummy hash: the same work as any login
        return initial_password.matches(account, password)
    return hasher().verify(account.password_hash if account else None, password)


def phone_in_use(phone: str, except_account: Account | None = None) -> bool:
    query = sa.select(Account.id).where(Account.phone == phone)
    if except_account is not None:
        query = query.where(Account.id != except_account.id)
    return db.session.scalar(query) is not None


@dataclass
class Registration:
    id_type: str
    id_number: str
    name: str
    phone: str
    sms_code: str
    password: str


def register(data: Registration, ip: str) -> Account:
    """Create an applicant account. The SMS code is spent in the same transaction, so a failure
    (taken ID, taken phone, a racing twin request) leaves the code usable and nothing created."""
    if find_by_id_number(data.id_number):
        raise IdNumberTaken()
    if phone_in_use(data.phone):
        raise AccountProblem("phone", "该手机号已绑定其他账号，请更换手机号；如是本人账号，请直接登录")
    verify_code(data.phone, Purpose.REGISTER, data.sms_code)
    account = Account(role=Role.APPLICANT, id_type=data.id_type, id_number=data.id_number,
                      name=data.name, phone=data.phone,
                      password_hash=hasher().hash(data.password))
    db.session.add(account)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:
        db.session.rollback()
        if find_by_id_number(data.id_number):
            raise IdNumberTaken() from None
        raise AccountProblem("phone", "该手机号已绑定其他账号，请更换手机号") from None
    audit.record("register", actor=account, subject=mask_id(account.id_number), ip=ip)
    db.session.commit()
    return account


def authenticate(id_number: str, password: str, ip: str) -> Account:
    """Return the account, or raise LoginRefused. Five failures lock the account for 30 minutes;
    the lock never says whether the ID exists, and a locked person can still reset by SMS."""
    config = current_app.config
    account = find_by_id_number(id_number)
    now = utcnow()
    password_ok = password_matches(account, password)
    if account is not None and account.locked_until and account.locked_until > now:
        minutes = int((account.locked_until - now).total_seconds() // 60) + 1
    else:
        minutes = unknown_id_lock.minutes_locked(id_number) if account is None else 0
    if minutes:
        audit.record("login.locked", actor=account, subject=mask_id(id_number), ip=ip)
        db.session.commit()
        raise LoginRefused(f"密码错误次数过多，账号已临时锁定，请{minutes}分钟后再试，"
                           "或通过“忘记密码”重置密码")
    if account is None or not password_ok:
        if account is not None:
            _count_failure(account, config)
        else:
            unknown_id_lock.count_failure(id_number)
        audit.record("login.failed", actor=account, subject=mask_id(id_number), ip=ip)
        db.session.commit()
        raise LoginRefused(BAD_CREDENTIALS)
    if not account.is_enabled:
        audit.record("login.disabled", actor=account, subject=mask_id(id_number), ip=ip)
        db.session.commit()
        raise LoginRefused("该账号已停用，请联系所在地财政局会计管理部门")
    account.failed_logins = 0
    account.locked_until = None
    account.last_login_at = now
    if not initial_password.is_pending(account) and hasher().needs_rehash(account.password_hash):
        account.password_hash = hasher().hash(password)
    audit.record("login", actor=account, subject=mask_id(id_number), ip=ip)
    return account


def _count_failure(account: Account, config) -> None:
    account.failed_logins += 1
    if account.failed_logins >= config["LOGIN_MAX_FAILURES"]:
        account.locked_until = utcnow() + timedelta(minutes=config["LOGIN_LOCK_MINUTES"])
        account.failed_logins = 0


def _set_password(account: Account, password: str, keep_session: str | None) -> None:
    account.password_hash = hasher().hash(password)
    account.password_changed_at = utcnow()
    account.must_change_password = False
    account.failed_logins = 0
    account.locked_until = None
    login_sessions.end_all(account, keep_token=keep_session)


def reset_password(id_number: str, phone: str, sms_code: str, password: str, ip: str) -> None:
    """Forgot password. The code was only ever sent if ID and phone belong together, so a
    mismatch fails exactly like a wrong code."""
    account = find_by_id_number(id_number)
    verify_code(phone, Purpose.RESET, sms_code, consume=False)
    if account is None or account.phone != phone or account.must_bind_phone:
        raise AccountProblem("sms_code", "验证码不正确或已使用，请重新获取")
    verify_code(phone, Purpose.RESET, sms_code)
    _set_password(account, password, keep_session=None)
    audit.record("password.reset", actor=account, subject=mask_id(id_number), ip=ip)
    db.session.commit()


def may_receive_reset_code(id_number: str, phone: str) -> bool:
    account = find_by_id_number(id_number)
    return bool(account and account.phone == phone and not account.must_bind_phone)


def change_password(account: Account, old: str, new: str, ip: str) -> None:
    if not password_matches(account, old):
        raise AccountProblem("old_password", "当前密码不正确")
    _set_password(account, new, keep_session=account.session_token)
    audit.record("password.change", actor=account, subject=mask_id(account.id_number), ip=ip)
    db.session.commit()


def change_phone(account: Account, password: str, new_phone: str, sms_code: str, ip: str) -> None:
    if not password_matches(account, password):
        raise AccountProblem("password", "登录密码不正确")
    if new_phone == account.phone:
        raise AccountProblem("phone", "新手机号与当前绑定的手机号相同")
    if phone_in_use(new_phone, except_account=account):
        raise AccountProblem("phone", "该手机号已绑定其他账号，请换一个手机号")
    verify_code(new_phone, Purpose.CHANGE_PHONE, sms_code)
    old_phone = account.phone
    account.phone = new_phone
    audit.record("phone.change", actor=account, subject=mask_id(account.id_number), ip=ip,
                 details={"from": mask_phone(old_phone), "to": mask_phone(new_phone)})
    db.session.commit()


def bind_phone(account: Account, phone: str, sms_code: str, password: str, ip: str) -> None:
    """An imported account's first step: bind a phone and replace the initial password."""
    if phone_in_use(phone, except_account=account):
        raise AccountProblem("phone", "该手机号已绑定其他账号，请换一个手机号")
    verify_code(phone, Purpose.BIND, sms_code)
    account.phone = phone
    account.must_bind_phone = False
    _set_password(account, password, keep_session=account.session_token)
    audit.record("phone.bind", actor=account, subject=mask_id(account.id_number), ip=ip,
                 details={"phone": mask_phone(phone)})
    db.session.commit()
