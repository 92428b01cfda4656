#!/usr/bin/env python3
"""Data for a surge or fault run, prepared before the clock starts, and the plan the load
generator reads (JSON: who logs in with what, which answers, which pictures).

Run with the services' own environment (bench/surge/shape.py passes $RUN/staging.env):

    python bench/surge/seed.py --out PLAN.json [--background 100000] [--sitting 1500] ...

What it makes, in the database of the prod-local shape:
- the background (once, topped up): `domain.demo.seed_applicants` — applications across all
  129 counties, 45 % pending, 25 % approved; "most people already registered";
- reviewers (once): two county reviewers in each of --counties counties and one per prefecture
  of those counties, straight in `accounts` with a known password (no change pending);
- per run, in those counties: a review queue (--queue pending applications per county, with
  their six materials) and --sitting applicants who did most of the work in an earlier sitting
  (four sections saved, three of six materials uploaded): this sitting re-saves the sections,
  uploads the degree and the qualification certificate and the 1-inch photo, and submits;
- per run, --http-registrations people registered over HTTPS through nginx, exactly as a phone
  does (captcha TEST, the code read from the SMS outbox the worker writes): their sitting fills
  everything and uploads all six materials.
Bulk rows are inserted with one argon2 hash computed here, as `domain.demo` does."""
import argparse
import io
import json
import random
import re
import sys
import time
from datetime import date, timedelta
from hashlib import sha256
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from PIL import Image, ImageDraw, ImageFilter  # noqa: E402

from app import create_app  # noqa: E402
from domain import demo  # noqa: E402
from domain.images import ImageRules, process_document, process_id_photo  # noqa: E402
from domain.review import COMMON_REASONS  # noqa: E402
from extensions import db  # noqa: E402
from models import (  # noqa: E402
    Account,
    Application,
    ApplicationStatus,
    Material,
    Region,
    RegionLevel,
    Role,
    Section,
    utcnow,
)
from tests.factories import (  # noqa: E402
    document_jpeg,
    form_answers,
    portrait_jpeg,
    stored_answers,
)

PASSWORD = "Surge#2026kj"            # sitting applicants, HTTP registrants and reviewers
SEEDED_KINDS = ("id_front", "id_back", "work_proof")
SITTING_UPLOADS = ("education_full_time", "qualification_junior", "id_photo")
ALL_UPLOADS = ("id_photo", "id_front", "id_back", "work_proof", "education_full_time",
               "qualification_junior")
DOCUMENT_BYTES = 150 * 1024


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="where to write the plan (JSON)")
    parser.add_argument("--host", required=True, help="https://127.0.0.1:PORT (nginx)")
    parser.add_argument("--ca", required=True, help="nginx's certificate, used as the CA")
    parser.add_argument("--sms-log", required=True,
                        help="where codes arrive: the outbox, or the Twilio stand-in's log")
    parser.add_argument("--background", type=int, default=100_000)
    parser.add_argument("--counties", type=int, default=20,
                        help="counties with bench reviewers and this run's applicants")
    parser.add_argument("--queue", type=int, default=20, help="pending applications per county")
    parser.add_argument("--sitting", type=int, default=1500)
    parser.add_argument("--http-registrations", type=int, default=20)
    parser.add_argument("--returning", type=int, default=3000,
                        help="background accounts with a submitted application, for status checks")
    return parser.parse_args()


