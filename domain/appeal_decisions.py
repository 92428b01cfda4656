"""Deciding an account appeal (账号申诉) and telling the people it concerns.

Approval of either kind binds the appellant's new phone, ends every session of the account and
its WeChat binding (a lost phone may have gone with WeChat signed in on it);
a taken ID (证件号被占用) also moves the account to the appellant: their name, a password only
the notice job knows (sent by SMS, to be changed at the first login), and the old holder's
phone told why. Rejection needs a reason, which the appellant reads in the SMS.
Who may decide is domain/appeals.py's `can_decide`."""
import secrets
from dataclasses import dataclass

import sqlalchemy as sa

import jobs
from domain import accounts, audit, login_lock, login_sessions, wechat_bindings
from domain.appeals import AppealProblem, can_decide
from domain.id_numbers import mask as mask_id
from domain.phones import mask as mask_phone
from extensions import db
from models import Account, Appeal, AppealKind, AppealStatus, utcnow

MAX_REASON = 200
NO_ACCOUNT_REASON = "该证件号码尚未注册账号，无需申诉，请直接注册"
PHONE_TAKEN = "申诉人的新手机号已绑定其他账号，无法通过；请选择“不通过”并说明原因"


class AlreadyDecided(Exception):
    """Another member of staff decided first."""


@dataclass
class Decision:
    outcome: str   # approved | rejected
    reason: str = ""

    def problems(self, appeal: Appeal) -> dict[str, str]:
        problems = {}
        if self.outcome not in (AppealStatus.APPROVED, AppealStatus.REJECTED):
            problems["outcome"] = "请选择通过或不通过"
        elif self.outcome == AppealStatus.APPROVED and appeal.account is None:
            problems["outcome"] = "该证件号码没有账号，无法通过；请选择“不通过”并说明“无此账号”"
        elif self.outcome == AppealStatus.REJECTED and not self.reason:
            problems["reason"] = "请填写不通过的原因，申诉人会在短信中看到"
        if len(self.reason) > MAX_REASON:
            problems["reason"] = f"原因最多{MAX_REASON}字，您写了{len(self.reason)}字"
        if self.outcome == AppealStatus.APPROVED and appeal.account is not None \
                and accounts.phone_in_use(appeal.phone, except_account=appeal.account):
            problems["outcome"] = PHONE_TAKEN
        return problems


def decide(appeal: Appeal, staff: Account, decision: Decision, ip: str) -> None:
    """Record the decision and carry it out in one transaction; raise AlreadyDecided if
    someone else was first, AppealProblem if the new phone was bound elsewhere meanwhile."""
    if not can_decide(staff, appeal):
        raise PermissionError("outside the staff member's jurisdiction")
    result = db.session.execute(
        sa.update(Appeal).where(Appeal.id == appeal.id, Appeal.status == AppealStatus.OPEN)
        .values(status=decision.outcome, reason=decision.reason, decided_by=staff.id,
                decided_at=utcnow()))
    if result.rowcount != 1:
        db.session.rollback()
        raise AlreadyDecided()
    details = {"appeal": appeal.id, "kind": appeal.kind}
    if decision.outcome == AppealStatus.APPROVED:
        details |= _carry_out(appeal, staff, ip)
        audit.record("appeal.approve", actor=staff, subject=mask_id(appeal.id_number), ip=ip,
                     details=details)
    else:
        audit.record("appeal.reject", actor=staff, subject=mask_id(appeal.id_number), ip=ip,
                     details=details | {"reason": decision.reason})
    jobs.enqueue("notice.appeal", created_by=staff, appeal_id=appeal.id, to="appellant")
    db.session.commit()


