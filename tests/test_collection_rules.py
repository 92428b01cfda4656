"""Each section's own rules over HTTP: 基本信息 (account data read-only, identity derived or asked,
lists, lengths, escaping), 工作信息 (在岗 or not, credit code, prefecture/county pairs, dates,
posts, the refresh action and the derived 属地), 学历信息 (two blocks, 有/无) and 专业技术资格信息
(records, add/remove, one record per level, the archive of existing accountants)."""
from datetime import timedelta

import pytest

from domain import choices, clock
from domain.archive_import import import_rows
from domain.initial_password import derive as initial_password
from domain.regions import counties_of, prefectures
from tests.collection_pages import (
    CREDIT_CODE,
    ID_NUMBER,
    NAME,
    PHONE,
    STORED,
    VALID,
    Page,
    account_of,
    database,
    page_of,
    save,
    section_row,
    snapshot,
    task_statuses,
    text_of,
)
from tests.helpers import (
    PASSWORD,
    htmx,
    last_code,
    login,
    make_id,
    register,
    registration_data,
    send_code,
)

TODAY = clock.today()  # Beijing time, as the forms judge it
TOMORROW = (TODAY + timedelta(days=1)).isoformat()
DATE_FORMAT = "日期格式应为“年-月-日”，如2015-07-01"
FUTURE = "日期不能晚于今天"
PASSPORT = "E12345678"
PASSPORT_PHONE = "13800002222"


def post(client, key, data, status=422, **headers):
    response = client.post(f"/collection/{key}", data=data, headers=headers)
    assert response.status_code == status, (response.status_code, text_of(response)[-3000:])
    return page_of(response) if status != 303 else response


def errors(client, key, data) -> dict:
    return post(client, key, data).errors


def stored(app, key, id_number=ID_NUMBER) -> dict | None:
    row = section_row(app, key, id_number)
    return row["data"] if row else None


@pytest.fixture
def foreigner(client, outbox):
    """An accountant registered with a passport: no birth date or gender in the number."""
    assert send_code(client, "/register", PASSPORT_PHONE).status_code == 200
    response = client.post("/register", data=registration_data(
        PASSPORT, PASSPORT_PHONE, name="John Smith", id_type="护照",
        sms_code=last_code(outbox, PASSPORT_PHONE)))
    assert response.status_code == 303, text_of(response)
    return client


# == 基本信息 =====================================================================================

BASIC = VALID["basic"]


def test_basic_shows_account_data_read_only(applicant):
    page = page_of(applicant.get("/collection/basic"))
    for shown in (NAME, "居民身份证", ID_NUMBER, PHONE, "男", "1990-01-01"):
        assert f"<dd>{shown}</dd>" in page.html, shown
    assert page.controls == {"ethnicity", "political_status", "address", "email"}


def test_basic_derives_gender_and_birth_date_from_the_id(client, outbox):
    id_number = make_id("530102", "19850615", "124")
    assert register(client, outbox, id_number, "13800003333", name="李丽").status_code == 303
    page = page_of(client.get("/collection/basic"))
    assert "<dd>女</dd>" in page.html and "<dd>1985-06-15</dd>" in page.html
    assert "gender" not in page.controls and "birth_date" not in page.controls


def test_basic_ignores_account_data_status_and_jurisdiction_in_the_request(applicant, app):
    before = snapshot(app)
    response = applicant.post("/collection/basic", data={
        **BASIC, "name": "李四", "id_number": make_id(seq="999"), "id_type": "护照",
        "phone": "13999999999", "status": "approved", "jurisdiction_code": "530111",
        "gender": "女", "birth_date": "2000-01-01", "completed": "false",
        "needs_changes": "true", "role": "admin", "account_id": "99", "key": "work"})
    assert response.status_code == 303
    after = snapshot(app)
    assert after["account"] == before["account"]
    assert after["status"] == "draft" and after["jurisdiction"] is None
    assert list(after["sections"]) == ["basic"]
    assert stored(app, "basic") == STORED["basic"]
    html = text_of(applicant.get("/collection/basic"))
    assert f"<dd>{NAME}</dd>" in html and "<dd>男</dd>" in html


def test_passport_holder_types_gender_and_birth_date(foreigner, app):
    page = page_of(foreigner.get("/collection/basic"))
    assert {"gender", "birth_date"} <= page.controls
    assert page.options["gender"] == ["男", "女"]
    assert errors(foreigner, "basic", BASIC) == {"gender": "请选择性别",
                                                  "birth_date": "请填写出生日期"}
    post(foreigner, "basic", {**BASIC, "gender": "女", "birth_date": "1988-08-08"}, 303)
    assert stored(app, "basic", PASSPORT) == {"gender": ["女"], "birth_date": ["1988-08-08"],
                                    **STORED["basic"]}
    page = page_of(foreigner.get("/collection/basic"))
    assert page.value("gender") == "女" and page.value("birth_date") == "1988-08-08"


