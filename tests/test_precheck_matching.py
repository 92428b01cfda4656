"""precheck/matching.py and precheck/result.py without any engine: how OCR text is compared with
what was typed, where faces may be, and what a result looks like when stored."""
import json

import pytest

from precheck.matching import (
    FaceBox,
    Line,
    compare_certificate_number,
    compare_id_number,
    compare_name,
    id_numbers_in,
    judge_faces,
)
from precheck.result import (
    MATCH,
    MISMATCH,
    NOT_CHECKED,
    UNREADABLE,
    FieldResult,
    Result,
    not_checked,
    summarise,
)
from tests.helpers import make_id

NUMBER = make_id("530102", "19900101", "123")
OTHER_DIGITS = "0123456789"


def lines(*texts: str) -> list[Line]:
    """One OCR line per text, stacked down the page."""
    return [Line(text, 0.99, (10, 50 * i, 600, 50 * i + 40)) for i, text in enumerate(texts)]


def card(number: str = NUMBER, name: str = "张三") -> list[Line]:
    return lines(f"姓名{name}", "性别男民族汉", "出生1990年1月1日", "住址云南省昆明市五华区",
                 "公民身份号码", number)


def single_digit_changes(number: str):
    """Every number one character away from `number`: each position, each other value."""
    for position in range(18):
        values = OTHER_DIGITS + ("X" if position == 17 else "")
        for value in values:
            if value != number[position]:
                yield position, number[:position] + value + number[position + 1:]


# ID numbers -----------------------------------------------------------------------------------

def test_the_typed_number_on_the_card_is_a_match():
    result = compare_id_number(card(), NUMBER)
    assert result.status == MATCH
    assert result.message == "证件号码与填写一致"
    assert result.confidence == 0.99


def test_the_number_read_is_kept_only_masked():
    result = compare_id_number(card(), NUMBER)
    assert result.read == NUMBER[:6] + "********" + NUMBER[-4:]


@pytest.mark.parametrize("position, typed", list(single_digit_changes(NUMBER)))
def test_every_single_character_difference_is_a_mismatch(position, typed):
    result = compare_id_number(card(), typed)
    assert result.status == MISMATCH
    assert f"第{position + 1}位不同" in result.message


def test_a_mismatch_names_the_positions_and_masks_the_number():
    shown = make_id("530102", "19900102", "123")
    result = compare_id_number(card(shown), NUMBER)
    assert result.status == MISMATCH
    assert result.message.startswith(f"证件号码不一致：识别为{shown[:6]}********{shown[-4:]}（第14")
    assert shown not in result.message and shown not in json.dumps(result.__dict__)


def test_a_reading_that_fails_its_check_digit_says_so():
    misread = NUMBER[:10] + str((int(NUMBER[10]) + 1) % 10) + NUMBER[11:]
    result = compare_id_number(card(misread), NUMBER)
    assert result.status == MISMATCH
    assert result.message.endswith("（第11位不同，识别结果未通过校验，请看原图）")


@pytest.mark.parametrize("read", [
    NUMBER.replace("0", "O", 2),                       # O for 0
    NUMBER.replace("1", "I", 1),                       # I for 1
    NUMBER[:12] + NUMBER[12:].replace("1", "l", 1),    # l for 1
    NUMBER[:9] + " " + NUMBER[9:],                     # a space inside
    NUMBER.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")),   # full-width
], ids=["O-for-0", "I-for-1", "l-for-1", "space", "full-width"])
def test_letter_digit_confusions_of_the_ocr_are_forgiven(read):
    assert compare_id_number(card(read), NUMBER).status == MATCH


def test_a_lower_case_or_times_sign_check_character_is_an_x():
    number = next(make_id("530102", "19900101", f"{n:03d}") for n in range(1000)
                  if make_id("530102", "19900101", f"{n:03d}").endswith("X"))
    for read in (number[:17] + "x", number[:17] + "×"):
        assert compare_id_number(card(read), number).status == MATCH
    assert compare_id_number(card(number[:17] + "0"), number).status == MISMATCH


