"""Answers and people for the materials tests: the four sections answered over HTTP in the
shapes that decide which proof photos are required, and staff logged in on their own client.
Shared by tests/test_materials_http.py and tests/test_work_certificate.py."""
from domain import staff
from extensions import db
from tests.helpers import last_code, login, make_id, registration_data, send_code

ID_NUMBER = make_id()                       # 530102 1990-01-01
PHONE = "13800005551"
CREDIT_CODE = "91110000600037341L"

BASIC = {"ethnicity": "汉族", "political_status": "群众", "address": "昆明市五华区某某路1号"}
EMPLOYED = {"employed": "yes", "unit_name": "云南某某会计服务有限公司",
            "unit_credit_code": CREDIT_CODE, "unit_type": "企业", "unit_prefecture": "530100",
            "unit_county": "530102", "join_date": "2012-07-01",
            "accounting_start_date": "2015-07-01", "posts": ["出纳", "总账"], "duty": ""}
NOT_EMPLOYED = {"employed": "no", "person_category": "待业", "collection_prefecture": "530100",
                "collection_county": "530103"}
STUDENT = {"employed": "no", "person_category": "在校学生", "collection_prefecture": "530100",
           "collection_county": "530102", "school_name": "云南财经大学"}
NO_EDUCATION = {"full_time-has": "no", "part_time-has": "no"}
NO_QUALIFICATION = {"has": "no"}

ALWAYS = ["1寸白底证件照"]
ID_CARD = ["身份证正面", "身份证反面"]
FULL_TIME, PART_TIME = "全日制最高学历（学位）证书", "非全日制最高学历（学位）证书"


def education(full_time=False, part_time=False) -> dict:
    answers = {}
    for prefix, has in (("full_time", full_time), ("part_time", part_time)):
        answers[f"{prefix}-has"] = "yes" if has else "no"
        if has:
            answers.update({f"{prefix}-level": "大学本科", f"{prefix}-degree": "学士",
                            f"{prefix}-school": "云南财经大学", f"{prefix}-major": "会计学",
                            f"{prefix}-graduated_on": "2012-07-01",
                            f"{prefix}-certificate_number": "106891201205000123"})
    return answers


def qualification(*levels) -> dict:
    if not levels:
        return {"has": "no"}
    answers = {"has": "yes"}
    for index, level in enumerate(levels):
        answers.update({f"records-{index}-level": level,
                        f"records-{index}-certificate_number": f"Z20140001{index}",
                        f"records-{index}-obtained_on": "2014-05-20"})
    return answers


# -- people and answers ------------------------------------------------------------------------

def register_applicant(client, outbox, id_number=ID_NUMBER, phone=PHONE, name="张三",
                       id_type="居民身份证"):
    assert send_code(client, "/register", phone).status_code == 200
    response = client.post("/register", data=registration_data(
        id_number, phone, name, id_type=id_type, sms_code=last_code(outbox, phone)))
    assert response.status_code == 303, response.get_data(as_text=True)
    return response


def answer(client, key, answers):
    response = client.post(f"/collection/{key}", data=answers)
    assert response.status_code == 303, (key, response.get_data(as_text=True)[-3000:])


def fill(client, basic=BASIC, work=EMPLOYED, edu=NO_EDUCATION, qual=NO_QUALIFICATION):
    answer(client, "basic", basic)
    answer(client, "work", work)
    answer(client, "education", edu)
    answer(client, "qualification", qual)


STAFF_IDS = iter(range(200, 999))


def staff_client(app, role, region_code):
    """A staff account past its first-login set-up, logged in on its own client."""
    id_number = make_id(region="530102", birth="19800101", seq=f"{next(STAFF_IDS):03d}")
    phone = f"139{next(STAFF_IDS):08d}"
    with app.app_context():
        account, password = staff.create_staff(role, region_code, id_number, "李审核", phone)
        account.must_change_password = False
        db.session.commit()
    client = app.test_client()
    response = login(client, id_number, password)
    assert response.status_code == 303, response.get_data(as_text=True)
    return client
