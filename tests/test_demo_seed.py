"""`flask demo seed`: realistic applicants with valid ID numbers and credit codes, a spread of
statuses, a reviewer per county and prefecture, and a second run that adds more."""
import io
import re
from collections import Counter

import sqlalchemy as sa
from stdnum.cn import ric

from domain import credit_codes, demo
from domain.id_numbers import RESIDENT_ID
from domain.id_numbers import validate as validate_id
from domain.sections import first
from extensions import db
from models import Account, Application, ApplicationStatus, Region, RegionLevel, Role, Section
from tests.helpers import login


def seed(app, *args):
    result = app.test_cli_runner().invoke(args=["demo", "seed", *args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def snapshot(app) -> dict:
    with app.app_context():
        applicants = db.session.execute(
            sa.select(Account.id_number, Account.phone, Account.name)
            .where(Account.role == Role.APPLICANT)).all()
        staff = db.session.execute(sa.select(Account.role, Account.region_code, Account.id_number)
                                   .where(Account.role != Role.APPLICANT)).all()
        applications = db.session.execute(sa.select(
            Application.status, Application.jurisdiction_code, Application.prefecture_code,
            Application.submitted_at, Application.decided_at)).all()
        work = [s.data for s in db.session.scalars(sa.select(Section).where(Section.key == "work"))]
        regions = {r.code: r.level for r in db.session.scalars(sa.select(Region))}
        db.session.remove()
    return dict(applicants=applicants, staff=staff, applications=applications, work=work,
                regions=regions)


def test_seed_300(app):
    result = seed(app, "--applicants", "300", "--photos", "0")
    data = snapshot(app)

    # 300 applicants, each with a valid, unique 居民身份证 number and phone
    assert len(data["applicants"]) == 300
    numbers = [row.id_number for row in data["applicants"]]
    assert len(set(numbers)) == 300
    for number in numbers:
        assert len(number) == 18
        assert ric.calc_check_digit(number) == number[-1], number
        assert validate_id(RESIDENT_ID, number) == number
    assert len({row.phone for row in data["applicants"]}) == 300

    # unit credit codes pass GB 32100
    assert len(data["work"]) == 300
    for answers in data["work"]:
        code = first(answers, "unit_credit_code")
        assert credit_codes.validate(code) == code
        assert first(answers, "unit_county")

    # a spread of statuses; submitted ones carry their times and 属地
    statuses = Counter(row.status for row in data["applications"])
    assert set(statuses) == {ApplicationStatus.DRAFT, ApplicationStatus.PENDING,
                             ApplicationStatus.APPROVED, ApplicationStatus.REJECTED}
    assert all(count >= 15 for count in statuses.values()), statuses
    for row in data["applications"]:
        assert data["regions"][row.jurisdiction_code] == RegionLevel.COUNTY
        assert row.prefecture_code == row.jurisdiction_code[:4] + "00"
        assert (row.submitted_at is None) == (row.status == ApplicationStatus.DRAFT)
        assert (row.decided_at is not None) == (row.status in (ApplicationStatus.APPROVED,
                                                               ApplicationStatus.REJECTED))
    assert len({row.jurisdiction_code for row in data["applications"]}) > 100

    # a reviewer for every county, prefecture and the province; an admin and an auditor
    reviewer_regions = Counter(region for role, region, _n in data["staff"]
                               if role == Role.REVIEWER)
    assert set(reviewer_regions) == set(data["regions"])
    assert set(reviewer_regions.values()) == {1}
    roles = Counter(role for role, _region, _n in data["staff"])
    assert roles[Role.ADMIN] == 1 and roles[Role.AUDITOR] == 1
    for _role, _region, number in data["staff"]:
        assert validate_id(RESIDENT_ID, number) == number

    # the output: the password and every staff login ID
    assert f"Every demo account's password: {demo.DEMO_PASSWORD}" in result.output
    assert "300 applicants and 148 staff" in result.output
    logins = re.findall(r"log in with ID (\S+)", result.output)
    assert sorted(logins) == sorted(number for _role, _region, number in data["staff"])
    assert "五华区财政局" in result.output and "云南省财政厅" in result.output


def _login_id(output, bureau, role="reviewer"):
    match = re.search(rf"^\s*{role}\s+{bureau}\s+log in with ID (\S+)$", output, re.M)
    assert match, output[:2000]
    return match.group(1)


def test_seeded_reviewer_logs_in_and_reviews(app):
    result = seed(app, "--applicants", "300", "--photos", "0")
    id_number = _login_id(result.output, "五华区财政局")
    client = app.test_client()
    assert login(client, id_number, demo.DEMO_PASSWORD).status_code == 303
    page = client.get("/review").get_data(as_text=True)
    with app.app_context():
        pending = db.session.scalar(sa.select(sa.func.count()).select_from(Application).where(
            Application.jurisdiction_code == "530102",
            Application.status == ApplicationStatus.PENDING))
        one = db.session.scalar(sa.select(Application.id).where(
            Application.jurisdiction_code == "530102",
            Application.status == ApplicationStatus.PENDING).limit(1))
        db.session.remove()
    assert pending >= 1
    assert f"共 {pending} 条" in page
    # a demo application opens (it has only 基本信息 and 工作信息)
    detail = client.get(f"/review/{one}")
    assert detail.status_code == 200 and "工作信息" in detail.get_data(as_text=True)
    assert client.get("/review/progress").status_code == 200
    assert client.get("/review/export.xlsx").status_code == 200


def test_seeding_twice_adds_more(app):
    seed(app, "--applicants", "300", "--photos", "0")
    first_run = snapshot(app)
    result = seed(app, "--applicants", "300", "--photos", "5")
    second_run = snapshot(app)
    assert len(second_run["applicants"]) == 600
    assert len({row.id_number for row in second_run["applicants"]}) == 600
    assert len({row.phone for row in second_run["applicants"]}) == 600
    assert len(second_run["applications"]) == 600
    # staff are not duplicated
    assert sorted(second_run["staff"]) == sorted(first_run["staff"])
    assert "300 applicants and 0 staff" in result.output
    for number in (row.id_number for row in second_run["applicants"]):
        assert ric.calc_check_digit(number) == number[-1]
    # ids keep working afterwards: an ordinary insert after the explicit-id bulk insert
    from tests.factories import make_application
    make_application(app, "530102")


def test_seed_zero_applicants_only_staff(app):
    result = seed(app, "--applicants", "0")
    data = snapshot(app)
    assert data["applicants"] == [] and len(data["staff"]) == 148
    assert "0 applicants and 148 staff" in result.output


def test_demo_applications_first_in_the_queue_have_generated_photos(app):
    from PIL import Image

    from domain import materials
    seed(app, "--applicants", "60", "--photos", "12")
    with app.app_context():
        submitted = list(db.session.scalars(
            sa.select(Application).where(Application.status != ApplicationStatus.DRAFT)
            .order_by(Application.submitted_at)))
        with_photos = [a for a in submitted if materials.present_kinds(a)]
        assert len(with_photos) == 12 and submitted[:12] == with_photos   # oldest first
        for application in with_photos:
            assert materials.present_kinds(application) == {
                "id_photo", "id_front", "id_back", "work_proof"}
            assert materials.all_present(application)
        shown = materials.materials_of(with_photos[0])
        photo = Image.open(io.BytesIO(shown["id_photo"].content))
        assert photo.size == (295, 413) and shown["id_photo"].size_bytes <= 20 * 1024
        card = Image.open(io.BytesIO(shown["id_front"].content))
        assert card.size == (642, 405) and shown["id_front"].size_bytes <= 200 * 1024
        first_pending = next(a for a in with_photos if a.status == ApplicationStatus.PENDING)
        county, pending_id = first_pending.jurisdiction_code, first_pending.id
        db.session.remove()
    # the reviewer of that county sees photo tiles, not 未上传
    with app.app_context():
        from domain.demo import staff_logins
        [(_role, _bureau, reviewer)] = [
            row for row in staff_logins() if row[0] == Role.REVIEWER and
            db.session.scalar(sa.select(Account.region_code).where(
                Account.id_number == row[2])) == county]
        db.session.remove()
    client = app.test_client()
    assert login(client, reviewer, demo.DEMO_PASSWORD).status_code == 303
    detail = client.get(f"/review/{pending_id}").get_data(as_text=True)
    assert "未上传" not in detail
    image = re.search(r'src="(/media/[^"]+)"', detail)
    assert image and client.get(image.group(1)).status_code == 200


def test_demo_logins_lists_the_staff_again(app):
    first = seed(app, "--applicants", "0")
    listed = app.test_cli_runner().invoke(args=["demo", "logins"])
    assert listed.exit_code == 0
    assert sorted(re.findall(r"log in with ID (\S+)", listed.output)) == \
        sorted(re.findall(r"log in with ID (\S+)", first.output))
    only = app.test_cli_runner().invoke(args=["demo", "logins", "--bureau", "五华区"])
    assert re.findall(r"log in with ID (\S+)", only.output) == [
        _login_id(first.output, "五华区财政局")]
    assert f"password: {demo.DEMO_PASSWORD}" in only.output


def test_demo_logins_before_a_seed_says_what_to_do(app):
    listed = app.test_cli_runner().invoke(args=["demo", "logins"])
    assert listed.exit_code != 0 and "flask demo seed" in listed.output
