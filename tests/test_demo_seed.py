"""`flask demo seed`: realistic applicants with valid ID numbers and credit codes, a spread of
statuses, a reviewer per county and prefecture, and a second run that adds more."""
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
    result = seed(app, "--applicants", "300")
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
    assert set(statuses) == set(ApplicationStatus)
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
    result = seed(app, "--applicants", "300")
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
    seed(app, "--applicants", "300")
    first_run = snapshot(app)
    result = seed(app, "--applicants", "300")
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
