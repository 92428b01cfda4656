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