def _carry_out(appeal: Appeal, staff: Account, ip: str) -> dict:
    """Bind the new phone and end every session; a taken ID also moves the account to the
    appellant (name, a password only the job that sends it knows, no WeChat)."""
    account = appeal.account
    old_phone = account.phone
    account.phone = appeal.phone
    try:
        db.session.flush()
    except sa.exc.IntegrityError:  # bound to another account since the page was checked
        db.session.rollback()
        raise AppealProblem("outcome", PHONE_TAKEN) from None
    login_sessions.end_all(account)
    login_lock.clear(account)
    # A WeChat binding ends with either kind: a taken ID's WeChat was the old holder's, and a
    # lost phone may have gone with the WeChat signed in on it.
    wechat_bindings.end_binding(account, "appeal", actor=staff, ip=ip)
    details = {"account": account.id, "from": mask_phone(old_phone),
               "to": mask_phone(appeal.phone)}
    if appeal.kind == AppealKind.TAKEN_ID:
        account.name = appeal.name
        # Nobody knows this one: the old password stops working now, the new one is made and
        # sent by the notice job, so no password is ever stored in clear.
        account.password_hash = accounts.hasher().hash(secrets.token_urlsafe(24))
        account.password_changed_at = utcnow()
        account.must_change_password = True
        account.must_bind_phone = False
        if old_phone and old_phone != appeal.phone:
            jobs.enqueue("notice.appeal", created_by=staff, appeal_id=appeal.id,
                         to="old_holder", phone=old_phone)
    db.session.flush()
    return details


# -- telling people -----------------------------------------------------------------------------

def notice_text(appeal: Appeal, password: str | None = None) -> str:
    number = f"（编号{appeal.id}）"
    if appeal.status == AppealStatus.OPEN:
        return (f"您的账号申诉{number}已提交，财政局将核实处理，结果将以短信通知本手机号。"
                "如非本人操作，请忽略本短信。")
    if appeal.status == AppealStatus.REJECTED:
        return (f"您的账号申诉{number}未通过。原因：{appeal.reason}。"
                "如有疑问，请联系所在地县（市、区）财政局会计管理部门。")
    if password:
        return (f"您的账号申诉{number}已通过，账号已绑定本手机号。临时密码：{password} ，"
                "请用证件号码和临时密码登录，登录后须立即修改密码。工作人员不会向您索要密码。")
    return (f"您的账号申诉{number}已通过，账号已改绑本手机号，其他设备上的登录已退出。"
            "请用原密码登录；忘记密码可通过“忘记密码”用本手机号重置。")


def old_holder_text(appeal: Appeal) -> str:
    return (f"您在会计人员信息采集系统使用的账号（证件号码{mask_id(appeal.id_number)}）经证件本人"
            "申诉并由财政局核实，已转由证件本人使用，本手机号已解除绑定。如有异议，请联系所在地"
            "县（市、区）财政局会计管理部门。")


def _new_password(appeal: Appeal) -> str | None:
    """For an approved taken-ID appeal whose account still is the appellant's and still has
    no password of theirs: a new one, stored hashed (committed before it is sent, so a retry
    that makes another leaves no working password unsent)."""
    account = appeal.account
    if appeal.kind != AppealKind.TAKEN_ID or account is None or account.phone != appeal.phone \
            or not account.must_change_password:
        return None
    from domain.staff import one_time_password
    password = one_time_password()
    account.password_hash = accounts.hasher().hash(password)
    account.password_changed_at = utcnow()
    account.must_change_password = True
    db.session.commit()
    return password


def deliver_notice(job) -> dict:
    from jobs import RetryLater
    from sms import send_notice
    appeal = db.session.get(Appeal, job.payload["appeal_id"])
    if appeal is None:
        return {"outcome": "gone"}
    if job.payload["to"] == "old_holder":
        phone, text = job.payload["phone"], old_holder_text(appeal)
    else:
        password = _new_password(appeal) if appeal.status == AppealStatus.APPROVED else None
        phone, text = appeal.phone, notice_text(appeal, password)
    if not send_notice(phone, text):
        raise RetryLater("SMS provider refused or unreachable")
    return {"outcome": "sms"}
