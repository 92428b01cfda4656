"""Demo data: realistic applications across Yunnan's counties, bulk-inserted so that 500,000 of
them load in minutes, with a reviewer per county and per prefecture, one for the province, an
administrator and an auditor. For demos and the list benchmark; never for production."""
import random
from datetime import date, timedelta

import sqlalchemy as sa
from stdnum.cn import ric, uscc

from domain import demo_images
from domain.accounts import hasher
from domain.answers import BasicAnswers, Employer, WorkAnswers
from domain.choices import ACCOUNTING_POSTS, ETHNIC_GROUPS
from domain.regions import division
from extensions import db
from models import (
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

DEMO_PASSWORD = "Demo#2026kj"
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红燕玲兰飞鹏波辉梅琳建国志红春晓云海燕丹宇浩然子涵欣怡思远俊杰文博雨婷梓萱"
STATUS_WEIGHTS = [(ApplicationStatus.DRAFT, 15), (ApplicationStatus.PENDING, 45),
                  (ApplicationStatus.APPROVED, 25), (ApplicationStatus.REJECTED, 15)]
BATCH = 5000
PHOTOS = 300    # applications given photos by default: a reviewer trains on these
PHOTO_AGE = timedelta(days=61)   # …and they are the oldest submissions, first in the queue


def make_id_number(region: str, born: date, sequence: int) -> str:
    body = f"{region}{born:%Y%m%d}{sequence % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def make_credit_code(rng: random.Random, county: str) -> str:
    body = f"91{county}" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    return body + uscc.calc_check_digit(body)


def _counties() -> list[str]:
    return list(db.session.scalars(sa.select(Region.code).where(Region.level == RegionLevel.COUNTY)
                                   .order_by(Region.code)))


def _next_id(model) -> int:
    return (db.session.scalar(sa.select(sa.func.max(model.id))) or 0) + 1


class NoRegions(RuntimeError):
    """Demo staff need Yunnan's regions in the database."""


def staff_plan() -> list[tuple[str, Region, str]]:
    """(role, region, ID number) of every demo staff account: a reviewer per region, an
    administrator and an auditor. The numbers follow from the regions alone, so the logins can
    be listed again later (`flask demo logins`)."""
    regions = list(db.session.scalars(sa.select(Region).order_by(Region.code)))
    if not regions:
        raise NoRegions("the regions are not loaded: run `make db` (flask regions load) first")
    plan = [(Role.REVIEWER, r) for r in regions] + \
        [(Role.ADMIN, regions[0]), (Role.AUDITOR, regions[0])]
    return [(role, region,
             make_id_number("530102", date(1980, 1, 1) + timedelta(days=index), 900))
            for index, (role, region) in enumerate(plan)]


def seed_staff(password_hash: str) -> list[tuple[str, str, str]]:
    """A reviewer per county and prefecture, one for the province, an admin and an auditor.
    Returns (role, bureau, id_number) for each account created."""
    existing = set(db.session.scalars(sa.select(Account.id_number)))
    created = []
    for index, (role, region, id_number) in enumerate(staff_plan()):
        if id_number in existing:
            continue
        db.session.add(Account(role=role, id_type="居民身份证", id_number=id_number,
                               name=f"{region.name[:4]}{'审核员' if role == Role.REVIEWER else '管理'}",
                               phone=f"199{index:08d}", password_hash=password_hash,
                               region_code=region.code))
        created.append((role, region.bureau_name, id_number))
    db.session.commit()
    return created


def staff_logins() -> list[tuple[str, str, str]]:
    """(role, bureau, ID number) of the demo staff accounts in the database."""
    existing = set(db.session.scalars(sa.select(Account.id_number).where(
        Account.role != Role.APPLICANT)))
    return [(role, region.bureau_name, id_number) for role, region, id_number in staff_plan()
            if id_number in existing]


def _materials(application: dict, account: dict, basic: BasicAnswers, work: WorkAnswers,
               born: date, now) -> list[dict]:
    """Material rows for the photos a demo application requires, drawn for this person."""
    county = division(application["jurisdiction_code"])
    person = dict(name=account["name"], id_number=account["id_number"],
                  gender="男" if int(account["id_number"][16]) % 2 else "女",
                  ethnicity=basic.ethnicity, born=born, address=basic.address,
                  county_name=county.name if county else "", unit_name=work.employer.name)
    return [dict(application_id=application["id"], owner_id=account["id"], kind=kind,
                 pending=False, sha256=image.sha256, size_bytes=image.size, width=image.width,
                 height=image.height, content=image.data, thumbnail=image.thumbnail,
                 notes="；".join(image.fixes), uploaded_at=now)
            for kind, image in demo_images.materials_for(person).items()]


def seed_applicants(count: int, seed: int = 2026, progress=None,
                    photos: int = PHOTOS) -> int:
    """`count` applicants; the first `photos` of them that are submitted get generated photos
    (演示样例: an ID card with their name and number, a 1-inch portrait, a stamped 工作证明) and
    are submitted earlier than the rest, so the pending queue starts with them."""
    rng = random.Random(seed)
    counties = _counties()
    password_hash = hasher().hash(DEMO_PASSWORD)
    first_account, first_application = _next_id(Account), _next_id(Application)
    now = utcnow()
    statuses = [s for s, w in STATUS_WEIGHTS for _ in range(w)]
    done = 0
    while done < count:
        size = min(BATCH, count - done)
        accounts, applications, sections, materials = [], [], [], []
        for offset in range(size):
            account_id, application_id = first_account + done + offset, \
                first_application + done + offset
            n = application_id - 1  # continues across runs, so a second seed adds new IDs
            county = counties[n % len(counties)]
            born = date(1960, 1, 1) + timedelta(days=(n * 7919) % 16000)
            accounts.append(dict(
                id=account_id, role=Role.APPLICANT, id_type="居民身份证",
                id_number=make_id_number(county, born, n // 16000),
                name=rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))),
                phone=f"13{(account_id % 10**9):09d}", password_hash=password_hash,
                must_bind_phone=False, must_change_password=False, is_enabled=True,
                failed_logins=0, imported=False, created_at=now, password_changed_at=now))
            status = rng.choice(statuses)
            with_photos = status != ApplicationStatus.DRAFT and photos > 0
            submitted = None if status == ApplicationStatus.DRAFT else \
                now - timedelta(seconds=rng.randrange(60 * 24 * 3600)) - \
                (PHOTO_AGE if with_photos else timedelta())
            applications.append(dict(
                id=application_id, account_id=account_id, status=status,
                jurisdiction_code=county, prefecture_code=county[:4] + "00",
                submitted_at=submitted,
                decided_at=submitted + timedelta(days=1) if status in (
                    ApplicationStatus.APPROVED, ApplicationStatus.REJECTED) else None,
                created_at=now, updated_at=now))
            work = WorkAnswers(employer=Employer(
                name=f"{rng.choice(SURNAMES)}氏商贸有限公司",
                credit_code=make_credit_code(rng, county), unit_type="企业",
                prefecture=county[:4] + "00", county=county, join_date=None,
                accounting_start_date=date(2015, 7, 1),
                posts=tuple(rng.sample(ACCOUNTING_POSTS, 2))))
            basic = BasicAnswers(ethnicity=rng.choice(ETHNIC_GROUPS[:8]), political_status="群众",
                                 address="云南省昆明市五华区人民中路1号")
            for key, given in (("work", work), ("basic", basic)):
                sections.append(dict(
                    application_id=application_id, key=key, completed=True, needs_changes=False,
                    updated_at=now, draft=None, data=given.to_stored()))
            if with_photos:
                materials += _materials(applications[-1], accounts[-1], basic, work, born, now)
                photos -= 1
        db.session.execute(sa.insert(Account), accounts)
        db.session.execute(sa.insert(Application), applications)
        db.session.execute(sa.insert(Section), sections)
        if materials:
            db.session.execute(sa.insert(Material), materials)
        db.session.commit()
        done += size
        if progress:
            progress(done)
    _fix_sequences()
    return done


def _fix_sequences() -> None:
    """Explicit ids leave PostgreSQL's sequences behind; move them past the new rows."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for table in ("accounts", "applications", "application_sections", "materials"):
        db.session.execute(sa.text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
    db.session.commit()