@pytest.mark.parametrize("gender, birth_date, expected", [
    ("未知", "1988-08-08", {"gender": "请选择性别"}),
    ("男", TOMORROW, {"birth_date": FUTURE}),
    ("男", "1988-02-30", {"birth_date": DATE_FORMAT}),
    ("男", "八八年", {"birth_date": DATE_FORMAT}),
    ("男", "1899-12-31", {"birth_date": "日期不正确，请核对年份"}),
])
def test_passport_gender_and_birth_date_rules(foreigner, gender, birth_date, expected):
    assert errors(foreigner, "basic", {**BASIC, "gender": gender,
                                       "birth_date": birth_date}) == expected


def test_typed_dates_are_stored_as_iso_dates(foreigner, app):
    post(foreigner, "basic", {**BASIC, "gender": "男", "birth_date": "1988/08/08"}, 303)
    assert stored(app, "basic", PASSPORT)["birth_date"] == ["1988-08-08"]


def test_ethnicity_is_one_of_the_56_groups_or_other(applicant, app):
    assert len(choices.ETHNIC_GROUPS) == len(set(choices.ETHNIC_GROUPS)) == 56
    page = page_of(applicant.get("/collection/basic"))
    assert page.options["ethnicity"] == [""] + choices.ETHNIC_GROUPS + ["其他", "外国血统"]
    for ethnicity in choices.ETHNICITY_CHOICES:
        post(applicant, "basic", {**BASIC, "ethnicity": ethnicity}, 303)
        assert stored(app, "basic")["ethnicity"] == [ethnicity]


@pytest.mark.parametrize("ethnicity", ["", "汉", "Han", "穿青人", "汉族 ", "其它"])
def test_ethnicity_outside_the_list_is_refused(applicant, ethnicity):
    assert errors(applicant, "basic", {**BASIC, "ethnicity": ethnicity}) == {
        "ethnicity": "请选择民族"}


def test_political_status_is_optional_and_from_the_list(applicant, app):
    page = page_of(applicant.get("/collection/basic"))
    assert page.options["political_status"] == [""] + choices.POLITICAL_STATUSES
    post(applicant, "basic", {**BASIC, "political_status": ""}, 303)
    assert stored(app, "basic")["political_status"] == []
    for status in choices.POLITICAL_STATUSES:
        post(applicant, "basic", {**BASIC, "political_status": status}, 303)
        assert stored(app, "basic")["political_status"] == [status]
    assert errors(applicant, "basic", {**BASIC, "political_status": "党员"}) == {
        "political_status": "请从列表中选择政治面貌"}


@pytest.mark.parametrize("address, expected", [
    ("", "请填写通讯地址，如：昆明市五华区某某路1号"),
    ("   ", "请填写通讯地址，如：昆明市五华区某某路1号"),
    ("路" * 201, "最多200个字，请精简"),
])
def test_address_is_required_up_to_200(applicant, address, expected):
    assert errors(applicant, "basic", {**BASIC, "address": address}) == {"address": expected}


def test_address_of_200_is_kept_and_trimmed(applicant, app):
    post(applicant, "basic", {**BASIC, "address": "  " + "路" * 200 + " "}, 303)
    assert stored(app, "basic")["address"] == ["路" * 200]


@pytest.mark.parametrize("email", ["", "a.b+c@mail.example.cn", "ZHANG_3@163.com"])
def test_email_is_optional(applicant, app, email):
    post(applicant, "basic", {**BASIC, "email": email}, 303)
    assert stored(app, "basic")["email"] == ([email] if email else [])


@pytest.mark.parametrize("email", [
    "zhang", "zhang@", "@163.com", "zhang@163", "zhang san@163.com", "zhang@163.c",
    "张三@163.com", "zhang@@163.com",
])
def test_malformed_email_is_refused(applicant, email):
    assert errors(applicant, "basic", {**BASIC, "email": email}) == {
        "email": "电子邮箱格式不正确，如：name@example.com；没有可不填"}


def test_overlong_email_is_refused(applicant):
    email = "a" * 95 + "@x.com"
    assert errors(applicant, "basic", {**BASIC, "email": email}) == {
        "email": "最多100个字，请精简"}


# -- markup and length, every section ------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
STUDENT = {"employed": "no", "person_category": "在校学生", "collection_prefecture": "530100",
           "collection_county": "530102", "school_name": "云南财经大学"}


BREAK = {"basic": {"email": "x"}, "work": {"unit_credit_code": "x", "collection_county": ""},
         "education": {"full_time-graduated_on": "x"},
         "qualification": {"records-0-obtained_on": "x"}}


@pytest.mark.parametrize("key, field, base", [
    ("basic", "address", BASIC),
    ("work", "unit_name", VALID["work"]),
    ("work", "school_name", STUDENT),
    ("education", "full_time-school", VALID["education"]),
    ("education", "full_time-major", VALID["education"]),
    ("qualification", "records-0-certificate_number", VALID["qualification"]),
])
def test_markup_is_stored_as_typed_and_shown_escaped(applicant, app, key, field, base):
    post(applicant, key, {**base, field: SCRIPT}, 303)
    assert stored(app, key)[field] == [SCRIPT]
    html = text_of(applicant.get(f"/collection/{key}"))
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert Page(html).value(field) == SCRIPT
    # Typed again beside an error: still escaped.
    attack = '"><script>alert(2)</script>'
    response = applicant.post(f"/collection/{key}", data={**base, **BREAK[key], field: attack})
    assert response.status_code == 422
    assert "<script>alert" not in text_of(response)
    assert page_of(response).value(field) == attack