def test_a_number_split_over_two_boxes_is_joined():
    assert compare_id_number(lines("公民身份号码", NUMBER[:10], NUMBER[10:]), NUMBER).status == MATCH


def test_a_number_run_into_its_label_is_found():
    assert compare_id_number(lines(f"公民身份号码{NUMBER}"), NUMBER).status == MATCH


def test_letters_that_look_like_digits_do_not_make_a_number():
    assert id_numbers_in(lines("ODILODILODILODILOD")) == []


def test_no_number_on_the_picture_is_unreadable():
    result = compare_id_number(lines("姓名张三", "1990年1月1日"), NUMBER)
    assert (result.status, result.message, result.read) == (UNREADABLE, "未能识别证件号码", None)
    assert compare_id_number([], NUMBER).status == UNREADABLE


def test_a_valid_number_is_preferred_over_a_garbled_one():
    shown = make_id("530103", "19850505", "456")
    garbled = NUMBER[:17] + ("0" if NUMBER[17] != "0" else "1")
    result = compare_id_number(lines(garbled, shown), NUMBER)
    assert result.read == shown[:6] + "********" + shown[-4:]


# Names ----------------------------------------------------------------------------------------

def test_the_name_after_its_label_is_compared():
    assert compare_name(card(name="张三"), "张三").status == MATCH
    result = compare_name(card(name="张王"), "张三")
    assert (result.status, result.message, result.read) == (MISMATCH, "姓名不一致：识别为张王", "张王")


def test_a_name_in_the_box_beside_its_label():
    found = [Line("姓名", 0.98, (10, 10, 80, 40)), Line("李四", 0.95, (120, 8, 200, 42)),
             Line("性别", 0.98, (10, 60, 80, 90)), Line("男", 0.97, (120, 60, 150, 90))]
    assert compare_name(found, "李四") == FieldResult(MATCH, "姓名与填写一致", "李四", 0.95)
    assert compare_name(found, "李三").status == MISMATCH


def test_a_name_run_together_with_the_next_field_is_cut_there():
    assert compare_name(lines("姓名张三性别男"), "张三").status == MATCH
    assert compare_name(lines("学生张三，性别男，1990年1月1日生，"), "张三").status == MATCH


def test_a_middle_dot_is_a_middle_dot_however_it_is_written():
    assert compare_name(lines("姓名阿依古丽.买买提"), "阿依古丽·买买提").status == MATCH
    assert compare_name(lines("姓名阿依古丽・买买提"), "阿依古丽 · 买买提").status == MATCH


def test_without_a_label_the_name_anywhere_is_a_match():
    assert compare_name(lines("证书", "持证人张三同志"), "张三").status == MATCH


def test_no_name_to_be_found_is_unreadable():
    assert compare_name(lines("证书", "2017年9月"), "张三") == FieldResult(UNREADABLE, "未能识别姓名")


# Certificate numbers --------------------------------------------------------------------------

CERTIFICATE = "2017535730454572"


def test_the_typed_certificate_number_on_the_page_is_a_match():
    result = compare_certificate_number(lines("会计专业技术资格证书", f"管理号：{CERTIFICATE}"),
                                        CERTIFICATE)
    assert (result.status, result.message, result.read) == (MATCH, "证书编号与填写一致", CERTIFICATE)


def test_a_certificate_number_with_letter_confusions_is_a_match():
    read = CERTIFICATE.replace("0", "O", 1).replace("1", "l", 1)
    assert compare_certificate_number(lines(f"管理号 {read}"), CERTIFICATE).status == MATCH


@pytest.mark.parametrize("position", range(len(CERTIFICATE)))
def test_every_single_digit_difference_after_the_label_is_a_mismatch(position):
    shown = CERTIFICATE[:position] + str((int(CERTIFICATE[position]) + 3) % 10) + \
        CERTIFICATE[position + 1:]
    result = compare_certificate_number(lines(f"证书编号：{shown}"), CERTIFICATE)
    assert result.status == MISMATCH
    assert result.message == f"证书编号不一致：识别为{shown}（第{position + 1}位不同）"