def log(message: str) -> None:
    print(f"[seed {time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- pictures -------------------------------------------------------------------------------

def document_photo(target: int = DOCUMENT_BYTES) -> bytes:
    """A phone's photo of a certificate: 1600×1200, paper grain, lines, a seal; ≈ 150 KB."""
    rng = random.Random(7)
    width, height = 1600, 1200
    grain = Image.effect_noise((width, height), 18).filter(ImageFilter.GaussianBlur(0.6))
    paper = Image.merge("RGB", [grain.point(lambda v, s=s: 200 + s + v // 8) for s in (20, 18, 10)])
    draw = ImageDraw.Draw(paper)
    for y in range(120, 1080, 48):
        x = 140
        while x < 1460:  # "text": short dark strokes of varying length
            length = rng.randint(12, 60)
            draw.line((x, y, x + length, y + rng.randint(-2, 2)), fill=(50, 50, 60), width=4)
            x += length + rng.randint(8, 24)
    draw.ellipse((1150, 800, 1400, 1050), outline=(200, 30, 30), width=10)
    best = b""
    for quality in range(20, 96, 4):
        buffer = io.BytesIO()
        paper.save(buffer, "JPEG", quality=quality)
        if abs(buffer.tell() - target) < abs(len(best) - target):
            best = buffer.getvalue()
    return best


def write_pictures(folder: Path) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    document, portrait = folder / "document-150k.jpg", folder / "portrait.jpg"
    if not document.exists():
        document.write_bytes(document_photo())
    portrait.write_bytes(portrait_jpeg())
    return {"document": str(document), "portrait": str(portrait),
            "document_bytes": document.stat().st_size, "portrait_bytes": portrait.stat().st_size}


# -- rows -----------------------------------------------------------------------------------

def next_id(model) -> int:
    return (db.session.scalar(sa.select(sa.func.max(model.id))) or 0) + 1


def fix_sequences() -> None:
    for table in ("accounts", "applications", "application_sections", "materials"):
        db.session.execute(sa.text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
    db.session.commit()


def bench_counties(count: int) -> list[str]:
    codes = list(db.session.scalars(sa.select(Region.code).where(
        Region.level == RegionLevel.COUNTY).order_by(Region.code)))
    step = max(1, len(codes) // count)
    return codes[::step][:count]


def ensure_reviewers(counties: list[str], password_hash: str) -> list[dict]:
    """Two reviewers per county bureau and one per prefecture bureau, with fixed ID numbers."""
    plan = [(county, slot) for county in counties for slot in (0, 1)]
    plan += [(prefecture, 0) for prefecture in sorted({c[:4] + "00" for c in counties})]
    reviewers = []
    for index, (region, slot) in enumerate(plan):
        id_number = demo.make_id_number("530102", date(1975, 1, 1) + timedelta(days=index), 970 + slot)
        account = db.session.scalar(sa.select(Account).where(Account.id_number == id_number))
        if account is None:
            account = Account(role=Role.REVIEWER, id_type="居民身份证", id_number=id_number,
                              name="压测审核员", phone=f"1980000{index:04d}", region_code=region)
            db.session.add(account)
        account.password_hash = password_hash
        account.must_change_password = False
        account.failed_logins = 0
        reviewers.append({"id": id_number, "region": region, "phone": account.phone,
                          "counties": [region] if region[4:] != "00"
                          else [c for c in counties if c[:4] == region[:4]]})
    db.session.commit()
    return reviewers


def stored_material(image, kind: str, application_id: int, account_id: int, now) -> dict:
    return dict(application_id=application_id, owner_id=account_id, kind=kind,
                sha256=sha256(image.data).hexdigest(), size_bytes=len(image.data),
                width=image.width, height=image.height, content=image.data,
                thumbnail=image.thumbnail, notes="", uploaded_at=now)


def insert_people(counties: list[str], count: int, password_hash: str, *, pending: bool,
                  kinds, images: dict) -> list[dict]:
    """`count` applicants spread over `counties`: four sections done and `kinds` uploaded;
    submitted (pending, within the last three days) or still a draft."""
    first_account, first_application = next_id(Account), next_id(Application)
    now = utcnow()
    accounts, applications, sections, materials, people = [], [], [], [], []
    for offset in range(count):
        account_id, application_id = first_account + offset, first_application + offset
        county = counties[offset % len(counties)]
        # Births in the 1950s: the demo's start in 1960, so the numbers never collide.
        id_number = demo.make_id_number(county, date(1950, 1, 1) + timedelta(days=account_id % 3650),
                                        (account_id // 3650) % 1000)
        accounts.append(dict(
            id=account_id, role=Role.APPLICANT, id_type="居民身份证", id_number=id_number,
            name="压测申报人", phone=f"17{account_id % 10**9:09d}", password_hash=password_hash,
            must_bind_phone=False, must_change_password=False, is_enabled=True,
            failed_logins=0, imported=False, created_at=now, password_changed_at=now))
        submitted = now - timedelta(minutes=random.randrange(3 * 24 * 60)) if pending else None
        applications.append(dict(
            id=application_id, account_id=account_id,
            status=ApplicationStatus.PENDING if pending else ApplicationStatus.DRAFT,
            jurisdiction_code=county, prefecture_code=county[:4] + "00", submitted_at=submitted,
            created_at=now, updated_at=now))
        for key, data in stored_answers(county).items():
            sections.append(dict(application_id=application_id, key=key, data=data,
                                 completed=True, needs_changes=False, draft=None, updated_at=now))
        for kind in kinds:
            image = images["photo" if kind == "id_photo" else "document"]
            materials.append(stored_material(image, kind, application_id, account_id, now))
        people.append({"id": id_number, "county": county})
    for model, rows in ((Account, accounts), (Application, applications), (Section, sections),
                        (Material, materials)):
        for start in range(0, len(rows), 2000):
            db.session.execute(sa.insert(model), rows[start:start + 2000])
    db.session.commit()
    fix_sequences()
    return people


def returning_people(limit: int) -> list[str]:
    """Background (demo) accounts whose application is submitted: they come back to see the
    result. Only the demo's know the demo password: the bench's own people (named 压测申报人,
    or registered with an ID born outside Yunnan) are left out."""
    return list(db.session.scalars(
        sa.select(Account.id_number).join(Application, Application.account_id == Account.id)
        .where(Application.status != ApplicationStatus.DRAFT, Account.name != "压测申报人",
               Account.id_number.like("53%"), Account.role == Role.APPLICANT)
        .order_by(sa.func.random()).limit(limit)))


# -- registration over HTTPS ------------------------------------------------------------------

def http_registrations(args, counties: list[str], count: int) -> list[dict]:
    """Register through nginx like a phone: send a code (captcha TEST), read it from where the
    SMS backend delivers it, submit the form; a 303 is a registered, logged-in person."""
    import requests
    rng = random.SystemRandom()
    people, started = [], time.monotonic()
    for index in range(count):
        session = requests.Session()
        session.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would override verify
        session.verify = args.ca
        county = counties[index % len(counties)]
        id_number = demo.make_id_number("110101", date(1960, 1, 1) + timedelta(days=rng.randrange(14000)),
                                        rng.randrange(1000))
        phone = f"166{rng.randrange(10**8):08d}"
        token = re.search(r'name="csrf_token" value="([^"]+)"',
                          session.get(args.host + "/register", timeout=30).text).group(1)
        headers = {"Referer": args.host + "/register"}
        sent = session.post(args.host + "/register/send-code", headers=headers, timeout=30,
                            data={"csrf_token": token, "phone": phone, "captcha": "TEST"})
        if sent.status_code != 200:
            raise SystemExit(f"send_code answered {sent.status_code}: {sent.text[-500:]}")
        code = wait_for_code(Path(args.sms_log), phone)
        answer = session.post(args.host + "/register", headers=headers, timeout=30,
                              allow_redirects=False, data={
            "csrf_token": token, "id_type": "居民身份证", "id_number": id_number, "name": "王芳",
            "phone": phone, "captcha": "TEST", "sms_code": code, "password": PASSWORD,
            "password2": PASSWORD, "consent": "y"})
        if answer.status_code != 303:
            raise SystemExit(f"register answered {answer.status_code}: {answer.text[-500:]}")
        people.append({"id": id_number, "county": county})
    log(f"{count} registered over HTTPS in {time.monotonic() - started:.1f} s")
    return people


def wait_for_code(path: Path, phone: str, seconds: float = 30) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists():
            for line in reversed(path.read_text(encoding="utf-8").splitlines()):
                message = json.loads(line)
                if message["to"].removeprefix("+86") == phone:
                    found = re.search(r"验证码(\d{6})", message["body"])
                    if found:
                        return found.group(1)
        time.sleep(0.2)
    raise SystemExit(f"no code for {phone} in {path} within {seconds} s")


# -- the plan -------------------------------------------------------------------------------

def main():
    args = parse_args()
    app = create_app()
    rules = ImageRules.from_config(app.config)
    pictures = write_pictures(args.out.resolve().parent / "pictures")
    images = {"document": process_document(document_jpeg(), rules),
              "photo": process_id_photo(portrait_jpeg(), rules)}
    with app.app_context():
        password_hash = demo.hasher().hash(PASSWORD)
        existing = db.session.scalar(sa.select(sa.func.count(Application.id)))
        if existing < args.background:
            started = time.monotonic()
            demo.seed_applicants(args.background - existing, seed=existing, photos=0)
            fix_sequences()
            log(f"background: {args.background - existing} applications added in "
                f"{time.monotonic() - started:.0f} s")
        counties = bench_counties(args.counties)
        reviewers = ensure_reviewers(counties, password_hash)
        started = time.monotonic()
        insert_people(counties, args.queue * len(counties), password_hash, pending=True,
                      kinds=ALL_UPLOADS, images=images)
        sitting = insert_people(counties, args.sitting, password_hash, pending=False,
                                kinds=SEEDED_KINDS, images=images)
        log(f"{args.queue * len(counties)} pending with materials, {args.sitting} half-done "
            f"sittings, {len(reviewers)} reviewers: {time.monotonic() - started:.1f} s")
        returning = returning_people(args.returning)
        totals = {row[0]: row[1] for row in db.session.execute(
            sa.select(Application.status, sa.func.count()).group_by(Application.status))}
    registered = http_registrations(args, counties, args.http_registrations)
    for person in sitting:
        person["uploads"] = list(SITTING_UPLOADS)
    for person in registered:
        person["uploads"] = list(ALL_UPLOADS)
    plan = {
        "host": args.host, "ca": args.ca, "sms_log": args.sms_log, "captcha": "TEST",
        "password": PASSWORD, "demo_password": demo.DEMO_PASSWORD, "pictures": pictures,
        "answers": {county: form_answers(county) for county in counties},
        "applicants": registered + sitting, "returning": returning, "reviewers": reviewers,
        "reject_reasons": COMMON_REASONS[:1], "applications": totals,
    }
    args.out.write_text(json.dumps(plan, ensure_ascii=False, indent=1), encoding="utf-8")
    log(f"plan: {args.out} (applications by status: {totals})")


if __name__ == "__main__":
    main()
