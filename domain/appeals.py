"""Account appeals (账号申诉): getting an account back without being able to log in to it.

Two kinds, filed without an account, each with the same proofs — the ID card's two sides, a
photo of the person holding it, a short statement — and a new phone proven by an SMS code:
- 证件号被占用 (`taken_id`): someone else registered my ID number. Approval moves the account to
  the appellant: the new phone bound, a new password sent to it (to be changed at the first
  login), every session of the old holder ended, a WeChat binding removed, and the old holder's
  phone told why.
- 原手机号无法使用 (`lost_phone`): my own account, but the bound phone is gone. Approval binds the
  new phone, ends every session and a WeChat binding (the phone may have gone with WeChat
  signed in); the password stays.

Deciding and the notices are domain/appeal_decisions.py.

Anti-probing: the filing does the same work and gives the same answer whether or not the ID
number has an account; an appeal against an ID nobody registered is stored like any other and
closed by staff as 未通过 (无此账号). Filings are counted per new phone and per address.

Who decides is said twice, like domain/access.py: `can_decide` for one appeal in hand, `scope`
as the SQL condition of the list. The reviewers whose jurisdiction covers the county of the
account's record (fixed when the appeal is filed) — the bureau that knows its people — and
administrators for every appeal, the only ones for an account without a county yet."""
import io
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from PIL import Image

import jobs
from domain import access, accounts, audit
from domain.id_numbers import mask as mask_id
from domain.images import (
    ImageRejected,
    ImageRules,
    ProcessedImage,
    process_document,
    thumbnail_of,
)
from domain.rate_limits import hit_all, seconds_to_wait, wait_words
from extensions import db
from models import (
    Account,
    Appeal,
    AppealPhoto,
    AppealStatus,
    Application,
    ApplicationStatus,
    Role,
    StoredFile,
    utcnow,
)
from sms import Purpose, verify_code

PHOTO_KINDS = {"id_front": "身份证人像面照片", "id_back": "身份证国徽面照片",
               "holding": "手持身份证照片"}
MAX_STATEMENT = 500
LIST_LIMIT = 200


class AppealProblem(ValueError):
    """A problem the person can fix; `field` names the form field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class AppealLimited(Exception):
    """Too many appeals from this phone or address; the message says when to try again."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# -- filing -------------------------------------------------------------------------------------

