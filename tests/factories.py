"""Factories for the submission and review tests.

Two ways to get a complete, submittable application:

- through the real HTTP forms (`register_applicant`, `fill_sections`, `upload_materials`,
  `submit`; `submitted_via_http` does all four): what an accountant does, about half a second;
- straight through the models and domain functions (`make_application`): the same stored shape
  (answers as the section forms store them, every required material), checked complete by
  `domain.submission.missing_parts` and submitted by `domain.submission.submit`, in a few
  milliseconds — for lists of a hundred rows.

Staff of a role and region, ready to work (must_change_password False, a known password):
`make_staff`, and `staff_client` which also logs a fresh test client in through /login."""
import io
import itertools
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from hashlib import sha256

import sqlalchemy as sa
from PIL import Image, ImageDraw

from domain import applications, materials, staff, submission
from domain.accounts import hasher
from domain.id_numbers import RESIDENT_ID
from extensions import db
from models import Account, Application, ApplicationStatus, AuditEntry, Material, Role, Section
from tests.helpers import PASSWORD, login, make_id, register

CREDIT_CODE = "91110000600037341L"
_sequence = itertools.count(1)


# -- identities ----------------------------------------------------------------------------------

def unique_id(region: str = "530102") -> str:
    """A valid 居民身份证 number, different on every call (birth date and sequence vary)."""
    n = next(_sequence)
    born = date(1970, 1, 1) + timedelta(days=n * 3)
    return make_id(region, f"{born:%Y%m%d}", f"{n % 1000:03d}")


def unique_phone(prefix: str = "137") -> str:
    return f"{prefix}{next(_sequence):08d}"


# -- answers as the forms take them (HTTP) and as they are stored (models) ------------------------

def form_answers(county: str = "530102", unit_name: str = "云南某某会计服务有限公司",
                 political_status: str = "群众", email: str = "zhangsan@example.com",
                 duty: str = "") -> dict:
    """Valid POST data of each section: employed, one full-time degree, one 初级 certificate."""
    return {
        "basic": {"ethnicity": "汉族", "political_status": political_status,
                  "address": "昆明市五华区某某路1号", "email": email},
        "work": {"employed": "yes", "unit_name": unit_name, "unit_credit_code": CREDIT_CODE,
                 "unit_type": "企业", "unit_prefecture": county[:4] + "00", "unit_county": county,
                 "join_date": "2012-07-01", "accounting_start_date": "2015-07-01",
                 "posts": ["出纳", "总账"], "duty": duty},
        "education": {"full_time-has": "yes", "full_time-level": "大学本科",
                      "full_time-degree": "学士", "full_time-school": "云南财经大学",
                      "full_time-major": "会计学", "full_time-graduated_on": "2012-07-01",
                      "full_time-certificate_number": "106891201205000123",
                      "part_time-has": "no"},
        "qualification": {"has": "yes", "records-0-level": "初级",
                          "records-0-certificate_number": "Z2014000123",
                          "records-0-obtained_on": "2014-05-20"},
    }


def stored_answers(county: str = "530102", unit_name: str = "云南某某会计服务有限公司") -> dict:
    """What the section forms store for `form_answers` (only the fields that apply, as lists)."""
    stored = {}
    for key, answers in form_answers(county, unit_name).items():
        stored[key] = {name: (value if isinstance(value, list) else [value] if value else [])
                       for name, value in answers.items()}
    return stored