LONG = "x" * 5000


@pytest.mark.parametrize("key, field, base, message", [
    ("basic", "address", BASIC, "最多200个字，请精简"),
    ("basic", "email", BASIC, "最多100个字，请精简"),
    ("basic", "ethnicity", BASIC, "请选择民族"),
    ("work", "unit_name", VALID["work"], "最多100个字，请精简"),
    ("work", "unit_credit_code", VALID["work"], "统一社会信用代码应为18位，您填写了5000位"),
    ("work", "accounting_start_date", VALID["work"], DATE_FORMAT),
    ("work", "school_name", STUDENT, "最多100个字，请精简"),
    ("education", "full_time-school", VALID["education"], "最多100个字，请精简"),
    ("education", "full_time-major", VALID["education"], "最多100个字，请精简"),
    ("education", "full_time-certificate_number", VALID["education"], "最多40个字，请精简"),
    ("qualification", "records-0-certificate_number", VALID["qualification"],
     "最多40个字，请精简"),
])
def test_overlong_values_are_refused(applicant, app, key, field, base, message):
    page = post(applicant, key, {**base, field: LONG})
    assert page.errors == {field: message}
    if field not in page.options:          # a select cannot show what is not offered
        assert page.value(field) == LONG   # kept in full for correcting
    row = section_row(app, key)
    assert row["data"] is None and row["completed"] is False
    assert all(len(v) <= 500 for values in row["draft"].values() for v in values)


# == 工作信息 =====================================================================================

WORK = VALID["work"]
EMPLOYED_CONTROLS = {"employed", "unit_name", "unit_credit_code", "unit_type", "unit_prefecture",
                     "unit_county", "join_date", "accounting_start_date", "posts", "duty"}


def refresh(client, data, **headers):
    response = client.post("/collection/work", data={**data, "action": "refresh"},
                           headers=headers)
    assert response.status_code == 200, text_of(response)[-3000:]
    return page_of(response)


def test_work_asks_first_whether_employed(applicant):
    page = page_of(applicant.get("/collection/work"))
    assert page.controls == {"employed"}
    assert page.options["employed"] == ["yes", "no"]
    assert "请先选择是否在岗" in page.html
    assert errors(applicant, "work", {}) == {"employed": "请选择是否在岗"}
    assert errors(applicant, "work", {"employed": "maybe"}) == {"employed": "请选择是否在岗"}


def test_employed_fields_are_required(applicant):
    assert errors(applicant, "work", {"employed": "yes"}) == {
        "unit_name": "请填写工作单位名称（与单位公章一致）",
        "unit_credit_code": "请填写统一社会信用代码",
        "unit_type": "请选择单位性质",
        "unit_prefecture": "请选择单位所在州（市）",
        "unit_county": "请选择单位所在县（市、区）",
        "accounting_start_date": "请填写从事会计工作日期",
        "posts": "请至少选择一个会计岗位",
    }


def test_join_date_and_duty_are_optional(applicant, app):
    post(applicant, "work", {**WORK, "join_date": "", "duty": ""}, 303)
    data = stored(app, "work")
    assert data["join_date"] == [] and data["duty"] == []


@pytest.mark.parametrize("typed", [
    CREDIT_CODE.lower(),
    "9111 0000 6000 3734 1L",
    "91110000-600037341-l",
    "９１１１００００６０００３７３４１Ｌ",   # full-width, as some input methods type it
    " 91110000600037341L\t",
])
def test_credit_code_is_normalised(applicant, app, typed):
    post(applicant, "work", {**WORK, "unit_credit_code": typed}, 303)
    assert stored(app, "work")["unit_credit_code"] == [CREDIT_CODE]


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V", "o", "s"])
def test_credit_code_letters_i_o_z_s_v_are_refused_with_a_hint(applicant, letter):
    code = CREDIT_CODE[:10] + letter + CREDIT_CODE[11:]
    assert errors(applicant, "work", {**WORK, "unit_credit_code": code}) == {
        "unit_credit_code": "统一社会信用代码中不含字母I、O、Z、S、V，请核对（可能是数字1、0、2、5）"}


@pytest.mark.parametrize("code, message", [
    ("91110000600037341X", "统一社会信用代码校验位不正确，请对照营业执照逐位核对"),
    ("91110000600037314L", "统一社会信用代码校验位不正确，请对照营业执照逐位核对"),
    ("9111000060003734L", "统一社会信用代码应为18位，您填写了17位"),
    ("91110000600037341LL", "统一社会信用代码应为18位，您填写了19位"),
    ("9A110000600037341L", "统一社会信用代码格式不正确，请对照营业执照核对"),
    ("91110000600037341#", "统一社会信用代码格式不正确，请对照营业执照核对"),
])
def test_wrong_credit_code_is_refused(applicant, app, code, message):
    page = post(applicant, "work", {**WORK, "unit_credit_code": code})
    assert page.errors == {"unit_credit_code": message}
    assert page.value("unit_credit_code") == code
    assert stored(app, "work") is None


