"""Staff accounts: reviewers, administrators and auditors, each with a jurisdiction region."""
import secrets

from domain import audit
from domain.accounts import AccountProblem, find_by_id_number, hasher, phone_in_use
from domain.id_numbers import RESIDENT_ID, mask, validate as validate_id
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
                 created_by: Account | None = None) -> tuple[Account, str]:
    if role not in STAFF_ROLES:
        raise AccountProblem("role", "角色应为 reviewer、admin 或 auditor")
    region = get_region(region_code)
    if region is None:
        raise AccountProblem("region", f"地区代码 {region_code} 不存在，请先运行 flask regions load")
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
    audit.record("staff.create", actor=created_by, subject=mask(id_number),
                 details={"role": role, "region": region.code})
    db.session.commit()
    return account, password