# -- pictures ------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def portrait_jpeg() -> bytes:
    """A head and shoulders on a white background: passes the 1-inch photo tool."""
    width, height = 600, 800
    image = Image.new("RGB", (width, height), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    draw.ellipse((width * 0.33, height * 0.12, width * 0.67, height * 0.50), fill=(90, 60, 50))
    draw.rectangle((width * 0.2, height * 0.55, width * 0.8, height), fill=(30, 30, 60))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


@lru_cache(maxsize=1)
def document_jpeg() -> bytes:
    """A photo of a sheet of paper with a few lines and a red seal."""
    image = Image.new("RGB", (800, 600), (235, 235, 228))
    draw = ImageDraw.Draw(image)
    for y in range(80, 520, 40):
        draw.line((60, y, 740, y), fill=(60, 60, 60), width=3)
    draw.ellipse((560, 380, 700, 520), outline=(200, 20, 20), width=6)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@lru_cache(maxsize=1)
def _small_jpeg() -> tuple[bytes, bytes]:
    image = Image.new("RGB", (120, 90), (200, 210, 220))
    ImageDraw.Draw(image).rectangle((10, 10, 60, 40), fill=(200, 20, 20))
    full = io.BytesIO()
    image.save(full, "JPEG", quality=80)
    thumb = io.BytesIO()
    image.resize((60, 45)).save(thumb, "JPEG", quality=70)
    return full.getvalue(), thumb.getvalue()


# -- applicants over HTTP ------------------------------------------------------------------------

@dataclass
class Person:
    id_number: str
    phone: str
    name: str
    password: str = PASSWORD
    account_id: int | None = None
    application_id: int | None = None
    county: str = "530102"


def register_applicant(client, outbox, id_number=None, phone=None, name="张三") -> Person:
    """Register through /register (captcha, SMS code from the outbox); leaves the client logged in."""
    person = Person(id_number or unique_id(), phone or unique_phone(), name)
    response = register(client, outbox, person.id_number, person.phone, name=name)
    assert response.status_code == 303, response.get_data(as_text=True)[-2000:]
    return person


def save_section(client, key, data, **query):
    url = f"/collection/{key}"
    response = client.post(url, data=data, query_string=query)
    assert response.status_code in (303, 204), (key, response.status_code,
                                                 response.get_data(as_text=True)[-2000:])
    return response


def fill_sections(client, county="530102", **answers) -> None:
    """Fill in the four data sections through their forms."""
    for key, data in form_answers(county, **answers).items():
        save_section(client, key, data)


def upload(client, kind: str, data: bytes | None = None):
    payload = data if data is not None else \
        (portrait_jpeg() if kind == materials.ID_PHOTO else document_jpeg())
    return client.post(f"/collection/materials/{kind}",
                       data={"photo": (io.BytesIO(payload), f"{kind}.jpg")})


def required_kinds(client) -> list[str]:
    html = client.get("/collection/materials").get_data(as_text=True)
    return list(dict.fromkeys(re.findall(r'action="/collection/materials/([a-z_]+)"', html)))


def upload_materials(client) -> list[str]:
    """Upload (and for the ID photo, confirm) every material the answers require."""
    kinds = required_kinds(client)
    assert materials.ID_PHOTO in kinds, kinds
    for kind in kinds:
        response = upload(client, kind)
        assert response.status_code == 303, (kind, response.get_data(as_text=True)[-2000:])
        if kind == materials.ID_PHOTO:
            assert client.post("/collection/materials/id_photo/preview").status_code == 303
    return kinds


def submit(client):
    response = client.post("/collection/submit")
    assert response.status_code == 303, response.get_data(as_text=True)[-2000:]
    return response


def submitted_via_http(client, outbox, county="530102", name="张三", **answers) -> Person:
    person = register_applicant(client, outbox, name=name)
    person.county = county
    fill_sections(client, county, **answers)
    upload_materials(client)
    submit(client)
    with_ids(client.application, person)
    return person


def with_ids(app, person: Person) -> Person:
    with app.app_context():
        account = db.session.scalar(sa.select(Account).where(Account.id_number == person.id_number))
        person.account_id = account.id
        application = db.session.scalar(
            sa.select(Application).where(Application.account_id == account.id))
        person.application_id = application.id if application else None
        db.session.remove()
    return person


# -- applicants through the models ---------------------------------------------------------------

@lru_cache(maxsize=4)
def _password_hash(app_id: int, password: str) -> str:
    return hasher().hash(password)


def password_hash(app, password=PASSWORD) -> str:
    return _password_hash(id(app), password)


def _build(app, person: Person, unit_name: str, with_materials: bool, complete: bool):
    """Account, application, sections and materials in the current session (flushed)."""
    account = Account(role=Role.APPLICANT, id_type=RESIDENT_ID, id_number=person.id_number,
                      name=person.name, phone=person.phone, password_hash=password_hash(app))
    db.session.add(account)
    db.session.flush()
    application = Application(account_id=account.id)
    db.session.add(application)
    db.session.flush()
    if complete:
        for key, data in stored_answers(person.county, unit_name).items():
            application.sections.append(Section(key=key, data=data, completed=True))
        applications.set_jurisdiction(application, person.county)
        db.session.flush()
        if with_materials:
            full, thumb = _small_jpeg()
            for spec in materials.required_materials(application):
                db.session.add(Material(
                    application_id=application.id, owner_id=account.id, kind=spec.kind,
                    sha256=sha256(full).hexdigest(), size_bytes=len(full), width=120,
                    height=90, content=full, thumbnail=thumb))
            db.session.flush()
    person.account_id, person.application_id = account.id, application.id
    return account, application


def _set_status(application, status, submitted_at):
    application.status = status
    if submitted_at is not None:
        application.submitted_at = submitted_at
    if status in (ApplicationStatus.APPROVED, ApplicationStatus.REJECTED):
        application.decided_at = application.submitted_at + timedelta(hours=1)


def make_application(app, county="530102", status=ApplicationStatus.PENDING, *,
                     name="张三", id_number=None, phone=None, unit_name="云南某某会计服务有限公司",
                     submitted_at: datetime | None = None, with_materials=True,
                     complete=True) -> Person:
    """An applicant account with a complete application in `county`, in `status`.

    Pending, approved and rejected ones were submitted by `domain.submission.submit` (so the
    factory fails if what it builds is not complete); `submitted_at` then overrides the time."""
    person = Person(id_number or unique_id(county), phone or unique_phone("135"), name,
                    county=county)
    with app.app_context():
        _account, application = _build(app, person, unit_name, with_materials, complete)
        db.session.commit()
        if status != ApplicationStatus.DRAFT:
            assert submission.missing_parts(application) == []
            assert submission.submit(application, "127.0.0.1")
            if status != ApplicationStatus.PENDING or submitted_at is not None:
                _set_status(application, status, submitted_at)
                db.session.commit()
        db.session.remove()
    return person


def make_applications(app, count, county="530102", status=ApplicationStatus.PENDING, *,
                      start: datetime = datetime(2025, 3, 1, 2, 0), step=timedelta(minutes=1),
                      pairs=False, name="张三", unit_name="云南某某会计服务有限公司") -> list[Person]:
    """`count` complete applications in one transaction, submitted `step` apart from `start`
    (two at a time with `pairs`, so that equal times are ordered by id). Each is checked
    complete by domain.submission.missing_parts; the status is set directly (no audit rows)."""
    people = []
    with app.app_context():
        for index in range(count):
            person = Person(unique_id(county), unique_phone("135"), name, county=county)
            _account, application = _build(app, person, unit_name, True, True)
            assert submission.missing_parts(application) == []
            if status != ApplicationStatus.DRAFT:
                _set_status(application, status, start + step * (index // 2 if pairs else index))
            people.append(person)
        db.session.commit()
        db.session.remove()
    return people


def set_submitted_at(app, application_id: int, moment: datetime) -> None:
    with app.app_context():
        db.session.get(Application, application_id).submitted_at = moment
        db.session.commit()
        db.session.remove()


# -- staff ---------------------------------------------------------------------------------------

@dataclass
class Staff:
    id: int
    role: str
    region: str
    id_number: str
    phone: str
    name: str
    password: str = PASSWORD
    extra: dict = field(default_factory=dict)


STAFF_NAMES = {Role.REVIEWER: "李审核", Role.ADMIN: "王管理", Role.AUDITOR: "赵审计"}


def make_staff(app, role=Role.REVIEWER, region="530102", name=None,
               password=PASSWORD) -> Staff:
    """A staff account through domain.staff.create_staff, with a known password and no
    password change pending."""
    id_number, phone = unique_id("530102"), unique_phone("139")
    with app.app_context():
        account, _one_time = staff.create_staff(role, region, id_number,
                                                name or STAFF_NAMES[Role(role)], phone)
        account.must_change_password = False
        account.password_hash = password_hash(app, password)
        db.session.commit()
        result = Staff(account.id, role, region, id_number, phone, account.name, password)
        db.session.remove()
    return result


def log_in(client, person) -> None:
    """Log in through /login (staff also type the code sent to their phone: helpers.login)."""
    response = login(client, person.id_number, person.password)
    assert response.status_code == 303, response.get_data(as_text=True)[-2000:]


def staff_client(app, role=Role.REVIEWER, region="530102", name=None):
    """A new test client logged in as a new staff member: (client, Staff)."""
    member = make_staff(app, role, region, name)
    client = app.test_client()
    log_in(client, member)
    return client, member


def applicant_client(app, person: Person):
    client = app.test_client()
    log_in(client, person)
    return client


# -- account appeals (账号申诉) -------------------------------------------------------------------

def make_appeal(app, person: Person | None = None, kind: str = "taken_id", name: str = "李真",
                phone: str | None = None) -> int:
    """An open appeal with its three photos, stored as domain.appeals.file stores one, against
    `person`'s account (its record's county), or against an unregistered ID number."""
    from domain.appeals import PHOTO_KINDS, _county_of
    from models import Appeal, AppealPhoto
    full, thumb = _small_jpeg()
    with app.app_context():
        account_id = person.account_id if person else None
        county, prefecture = _county_of(account_id or 0)
        appeal = Appeal(kind=kind, id_type=RESIDENT_ID,
                        id_number=person.id_number if person else unique_id(), name=name,
                        phone=phone or unique_phone("136"), statement="本人从未注册，证件号码被他人注册。",
                        status="open", reason="", account_id=account_id,
                        jurisdiction_code=county, prefecture_code=prefecture)
        for photo_kind in PHOTO_KINDS:
            appeal.photos.append(AppealPhoto(kind=photo_kind, sha256=sha256(full).hexdigest(),
                                             size_bytes=len(full), width=120, height=90,
                                             content=full, thumbnail=thumb))
        db.session.add(appeal)
        db.session.commit()
        appeal_id = appeal.id
        db.session.remove()
    return appeal_id


# -- reading the database ------------------------------------------------------------------------

def audit_rows(app, action: str | None = None) -> list[AuditEntry]:
    with app.app_context():
        query = sa.select(AuditEntry).order_by(AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        db.session.remove()
    return rows


def application_row(app, application_id: int) -> dict:
    with app.app_context():
        application = db.session.get(Application, application_id)
        row = {"status": application.status, "submitted_at": application.submitted_at,
               "decided_at": application.decided_at,
               "sections": {s.key: (s.data, s.completed, s.needs_changes)
                            for s in application.sections}}
        db.session.remove()
    return row


def material_ids(app, application_id: int) -> dict[str, int]:
    with app.app_context():
        rows = db.session.execute(sa.select(Material.kind, Material.id).where(
            Material.application_id == application_id)).all()
        db.session.remove()
    return dict(rows)
