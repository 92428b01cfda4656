"""Staff accounts: reviewers, administrators and auditors, each with a jurisdiction region."""
import secrets

import sqlalchemy as sa

from domain import audit, login_lock, login_sessions, wechat_bindings
from domain.accounts import AccountProblem, find_by_id_number, hasher, phone_in_use
from domain.id_numbers import RESIDENT_ID, mask
from domain.id_numbers import validate as validate_id
from domain.person_names import validate as validate_name
from domain.phones import validate as validate_phone
from domain.regions import get_region
from extensions import db
from models import Account, Role

STAFF_ROLES = (Role.REVIEWER, Role.ADMIN, Role.AUDITOR)
_PASSWORD_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789"


def one_time_password() -> str:
    """16 characters that always satisfy the password rules."""
    body = "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(13))
    return body + secrets.choice("ABCDEFGHJKMN") + secrets.choice("23456789") + "!"


def create_staff(role: str, region_code: str, id_number: str, name: str, phone: str,
                 created_by: Account | None = None, ip: str = "") -> tuple[Account, str]:
    if role not in STAFF_ROLES:
        raise AccountProblem("role", "请选择角色：审核员、管理员或审计员")
    region = get_region(region_code)
    if not region_code:
        raise AccountProblem("region", "请选择管辖地区（云南省、州（市）或县（市、区））")
    if region is None:
        raise AccountProblem("region", f"地区代码 {region_code} 不存在，请使用云南省的区划代码，"
                                       "如 530000、530100 或 530102")
    id_number = validate_id(RESIDENT_ID, id_number)
    if find_by_id_number(id_number):
        raise AccountProblem("id_number", "该证件号码已有账号")
    phone = validate_phone(phone)
    if phone_in_use(phone):
        raise AccountProblem("phone", "该手机号已绑定其他账号")
    password = one_time_password()
    account = Account(role=role, id_type=RESIDENT_ID, id_number=id_number,
                      name=validate_name(name), phone=phone, region_code=region.code,
                      password_hash=hasher().hash(password), must_change_password=True)
    db.session.add(account)
    db.session.flush()
    audit.record("staff.create", actor=created_by, subject=mask(id_number), ip=ip,
                 details={"role": role, "region": region.code})
    db.session.commit()
    return account, password


def staff_accounts() -> list[Account]:
    return list(db.session.scalars(
        sa.select(Account).where(Account.role.in_(STAFF_ROLES)).order_by(Account.role,
                                                                          Account.region_code,
                                                                          Account.id)))


def get_staff(account_id: int) -> Account | None:
    account = db.session.get(Account, account_id)
    return account if account is not None and account.role in STAFF_ROLES else None


def set_enabled(account: Account, enabled: bool, by: Account, ip: str) -> None:
    if account.id == by.id:
        raise AccountProblem("account", "不能停用自己的账号")
    account.is_enabled = enabled
    if not enabled:
        login_sessions.end_all(account)
        # Staff cannot bind WeChat; the rule is kept where an account is disabled all the same.
        wechat_bindings.end_binding(account, "disabled", actor=by, ip=ip)
    audit.record("staff.enable" if enabled else "staff.disable", actor=by, ip=ip,
                 subject=mask(account.id_number))
    db.session.commit()


def set_region(account: Account, region_code: str, by: Account, ip: str) -> None:
    region = get_region(region_code)
    if region is None:
        raise AccountProblem("region", "请选择管辖地区")
    previous = account.region_code
    account.region_code = region.code
    audit.record("staff.region", actor=by, ip=ip, subject=mask(account.id_number),
                 details={"from": previous, "to": region.code})
    db.session.commit()


def reset_staff_password(account: Account, by: Account, ip: str) -> str:
    password = one_time_password()
    account.password_hash = hasher().hash(password)
    account.must_change_password = True
    login_lock.clear(account)
    login_sessions.end_all(account)
    wechat_bindings.end_binding(account, "admin.reset", actor=by, ip=ip)
    audit.record("staff.reset_password", actor=by, ip=ip, subject=mask(account.id_number))
    db.session.commit()
    return password
