"""Accounts: registration, login with lockout, password reset and change, phone binding."""
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

import jobs
from domain import audit, initial_password, login_lock, login_sessions, wechat_bindings
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
    """Create an applicant account. The SMS code is checked before anything else and spent in
    the same transaction, so a failure (taken ID, taken phone, a racing twin request) leaves the
    code usable and nothing created."""
    # The code first: only someone who proved they hold the phone learns anything about the ID
    # number or the phone.
    verify_code(data.phone, Purpose.REGISTER, data.sms_code, consume=False)
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
    """Return the account, or raise LoginRefused. Wrong passwords lock the ID number for a
    while (domain/login_lock.py); the lock never says whether the ID exists, and a locked
    person can still reset by SMS."""
    account = find_by_id_number(id_number)
    now = utcnow()
    password_ok = password_matches(account, password)
    minutes = login_lock.minutes_locked(account, id_number)
    if minutes:
        audit.record("login.locked", actor=account, subject=mask_id(id_number), ip=ip)
        db.session.commit()
        raise LoginRefused(login_lock.message(minutes))
    if account is None or not password_ok:
        login_lock.count_failure(account, id_number)  # the lock shows from the next try
        audit.record("login.failed", actor=account, subject=mask_id(id_number), ip=ip)
        db.session.commit()
        raise LoginRefused(BAD_CREDENTIALS)
    if not account.is_enabled:
        audit.record("login.disabled", actor=account, subject=mask_id(id_number), ip=ip)
        db.session.commit()
        raise LoginRefused("该账号已停用，请联系所在地财政局会计管理部门")
    login_lock.clear(account)
    account.last_login_at = now
    if not initial_password.is_pending(account) and hasher().needs_rehash(account.password_hash):
        account.password_hash = hasher().hash(password)
    audit.record("login", actor=account, subject=mask_id(id_number), ip=ip)
    return account


class SessionLocked(AccountProblem):
    """Too many wrong current passwords from a logged-in session: the account is locked and
    every session of it ended; the person is sent to the login page."""

    def __init__(self, minutes: int):
        super().__init__("password", login_lock.message(minutes))
        self.minutes = minutes


def check_current_password(account: Account, password: str, field: str, ip: str,
                           words: str) -> None:
    """The password a logged-in person types to confirm a change. Wrong ones count like wrong
    logins; the lock ends every session and tells the bound phone."""
    minutes = login_lock.minutes_locked(account, account.id_number)
    if not minutes and password_matches(account, password):
        return
    if not minutes:
        minutes = login_lock.count_failure(account, account.id_number)
        audit.record("password.wrong", actor=account, subject=mask_id(account.id_number), ip=ip)
    if minutes:
        login_sessions.end_all(account)
        audit.record("login.locked", actor=account, subject=mask_id(account.id_number), ip=ip)
        if account.phone:
            jobs.enqueue("notice.account_locked", account_id=account.id, minutes=minutes)
        db.session.commit()
        raise SessionLocked(minutes)
    db.session.commit()
    raise AccountProblem(field, words)


def _set_password(account: Account, password: str, keep_session: str | None) -> None:
    account.password_hash = hasher().hash(password)
    account.password_changed_at = utcnow()
    account.must_change_password = False
    login_lock.clear(account)
    login_sessions.end_all(account, keep_token=keep_session)


def reset_password(id_number: str, phone: str, sms_code: str, password: str, ip: str) -> bool:
    """Forgot password. The code was only ever sent if ID and phone belong together, so a
    mismatch fails exactly like a wrong code. The account is being taken back: every session
    ends, and so does a WeChat binding (whoever knew the old password may have bound theirs);
    True when one did, so the page can say so."""
    account = find_by_id_number(id_number)
    verify_code(phone, Purpose.RESET, sms_code, consume=False)
    if account is None or account.phone != phone or account.must_bind_phone:
        raise AccountProblem("sms_code", "验证码不正确或已使用，请重新获取")
    verify_code(phone, Purpose.RESET, sms_code)
    _set_password(account, password, keep_session=None)
    audit.record("password.reset", actor=account, subject=mask_id(id_number), ip=ip)
    unbound = wechat_bindings.end_binding(account, "password.reset", ip=ip)
    db.session.commit()
    return unbound


def may_receive_reset_code(id_number: str, phone: str) -> bool:
    account = find_by_id_number(id_number)
    return bool(account and account.phone == phone and not account.must_bind_phone)


def change_password(account: Account, old: str, new: str, ip: str) -> None:
    check_current_password(account, old, "old_password", ip, "当前密码不正确")
    _set_password(account, new, keep_session=account.session_token)
    audit.record("password.change", actor=account, subject=mask_id(account.id_number), ip=ip)
    db.session.commit()


def change_phone(account: Account, password: str, new_phone: str, sms_code: str, ip: str) -> None:
    check_current_password(account, password, "current_password", ip, "登录密码不正确")
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
