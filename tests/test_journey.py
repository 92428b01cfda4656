"""What real people tripped on (issue 12), over HTTP: a saved 非在岗 answer surviving switches and
refused saves, 保存并继续 in the manual's order, the manual's photo advice."""
import io

from tests import images_factory
from tests.collection_pages import VALID, page_of, text_of
from tests.material_answers import EMPLOYED, NOT_EMPLOYED


def refresh(client, data):
    response = client.post("/collection/work", data={**data, "action": "refresh"})
    assert response.status_code == 200
    return page_of(response)


def test_a_saved_not_employed_answer_survives_switches_and_a_refused_save(applicant):
    assert applicant.post("/collection/work", data=NOT_EMPLOYED).status_code == 303
    # 是否在岗 switched to 是 (without JavaScript: the 确定 button posts what is on screen)
    page = refresh(applicant, {**NOT_EMPLOYED, "employed": "yes"})
    assert page.value("employed") == "yes"
    # a save with the employer half filled in is refused: only the employer's fields are posted
    refused = applicant.post("/collection/work", data={
        "employed": "yes", "unit_name": "某某公司", "action": "save"})
    assert refused.status_code == 422
    # switched back to 否: the saved 待业 and its county are still there
    page = refresh(applicant, {"employed": "no", "unit_name": "某某公司"})
    assert page.value("person_category") == "待业"
    assert page.value("collection_county") == "530103"
    # and again to 是: what was typed for the employer is back too
    page = refresh(applicant, {**NOT_EMPLOYED, "employed": "yes"})
    assert page.value("unit_name") == "某某公司"


def test_save_and_continue_walks_the_sections_then_the_materials(applicant):
    response = applicant.post("/collection/basic", data={**VALID["basic"], "action": "save_next"})
    assert response.status_code == 303 and response.headers["Location"] == "/collection/work"
    response = applicant.post("/collection/work", data={**EMPLOYED, "action": "save_next"})
    assert response.headers["Location"] == "/collection/education"
    # a section skipped earlier comes first once the end is reached
    response = applicant.post("/collection/qualification",
                              data={**VALID["qualification"], "action": "save_next"})
    assert response.headers["Location"] == "/collection/education"
    response = applicant.post("/collection/education",
                              data={**VALID["education"], "action": "save_next"})
    assert response.headers["Location"] == "/collection/materials"
    # the plain save still returns to the task list, in any order
    response = applicant.post("/collection/basic", data={**VALID["basic"], "action": "save"})
    assert response.headers["Location"] == "/collection"


def test_save_and_continue_with_htmx_redirects_the_page(applicant):
    response = applicant.post("/collection/basic", data={**VALID["basic"], "action": "save_next"},
                              headers={"HX-Request": "true"})
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/collection/work"


def test_the_section_offers_both_ways_forward(applicant):
    page = page_of(applicant.get("/collection/basic"))
    assert "save_next" in page.actions and "save" in page.actions
    from_summary = page_of(applicant.get("/collection/basic?return=summary"))
    assert "save_next" not in from_summary.actions


def test_the_manual_s_photo_advice_is_answered_where_a_reader_looks(applicant):
    for key in ("basic", "work", "education", "qualification"):
        data = EMPLOYED if key == "work" else VALID[key]
        assert applicant.post(f"/collection/{key}", data=data).status_code == 303
    page = text_of(applicant.get("/collection/materials"))
    assert "原操作手册要求自行压缩照片——本系统会自动处理，直接拍照或选择原图即可" in page


def test_a_photo_shrunk_as_the_manual_said_is_refused_with_what_to_do_instead(applicant):
    for key in ("basic", "work", "education", "qualification"):
        data = EMPLOYED if key == "work" else VALID[key]
        assert applicant.post(f"/collection/{key}", data=data).status_code == 303
    shrunk = images_factory.small_jpeg((150, 210))  # what 美图秀秀 made of it: 20 KB, too few pixels
    response = applicant.post("/collection/materials/id_photo",
                              data={"photo": (io.BytesIO(shrunk), "photo.jpg")})
    assert response.status_code == 422
    text = text_of(response)
    assert "按原操作手册把照片压缩" in text and "原图" in text and "系统会自动裁剪、压缩" in text