def check_statement(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise AppealProblem("statement", "请写明申诉理由，例如：本人从未注册，发现证件号码已被他人注册")
    if len(text) > MAX_STATEMENT:
        raise AppealProblem("statement", f"申诉说明最多{MAX_STATEMENT}字，您写了{len(text)}字，请精简")
    return text


def process_photos(uploads: dict[str, bytes], rules: ImageRules, kept=()):
    """Each proof photo chosen now through the materials' pipeline: (processed by kind,
    problems by kind). A kind not chosen now is only missing when it is not in `kept`."""
    processed, problems = {}, {}
    for kind, title in PHOTO_KINDS.items():
        data = uploads.get(kind) or b""
        if not data:
            if kind not in kept:
                problems[kind] = f"请拍摄或选择{title}"
            continue
        try:
            processed[kind] = process_document(data, rules)
        except ImageRejected as rejected:
            problems[kind] = rejected.message
    return processed, problems


# Photos of a refused filing are kept for an hour, so a wrong code or a typo does not cost the
# person their three pictures: stored files (purged when they expire), found again through the
# ids in their own signed session, never by anyone else.
DRAFT_PURPOSE = "appeal-draft"
DRAFT_KEPT = timedelta(hours=1)


def keep_drafts(photos: dict[str, ProcessedImage], kept: dict[str, int]) -> dict[str, int]:
    """Store the newly processed `photos`, replacing the drafts of the same kinds in `kept`
    ({kind: stored file id}); return the new {kind: id} (committed)."""
    kept = dict(kept)
    for kind, image in photos.items():
        if kind in kept:
            _drop_drafts([kept[kind]])
        stored = StoredFile(purpose=DRAFT_PURPOSE, filename=f"{kind}.jpg",
                            content_type="image/jpeg", content=image.data,
                            size_bytes=image.size, expires_at=utcnow() + DRAFT_KEPT)
        db.session.add(stored)
        db.session.flush()
        kept[kind] = stored.id
    db.session.commit()
    return kept


def draft(file_id) -> StoredFile | None:
    found = db.session.get(StoredFile, file_id) if isinstance(file_id, int) else None
    if found is None or found.purpose != DRAFT_PURPOSE or found.expires_at < utcnow():
        return None
    return found


def drafts(kept: dict[str, int], rules: ImageRules) -> dict[str, ProcessedImage]:
    """The kept photos still there, as processed images again."""
    found = {}
    for kind, file_id in kept.items():
        stored = draft(file_id)
        if kind in PHOTO_KINDS and stored is not None:
            picture = Image.open(io.BytesIO(stored.content))
            found[kind] = ProcessedImage(stored.content, picture.width, picture.height,
                                         thumbnail_of(picture, rules.thumbnail_side))
    return found


def _drop_drafts(file_ids) -> None:
    db.session.execute(sa.delete(StoredFile).where(StoredFile.id.in_(list(file_ids)),
                                                   StoredFile.purpose == DRAFT_PURPOSE))


def check_limits(phone: str, ip: str) -> None:
    """Raise AppealLimited, saying when to try again, if this phone or address filed enough."""
    for setting, key, words in (("APPEAL_PHONE_LIMITS", phone, "该手机号提交申诉次数已达上限"),
                                ("APPEAL_IP_LIMITS", ip, "当前网络提交申诉次数已达上限")):
        wait = seconds_to_wait(setting, key)
        if wait:
            raise AppealLimited(f"{words}，请{wait_words(wait)}后再试")


@dataclass
class Filing:
    kind: str
    id_type: str
    id_number: str
    name: str
    phone: str
    sms_code: str
    statement: str
    photos: dict[str, ProcessedImage] = field(default_factory=dict)
    drafts: dict[str, int] = field(default_factory=dict)   # kept photos it used, dropped


def _target(id_number: str) -> Account | None:
    """The applicant account the appeal is about; staff accounts are the administrators'."""
    account = accounts.find_by_id_number(id_number)
    return account if account is not None and account.role == Role.APPLICANT else None


def _county_of(account_id: int) -> tuple[str | None, str | None]:
    """The 属地 of the account's submitted record (the approved one first), or (None, None):
    a draft's county has never seen it. Queried even without an account, so filing does the
    same work either way."""
    row = db.session.execute(
        sa.select(Application.jurisdiction_code, Application.prefecture_code)
        .where(Application.account_id == account_id, Application.jurisdiction_code.is_not(None),
               sa.or_(Application.status != ApplicationStatus.DRAFT,
                      Application.submitted_at.is_not(None)))
        .order_by((Application.status == ApplicationStatus.APPROVED).desc(),
                  Application.id.desc()).limit(1)).first()
    if row is None:
        return None, None
    return row[0], row[1] or row[0][:4] + "00"


def file(filing: Filing, ip: str) -> Appeal:
    """Store the appeal (committed) and tell the appellant's phone; the same work and answer
    whether or not the ID number has an account. Raise AppealLimited, CodeProblem or
    AppealProblem."""
    check_limits(filing.phone, ip)
    verify_code(filing.phone, Purpose.APPEAL, filing.sms_code, consume=False)
    if _open_appeal(filing.id_number, filing.kind) is not None:
        raise AppealProblem("id_number", "该证件号码已有一份同类申诉正在处理，结果将以短信通知"
                                         "提交申诉时填写的手机号；请等处理结果出来后再提交")
    verify_code(filing.phone, Purpose.APPEAL, filing.sms_code)
    account = _target(filing.id_number)
    county, prefecture = _county_of(account.id if account else 0)
    appeal = Appeal(kind=filing.kind, id_type=filing.id_type, id_number=filing.id_number,
                    name=filing.name, phone=filing.phone, statement=filing.statement,
                    status=AppealStatus.OPEN, reason="",
                    account_id=account.id if account else None,
                    jurisdiction_code=county, prefecture_code=prefecture)
    for kind, image in filing.photos.items():
        appeal.photos.append(AppealPhoto(
            kind=kind, sha256=image.sha256, size_bytes=image.size, width=image.width,
            height=image.height, content=image.data, thumbnail=image.thumbnail,
            notes="；".join(image.fixes)))
    db.session.add(appeal)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:  # the same ID and kind filed at this very moment
        db.session.rollback()
        raise AppealProblem("id_number", "该证件号码已有一份同类申诉正在处理，请等处理结果出来后再提交") \
            from None
    audit.record("appeal.file", subject=mask_id(filing.id_number), ip=ip,
                 details={"appeal": appeal.id, "kind": filing.kind})
    jobs.enqueue("notice.appeal", appeal_id=appeal.id, to="appellant")
    _drop_drafts(filing.drafts.values())
    hit_all("APPEAL_PHONE_LIMITS", filing.phone)
    hit_all("APPEAL_IP_LIMITS", ip)
    db.session.commit()
    return appeal


def _open_appeal(id_number: str, kind: str) -> int | None:
    return db.session.scalar(sa.select(Appeal.id).where(
        Appeal.id_number == id_number, Appeal.kind == kind,
        Appeal.status == AppealStatus.OPEN).limit(1))


# -- who decides --------------------------------------------------------------------------------

def can_decide(staff: Account, appeal: Appeal) -> bool:
    if staff is None or not staff.is_authenticated:
        return False
    if staff.role == Role.ADMIN:
        return True
    if staff.role != Role.REVIEWER or staff.region is None:
        return False
    return staff.region.covers(appeal.jurisdiction_code)


def scope(staff: Account):
    """The appeals `staff` may see and decide (can_decide, as SQL)."""
    if staff.role == Role.ADMIN:
        return sa.true()
    if staff.role != Role.REVIEWER or staff.region is None:
        return sa.false()
    return access.covered_by(staff.region, Appeal)


def appeals_for(staff: Account, tab: str) -> list[Appeal]:
    """Open ones oldest first (the queue), decided ones newest first."""
    query = sa.select(Appeal).where(scope(staff))
    if tab == "open":
        query = query.where(Appeal.status == AppealStatus.OPEN) \
            .order_by(Appeal.created_at, Appeal.id)
    else:
        query = query.where(Appeal.status != AppealStatus.OPEN) \
            .order_by(Appeal.decided_at.desc(), Appeal.id.desc())
    return list(db.session.scalars(query.limit(LIST_LIMIT)))


def open_count(staff: Account) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Appeal).where(
        scope(staff), Appeal.status == AppealStatus.OPEN))


def account_photos(appeal: Appeal) -> list:
    """The account's own ID card photos, from its record, to compare with the appeal's."""
    from domain.materials import materials_of
    if appeal.account is None:
        return []
    record = db.session.scalar(
        sa.select(Application).where(Application.account_id == appeal.account_id)
        .order_by((Application.status == ApplicationStatus.APPROVED).desc(),
                  Application.id.desc()).limit(1))
    if record is None:
        return []
    kept = materials_of(record)
    return [kept[kind] for kind in ("id_front", "id_back", "id_photo") if kind in kept]