def test_unit_type_is_from_the_list(applicant, app):
    page = refresh(applicant, {"employed": "yes"})
    assert page.options["unit_type"] == [""] + choices.UNIT_TYPES
    for unit_type in choices.UNIT_TYPES:
        post(applicant, "work", {**WORK, "unit_type": unit_type}, 303)
        assert stored(app, "work")["unit_type"] == [unit_type]
    assert errors(applicant, "work", {**WORK, "unit_type": "个体户"}) == {
        "unit_type": "请选择单位性质"}


def test_prefecture_then_county(applicant, app):
    with database(app):
        prefecture_codes = [p.code for p in prefectures()]
        qujing = [c.code for c in counties_of("530300")]
    assert len(prefecture_codes) == 16
    page = refresh(applicant, {"employed": "yes"})
    assert page.options["unit_prefecture"] == [""] + prefecture_codes
    # no prefecture yet: every county, grouped by prefecture (no round trip without JavaScript)
    with database(app):
        every_county = [c.code for code in prefecture_codes for c in counties_of(code)]
    assert page.options["unit_county"] == [""] + every_county and len(every_county) == 129
    assert "州（市）会自动填上" in page.html
    page = refresh(applicant, {"employed": "yes", "unit_prefecture": "530300"})
    assert page.options["unit_county"] == [""] + qujing
    assert "530302" in qujing and "530102" not in qujing
    assert page.errors == {}


@pytest.mark.parametrize("prefecture, county, message", [
    ("530100", "530302", "所选县（市、区）不属于所选州（市），请重新选择"),
    ("530000", "530102", "所选县（市、区）不属于所选州（市），请重新选择"),
    ("530100", "530100", "请选择单位所在县（市、区）"),
    ("530100", "530000", "请选择单位所在县（市、区）"),
    ("110000", "110101", "请选择单位所在县（市、区）"),     # not in Yunnan
    ("530100", "110101", "请选择单位所在县（市、区）"),
    ("530100", "539999", "请选择单位所在县（市、区）"),
])
def test_unit_county_must_be_a_yunnan_county_of_the_prefecture(applicant, app, prefecture,
                                                               county, message):
    assert errors(applicant, "work", {**WORK, "unit_prefecture": prefecture,
                                      "unit_county": county}) == {"unit_county": message}
    assert stored(app, "work") is None


@pytest.mark.parametrize("field, value, message", [
    ("accounting_start_date", TOMORROW, FUTURE),
    ("accounting_start_date", "2015-13-01", DATE_FORMAT),
    ("accounting_start_date", "2005-12-31", "从事会计工作日期不能早于年满16周岁，请核对"),
    ("accounting_start_date", "1980-01-01", "从事会计工作日期不能早于年满16周岁，请核对"),
    ("join_date", TOMORROW, FUTURE),
    ("join_date", "2012-02-30", DATE_FORMAT),
])
def test_work_dates(applicant, field, value, message):
    assert errors(applicant, "work", {**WORK, field: value}) == {field: message}


@pytest.mark.parametrize("start", ["2006-01-01", TODAY.isoformat()])
def test_accounting_start_from_the_16th_birthday_to_today(applicant, app, start):
    post(applicant, "work", {**WORK, "accounting_start_date": start}, 303)
    assert stored(app, "work")["accounting_start_date"] == [start]


def test_work_dates_are_stored_as_iso_dates(applicant, app):
    post(applicant, "work", {**WORK, "accounting_start_date": "2015/07/01",
                             "join_date": "20120701"}, 303)
    data = stored(app, "work")
    assert data["accounting_start_date"] == ["2015-07-01"]
    assert data["join_date"] == ["2012-07-01"]
    page = page_of(applicant.get("/collection/work"))
    assert page.value("accounting_start_date") == "2015-07-01"   # a value <input type=date> shows


def test_passport_holder_16_years_counts_from_the_saved_birth_date(foreigner, app):
    post(foreigner, "work", {**WORK, "accounting_start_date": "2001-01-01"}, 303)  # unknown yet
    post(foreigner, "basic", {**BASIC, "gender": "男", "birth_date": "1995-03-01"}, 303)
    # A typo left in a draft of 基本信息 is not the birth date.
    assert foreigner.post("/collection/basic/draft", data={
        **BASIC, "gender": "男", "birth_date": "2019-03-01"}).status_code == 204
    assert errors(foreigner, "work", {**WORK, "accounting_start_date": "2011-02-28"}) == {
        "accounting_start_date": "从事会计工作日期不能早于年满16周岁，请核对"}
    post(foreigner, "work", {**WORK, "accounting_start_date": "2011-03-01"}, 303)


def test_posts_are_one_or_more_from_the_list(applicant, app):
    page = refresh(applicant, {"employed": "yes"})
    assert page.options["posts"] == choices.ACCOUNTING_POSTS
    post(applicant, "work", {**WORK, "posts": choices.ACCOUNTING_POSTS}, 303)
    assert stored(app, "work")["posts"] == choices.ACCOUNTING_POSTS
    page = page_of(applicant.get("/collection/work"))
    assert page.values["posts"] == choices.ACCOUNTING_POSTS
    assert errors(applicant, "work", {**WORK, "posts": []}) == {
        "posts": "请至少选择一个会计岗位"}
    assert errors(applicant, "work", {**WORK, "posts": ["出纳", "董事"]}) == {
        "posts": "请从列表中选择会计岗位"}