# -- 5. without JavaScript: as few round trips as possible, and the hint says what to press -------
def test_the_county_list_needs_no_prefecture_first_and_the_prefecture_follows(applicant):
    page = refresh(applicant, {"employed": "yes"})
    counties = page.options["unit_county"]
    assert "530102" in counties and "532901" in counties   # 五华区 and 大理市, one list
    assert len(counties) == 1 + 129
    html = text_of(applicant.post("/collection/work", data={"employed": "yes", "action": "refresh"}))
    assert '<optgroup label="大理白族自治州">' in html
    # saved with the county only: the prefecture is taken from it
    response = applicant.post("/collection/work", data={**EMPLOYED, "unit_prefecture": ""})
    assert response.status_code == 303
    page = page_of(applicant.get("/collection/work"))
    assert page.value("unit_prefecture") == "530100" and page.value("unit_county") == "530102"
    assert len(page.options["unit_county"]) == 1 + 14   # once chosen, only 昆明市's counties


def test_a_county_of_another_prefecture_than_the_one_chosen_is_refused(applicant):
    response = applicant.post("/collection/work", data={**EMPLOYED, "unit_county": "532901"})
    assert response.status_code == 422
    assert "所选县（市、区）不属于所选州（市）" in text_of(response)


def test_not_employed_shows_every_field_at_once_and_only_a_student_needs_the_school(applicant):
    page = refresh(applicant, {"employed": "no"})
    assert {"person_category", "collection_county", "school_name"} <= set(page.values) | set(
        page.options)
    html = text_of(applicant.post("/collection/work", data={"employed": "no", "action": "refresh"}))
    assert "在校学生必填；其他人员不用填" in html
    student_without_school = applicant.post(
        "/collection/work", data={**NOT_EMPLOYED, "person_category": "在校学生"})
    assert student_without_school.status_code == 422
    assert "在校学生请填写学校名称" in text_of(student_without_school)
    # anyone else saves without it, and a school typed by a non-student is not kept
    response = applicant.post("/collection/work", data={**NOT_EMPLOYED, "school_name": "某学校"})
    assert response.status_code == 303
    assert "某学校" not in text_of(applicant.get("/collection/summary"))


def test_the_no_javascript_hint_says_what_to_press(applicant):
    html = text_of(applicant.get("/collection/work"))
    assert "选好后请点“确定”，下方会列出要填写的项目。" in html
    assert html.count('name="action" value="refresh"') == 1   # one 确定, for 是否在岗 only
    chosen = text_of(applicant.post("/collection/work",
                                    data={"employed": "no", "action": "refresh"}))
    assert "选好后请点" not in chosen   # once chosen, no more telling


# -- 7. one captcha per SMS code: the forms that send a code do not ask for it at submit -----------
def test_forms_that_send_a_code_say_the_captcha_is_for_the_code_only(client):
    for path in ("/register", "/forgot-password"):
        html = text_of(client.get(path))
        assert "提交时不用再填" in html, path
        assert '图形验证码<span class="req"' not in html, path
    login = text_of(client.get("/login"))
    assert '图形验证码<span class="req" aria-hidden="true"> *</span>' in login   # login checks it
    assert "提交时不用再填" not in login


# -- 13. the README for a newcomer ----------------------------------------------------------------
def test_make_run_takes_a_port_and_the_readme_s_first_hour_commands_exist():
    import pathlib
    import re
    import subprocess
    root = pathlib.Path(__file__).resolve().parent.parent
    dry = subprocess.run(["make", "-n", "run", "PORT=8123"], cwd=root, capture_output=True,
                         text=True, check=True).stdout
    assert "--port 8123" in dry
    readme = (root / "README.md").read_text(encoding="utf-8")
    start = readme[readme.index("## Quick start"):readme.index("## Layout")]
    makefile = (root / "Makefile").read_text(encoding="utf-8")
    for target in set(re.findall(r"\bmake (\w[\w-]*)", start)):
        assert re.search(rf"^{target}:", makefile, re.M), target
    assert "flask --app wsgi demo logins" in start and "make db" in start
    assert "取得日期 (may be empty) as 2010-09-01" in readme


def test_the_readme_s_example_id_numbers_are_valid():
    import pathlib

    from domain.id_numbers import RESIDENT_ID, validate
    readme = (pathlib.Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
    for number in ("530102199001011231", "530102198506150021"):
        assert number in readme and validate(RESIDENT_ID, number) == number