def test_an_unlabelled_code_close_to_the_typed_one_is_a_mismatch():
    shown = CERTIFICATE[:-1] + "9"
    assert compare_certificate_number(lines(f"No {shown}"), CERTIFICATE).status == MISMATCH


def test_unrelated_numbers_are_not_a_reading_of_the_certificate_number():
    found = lines("证件号码530103********5456", "批准日期2017年9月", "1067620160581853")
    result = compare_certificate_number(found, CERTIFICATE)
    assert (result.status, result.message) == (UNREADABLE, "未能识别证书编号")


def test_nothing_typed_is_not_checked():
    assert compare_certificate_number(lines(CERTIFICATE), " ").status == NOT_CHECKED
    assert compare_name(lines("姓名张三"), "").status == NOT_CHECKED


# Faces ----------------------------------------------------------------------------------------

W, H = 295, 413


@pytest.mark.parametrize("faces, status, message", [
    ([], UNREADABLE, "未检测到人脸"),
    ([FaceBox(20, 100, 110, 110), FaceBox(160, 100, 110, 110)], MISMATCH, "检测到2张人脸"),
    ([FaceBox(5, 100, 110, 110)], MISMATCH, "人脸不在画面中央"),
    ([FaceBox(90, 5, 110, 110)], MISMATCH, "人脸不在画面中央"),        # too high
    ([FaceBox(90, 300, 110, 110)], MISMATCH, "人脸不在画面中央"),      # too low
    ([FaceBox(115, 140, 60, 60)], MISMATCH, "人脸过小"),
    ([FaceBox(5, 60, 285, 285)], MISMATCH, "人脸过大"),
    ([FaceBox(75, 90, 150, 150)], MATCH, "检测到1张人脸，位置正常"),
], ids=["none", "two", "left", "high", "low", "small", "large", "good"])
def test_one_centred_face_of_a_plausible_size(faces, status, message):
    result = judge_faces(faces, W, H)
    assert (result.status, result.message, result.read) == (status, message, str(len(faces)))


# Results --------------------------------------------------------------------------------------

def field(status):
    return FieldResult(status, status, None, 0.9 if status != UNREADABLE else None)


@pytest.mark.parametrize("statuses, overall", [
    ((MATCH, MATCH), MATCH),
    ((MATCH, MISMATCH), MISMATCH),
    ((UNREADABLE, MISMATCH), MISMATCH),
    ((MATCH, UNREADABLE), UNREADABLE),
    ((MATCH, NOT_CHECKED), UNREADABLE),
    ((NOT_CHECKED, NOT_CHECKED), NOT_CHECKED),
])
def test_a_picture_is_as_serious_as_its_most_serious_field(statuses, overall):
    fields = {f"f{i}": field(status) for i, status in enumerate(statuses)}
    assert summarise("id_card", fields).status == overall


def test_the_messages_of_the_fields_make_the_pictures_message():
    result = summarise("id_card", {
        "id_number": FieldResult(MATCH, "证件号码与填写一致", "530102********1234", 0.99),
        "name": FieldResult(MISMATCH, "姓名不一致：识别为李四", "李四", 0.95)}, 320, "engine 1")
    assert result.message == "证件号码与填写一致；姓名不一致：识别为李四"
    assert (result.confidence, result.duration_ms, result.engine, result.label) == \
        (0.95, 320, "engine 1", "不一致")


def test_a_result_survives_json_storage():
    result = summarise("certificate", {
        "certificate_number": FieldResult(MISMATCH, "证书编号不一致：识别为1（第1位不同）", "1", 0.9),
        "name": FieldResult(UNREADABLE, "未能识别姓名")}, 280, "rapidocr")
    stored = json.loads(json.dumps(result.to_dict(), ensure_ascii=False))
    assert Result.from_dict(stored) == result
    assert stored["fields"]["name"] == {"status": "unreadable", "message": "未能识别姓名",
                                        "read": None, "confidence": None}


def test_not_checked_says_why():
    result = not_checked("id_card", "识别组件未安装")
    assert (result.status, result.message, result.fields, result.label) == \
        (NOT_CHECKED, "未检查：识别组件未安装", {}, "未检查")