def test_a_post_ticked_twice_is_stored_once(applicant, app):
    post(applicant, "work", {**WORK, "posts": ["出纳", "总账", "出纳"] + ["稽核"] * 50}, 303)
    assert stored(app, "work")["posts"] == ["出纳", "总账", "稽核"]


def test_duty_is_optional_and_from_the_list(applicant, app):
    for duty in choices.DUTIES:
        post(applicant, "work", {**WORK, "duty": duty}, 303)
        assert stored(app, "work")["duty"] == [duty]
    assert errors(applicant, "work", {**WORK, "duty": "董事长"}) == {
        "duty": "请从列表中选择职务"}


# -- not employed --------------------------------------------------------------------------------

def test_not_employed_fields_are_required(applicant):
    assert errors(applicant, "work", {"employed": "no"}) == {
        "person_category": "请选择人员类别",
        "collection_prefecture": "请选择采集所在州（市）",
        "collection_county": "请选择采集所在县（市、区）：学生选学校所在地，其他人员选户籍所在地或居住地",
    }
    assert errors(applicant, "work", {**STUDENT, "person_category": "学生"}) == {
        "person_category": "请选择人员类别"}


def test_student_names_the_school(applicant, app):
    assert errors(applicant, "work", {**STUDENT, "school_name": ""}) == {
        "school_name": "在校学生请填写学校名称"}
    post(applicant, "work", {**STUDENT, **{k: v for k, v in WORK.items() if k != "employed"}},
         303)
    assert stored(app, "work") == {
        "employed": ["no"], "person_category": ["在校学生"], "collection_prefecture": ["530100"],
        "collection_county": ["530102"], "school_name": ["云南财经大学"]}


@pytest.mark.parametrize("category", ["待业", "退休", "其他"])
def test_others_need_no_school_and_none_is_stored(applicant, app, category):
    # shown with 人员类别 (no round trip without JavaScript), optional for anyone not a student
    page = refresh(applicant, {**STUDENT, "person_category": category})
    assert "school_name" in page.controls and "在校学生必填；其他人员不用填" in page.html
    post(applicant, "work", {**STUDENT, "person_category": category}, 303)
    assert stored(app, "work") == {
        "employed": ["no"], "person_category": [category], "collection_prefecture": ["530100"],
        "collection_county": ["530102"]}


@pytest.mark.parametrize("prefecture, county, message", [
    ("530100", "530302", "所选县（市、区）不属于所选州（市），请重新选择"),
    ("110000", "110101", "请选择采集所在县（市、区）：学生选学校所在地，其他人员选户籍所在地或居住地"),
])
def test_collection_county_must_be_a_yunnan_county_of_the_prefecture(applicant, prefecture,
                                                                     county, message):
    assert errors(applicant, "work", {**STUDENT, "collection_prefecture": prefecture,
                                      "collection_county": county}) == {
        "collection_county": message}


# -- refresh -------------------------------------------------------------------------------------

def test_refresh_shows_the_fields_for_the_answer_without_validating(applicant, app):
    page = refresh(applicant, {"employed": "yes", "unit_credit_code": "bad"})
    assert page.controls == EMPLOYED_CONTROLS
    assert page.errors == {} and not page.has_summary
    assert page.value("unit_credit_code") == "bad"

    page = refresh(applicant, {"employed": "no", "unit_name": "某公司"})
    assert page.controls == {"employed", "person_category", "collection_prefecture",
                             "collection_county", "school_name"}
    assert page.errors == {}

    page = refresh(applicant, {"employed": "no", "person_category": "在校学生",
                               "collection_prefecture": "530300"})
    assert "school_name" in page.controls
    with database(app):
        assert page.options["collection_county"] == [""] + [
            c.code for c in counties_of("530300")]
    # Nothing saved, but what was typed is kept as a draft.
    row = section_row(app, "work")
    assert row["data"] is None and row["completed"] is False
    assert snapshot(app)["jurisdiction"] is None
    reloaded = page_of(applicant.get("/collection/work"))
    assert reloaded.value("person_category") == "在校学生"
    assert reloaded.value("collection_prefecture") == "530300"


def test_switching_employed_back_and_forth_loses_nothing_typed(applicant):
    typed = {"employed": "yes", "unit_name": "昆明某某会计服务有限公司",
             "unit_credit_code": CREDIT_CODE, "unit_prefecture": "530100",
             "unit_county": "530102", "posts": ["出纳", "总账"]}
    refresh(applicant, typed)
    # 否: the browser posts what is on screen, then the employer's fields leave the screen...
    page = refresh(applicant, {**typed, "employed": "no"})
    assert "unit_name" not in page.controls
    # ...and are not posted again; 是 brings them back as typed.
    page = refresh(applicant, {"employed": "yes", "person_category": "退休"})
    assert page.value("unit_name") == "昆明某某会计服务有限公司"
    assert page.value("unit_credit_code") == CREDIT_CODE
    assert page.value("unit_county") == "530102"
    page = refresh(applicant, {"employed": "no"})
    assert page.value("person_category") == "退休"


def test_refresh_as_htmx_returns_the_form(applicant):
    response = applicant.post("/collection/work", data={
        "employed": "yes", "unit_prefecture": "530100", "action": "refresh"}, headers=htmx())
    assert response.status_code == 200
    html = text_of(response).strip()
    assert html.startswith('<form id="section-form"') and "<html" not in html
    assert "五华区" in html


# -- 属地 ----------------------------------------------------------------------------------------

def test_employed_person_belongs_to_the_unit_county(applicant, app):
    assert "填写工作信息后确定" in text_of(applicant.get("/collection"))
    save(applicant, "work")
    assert snapshot(app)["jurisdiction"] == "530102"
    html = text_of(applicant.get("/collection"))
    assert "所属会计管理部门：五华区财政局" in html
    assert "五华区财政局" in text_of(applicant.get("/collection/basic"))


@pytest.mark.parametrize("category", ["在校学生", "待业", "退休", "其他"])
def test_others_belong_to_the_collection_county(applicant, app, category):
    save(applicant, "work", {**STUDENT, "person_category": category,
                             "collection_prefecture": "530300", "collection_county": "530302",
                             "unit_prefecture": "530100", "unit_county": "530102"})
    assert snapshot(app)["jurisdiction"] == "530302"
    assert "所属会计管理部门：麒麟区财政局" in text_of(applicant.get("/collection"))


def test_switching_employment_recomputes_the_jurisdiction(applicant, app):
    save(applicant, "work")
    assert snapshot(app)["jurisdiction"] == "530102"
    save(applicant, "work", {**WORK, "employed": "no", "person_category": "待业",
                             "collection_prefecture": "530400", "collection_county": "530402"})
    assert snapshot(app)["jurisdiction"] == "530402"
    assert "unit_county" not in stored(app, "work")
    assert "红塔区财政局" in text_of(applicant.get("/collection"))
    save(applicant, "work", {**WORK, "unit_county": "530111"})
    assert snapshot(app)["jurisdiction"] == "530111"
    assert "官渡区财政局" in text_of(applicant.get("/collection"))


def test_jurisdiction_is_never_read_from_the_request(applicant, app):
    save(applicant, "work", {**WORK, "jurisdiction_code": "530111"})
    assert snapshot(app)["jurisdiction"] == "530102"
    save(applicant, "work", {**STUDENT, "collection_prefecture": "530300",
                             "collection_county": "530302", "jurisdiction_code": "530111",
                             "jurisdiction": "530111"})
    assert snapshot(app)["jurisdiction"] == "530302"  # the student's collection county
    moved = {**WORK, "unit_county": "530103", "jurisdiction_code": "530111"}
    assert applicant.post("/collection/work/draft", data=moved).status_code == 204
    assert applicant.post("/collection/work", data={**moved, "action": "refresh"}).status_code \
        == 200
    assert applicant.post("/collection/work", data={**moved, "unit_credit_code": "bad"}) \
        .status_code == 422
    assert snapshot(app)["jurisdiction"] == "530302"   # drafts and invalid saves change nothing
    assert "麒麟区财政局" in text_of(applicant.get("/collection"))


# == 学历信息 =====================================================================================

EDUCATION = VALID["education"]


def test_no_education_at_all_is_valid(applicant, app):
    page = page_of(applicant.get("/collection/education"))
    assert page.controls == {"full_time-has", "part_time-has"}
    assert page.options["full_time-has"] == ["no", "yes"]
    assert page.value("full_time-has") == "no" and page.value("part_time-has") == "no"
    post(applicant, "education", {"full_time-has": "no", "part_time-has": "no",
                                  "full_time-school": "某校"}, 303)
    assert stored(app, "education") == {"full_time-has": ["no"], "part_time-has": ["no"]}
    assert task_statuses(text_of(applicant.get("/collection")))["学历信息"] == "已完成"


@pytest.mark.parametrize("block", ["full_time", "part_time"])
def test_an_education_block_with_yes_needs_its_fields(applicant, block):
    other = "part_time" if block == "full_time" else "full_time"
    page = post(applicant, "education", {f"{block}-has": "yes", f"{other}-has": "no",
                                         "action": "refresh"}, 200)
    assert {f"{block}-{name}" for name in ("level", "degree", "school", "major", "graduated_on",
                                           "certificate_number")} <= page.controls
    assert f"{other}-school" not in page.controls and page.errors == {}
    assert errors(applicant, "education", {f"{block}-has": "yes", f"{other}-has": "no"}) == {
        f"{block}-level": "请选择学历",
        f"{block}-school": "请填写毕业院校",
        f"{block}-major": "请填写所学专业",
        f"{block}-graduated_on": "请填写毕业日期",
    }


def test_both_blocks_filled(applicant, app):
    part_time = {"part_time-has": "yes", "part_time-level": "硕士研究生",
                 "part_time-degree": "", "part_time-school": "云南大学",
                 "part_time-major": "工商管理", "part_time-graduated_on": "2018-06-30",
                 "part_time-certificate_number": ""}
    post(applicant, "education", {**EDUCATION, **part_time}, 303)
    assert stored(app, "education") == {
        **STORED["education"], "part_time-has": ["yes"], "part_time-level": ["硕士研究生"],
        "part_time-degree": [], "part_time-school": ["云南大学"],
        "part_time-major": ["工商管理"], "part_time-graduated_on": ["2018-06-30"],
        "part_time-certificate_number": []}


def test_education_lists_and_dates(applicant):
    page = post(applicant, "education", {**EDUCATION, "action": "refresh"}, 200)
    assert page.options["full_time-level"] == [""] + choices.EDUCATION_LEVELS
    assert page.options["full_time-degree"] == [""] + choices.DEGREES
    for field, value, message in [
        ("full_time-level", "大专", "请选择学历"),
        ("full_time-degree", "博士后", "请从列表中选择学位"),
        ("full_time-has", "maybe", "请选择有或无"),
        ("full_time-graduated_on", TOMORROW, FUTURE),
        ("full_time-graduated_on", "2012-06-31", DATE_FORMAT),
    ]:
        assert errors(applicant, "education", {**EDUCATION, field: value}) == {field: message}


# == 专业技术资格信息 ==============================================================================

def records(*rows, has="yes", **extra) -> dict:
    data = {"has": has, **extra}
    for index, (level, number, obtained) in enumerate(rows):
        data[f"records-{index}-level"] = level
        data[f"records-{index}-certificate_number"] = number
        data[f"records-{index}-obtained_on"] = obtained
    return data


def shown_records(page: Page) -> list[tuple]:
    found = []
    index = 0
    while f"records-{index}-level" in page.controls:
        found.append(tuple(page.value(f"records-{index}-{name}")
                           for name in ("level", "certificate_number", "obtained_on")))
        index += 1
    return found


A = ("初级", "C2010001", "2010-05-16")
B = ("中级", "Z2016002", "2016-09-10")
C = ("高级", "G2021003", "2021-11-20")
D = ("正高级", "ZG2024004", "2024-12-01")


def test_qualification_yes_or_no_is_required(applicant, app):
    page = page_of(applicant.get("/collection/qualification"))
    assert page.controls == {"has"} and page.value("has") == ""
    assert errors(applicant, "qualification", {}) == {
        "has": "请选择是否取得会计专业技术资格"}
    post(applicant, "qualification", records(A, has="no"), 303)
    assert stored(app, "qualification") == {"has": ["no"]}


def test_record_fields_are_required(applicant):
    assert errors(applicant, "qualification", {"has": "yes"}) == {
        "records-0-level": "请选择资格级别",
        "records-0-certificate_number": "请填写资格证书编号",
        "records-0-obtained_on": "请填写取得日期",
    }
    assert errors(applicant, "qualification", records(("注册会计师", "1", "2010-01-01"))) == {
        "records-0-level": "请选择资格级别"}
    assert errors(applicant, "qualification", records(("初级", "1", TOMORROW))) == {
        "records-0-obtained_on": FUTURE}


def test_up_to_four_records_are_saved(applicant, app):
    page = post(applicant, "qualification", records(A, action="refresh"), 200)
    assert page.options["records-0-level"] == [""] + choices.QUALIFICATION_LEVELS
    post(applicant, "qualification", records(A, B, C, D), 303)
    data = stored(app, "qualification")
    assert [data[f"records-{i}-level"] for i in range(4)] == [["初级"], ["中级"], ["高级"],
                                                               ["正高级"]]
    assert shown_records(page_of(applicant.get("/collection/qualification"))) == [A, B, C, D]
    # A fifth record, which the page never offers, is not kept.
    post(applicant, "qualification", records(D, C, B, A, ("初级", "X", "2020-01-01")), 303)
    assert shown_records(page_of(applicant.get("/collection/qualification"))) == [D, C, B, A]


def test_add_record_adds_an_empty_one_up_to_four(applicant, app):
    page = post(applicant, "qualification", records(A, action="add_record"), 200)
    assert shown_records(page) == [A, ("", "", "")]
    assert page.errors == {} and not page.has_summary
    assert "remove_record_0" in page.actions and "remove_record_1" in page.actions
    assert shown_records(page_of(applicant.get("/collection/qualification"))) == [A, ("", "", "")]
    assert section_row(app, "qualification")["completed"] is False

    page = post(applicant, "qualification", records(A, B, C, action="add_record"), 200)
    assert len(shown_records(page)) == 4
    assert "add_record" not in page.actions
    page = post(applicant, "qualification", records(A, B, C, D, action="add_record"), 200)
    assert shown_records(page) == [A, B, C, D]


def test_add_record_as_htmx(applicant):
    response = applicant.post("/collection/qualification",
                              data=records(A, action="add_record"), headers=htmx())
    assert response.status_code == 200
    html = text_of(response).strip()
    assert html.startswith('<form id="section-form"') and "<html" not in html
    assert shown_records(Page(html)) == [A, ("", "", "")]


def test_remove_record_removes_it_and_renumbers(applicant, app):
    page = post(applicant, "qualification", records(A, B, C, action="remove_record_1"), 200)
    assert shown_records(page) == [A, C]
    assert "records-2-level" not in page.controls
    assert page.errors == {}
    draft = section_row(app, "qualification")["draft"]
    assert draft["records-1-level"] == ["高级"] and "records-2-level" not in draft
    assert shown_records(page_of(applicant.get("/collection/qualification"))) == [A, C]

    page = post(applicant, "qualification", records(A, B, C, action="remove_record_0"), 200)
    assert shown_records(page) == [B, C]
    page = post(applicant, "qualification", records(A, B, C, action="remove_record_2"), 200)
    assert shown_records(page) == [A, B]


@pytest.mark.parametrize("action", ["remove_record_0", "remove_record_9", "remove_record_x",
                                    "remove_record_-1"])
def test_the_last_record_or_a_missing_one_is_not_removed(applicant, action):
    rows = [A] if action == "remove_record_0" else [A, B]
    page = post(applicant, "qualification", records(*rows, action=action), 200)
    assert shown_records(page) == rows
    if len(rows) == 1:
        assert "remove_record_0" not in page.actions


def test_the_same_level_twice_is_refused(applicant, app):
    page = post(applicant, "qualification", records(A, ("初级", "C2011009", "2011-05-16")))
    assert page.errors == {"records": "同一资格级别只能填写一条记录"}
    assert page.has_summary
    assert shown_records(page) == [A, ("初级", "C2011009", "2011-05-16")]
    assert section_row(app, "qualification")["data"] is None


def test_the_same_level_twice_is_said_beside_the_records_with_other_errors(applicant):
    page = post(applicant, "qualification", records(("初级", "", "2010-05-16"), A))
    assert page.errors == {"records": "同一资格级别只能填写一条记录",
                           "records-0-certificate_number": "请填写资格证书编号"}


# -- existing accountants: the archive ----------------------------------------------------------

ARCHIVED_ID = make_id("530111", "19750310", "215")
ARCHIVED_NAME = "李四"
ARCHIVED_PHONE = "13700007777"


def import_archive(app):
    rows = [
        {"姓名": ARCHIVED_NAME, "证件号码": ARCHIVED_ID, "资格级别": "中级",
         "证书编号": "Z2016002", "取得日期": "2016-09-10"},
        {"姓名": ARCHIVED_NAME, "证件号码": ARCHIVED_ID, "资格级别": "初级会计师",
         "证书编号": "C2010001", "取得日期": "2010/05/16"},
    ]
    with database(app):
        report = import_rows(rows)
    assert (report.accepted, report.rejected) == (2, [])


def test_imported_accountant_finds_the_archive_filled_in(client, app):
    import_archive(app)
    response = login(client, ARCHIVED_ID, initial_password(ARCHIVED_ID))
    assert response.status_code == 303
    held = client.get("/collection")
    assert held.status_code == 303 and held.headers["Location"] == "/account/bind-phone"
    with database(app) as session:
        account = account_of(session, ARCHIVED_ID)
        account.must_bind_phone = False
        account.phone = ARCHIVED_PHONE
        session.commit()

    page = page_of(client.get("/collection/qualification"))
    assert page.value("has") == "yes"
    assert shown_records(page) == [A, B]       # oldest first
    assert page.errors == {}
    task_list = text_of(client.get("/collection"))
    statuses = task_statuses(task_list)
    assert statuses["专业技术资格信息"] == "已完成"    # answered from the archive ...
    assert "已按档案填入，请核对" in task_list           # ... to be checked by the person
    assert "已按会计人员档案自动填入，请逐条核对" in text_of(client.get("/collection/qualification"))
    summary = text_of(client.get("/collection/summary"))
    assert "Z2016002" in summary and "C2010001" in summary  # the summary treats it as filled

    post(client, "qualification", records(A, B), 303)
    row = section_row(app, "qualification", id_number=ARCHIVED_ID)
    assert row["completed"] and row["data"]["records-1-certificate_number"] == ["Z2016002"]

    # Once the person has answered, their answer is shown, not the archive.
    post(client, "qualification", {"has": "no"}, 303)
    page = page_of(client.get("/collection/qualification"))
    assert page.value("has") == "no" and shown_records(page) == []


def test_imported_accountant_binding_a_phone_through_the_form(client, app, outbox):
    import_archive(app)
    assert login(client, ARCHIVED_ID, initial_password(ARCHIVED_ID)).status_code == 303
    assert send_code(client, "/account/bind-phone", ARCHIVED_PHONE).status_code == 200
    response = client.post("/account/bind-phone", data={
        "phone": ARCHIVED_PHONE, "sms_code": last_code(outbox, ARCHIVED_PHONE),
        "password": PASSWORD, "password2": PASSWORD, "action": "bind"})
    assert response.status_code == 303, text_of(response)
    landing = client.get("/collection")
    assert landing.status_code == 200
    assert f"您好，{ARCHIVED_NAME}" in text_of(landing)
    page = page_of(client.get("/collection/qualification"))
    assert shown_records(page) == [A, B]


def test_no_archive_for_a_new_accountant(applicant, app):
    import_archive(app)   # someone else's records
    page = page_of(applicant.get("/collection/qualification"))
    assert page.value("has") == "" and shown_records(page) == []
