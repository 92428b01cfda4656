"""The pre-check engines (precheck/) on generated pictures stored as the app stores them: ID card
fronts, certificates and 1-inch photos from tests/precheck_images.py.

The engines are optional packages (`make install-precheck`). Without them these tests skip, or
fail when REQUIRE_PRECHECK=1 (CI), so a missing install is never silent there.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest
from stdnum.cn import ric

import precheck
from domain.images import ImageRules, open_image
from precheck import faces, ocr
from precheck.matching import compare_id_number
from precheck.result import MATCH, MISMATCH, NOT_CHECKED, UNREADABLE, Result
from tests import precheck_images as pictures

ROOT = Path(__file__).resolve().parent.parent
SEEDS = (100, 101)


def check(sample: pictures.Sample) -> Result:
    if sample.kind == "id_card":
        return precheck.check_id_card(sample.image, "居民身份证", sample.typed["id_number"],
                                      sample.typed["name"])
    if sample.kind == "certificate":
        return precheck.check_certificate(sample.image, sample.typed["certificate_number"],
                                          sample.typed["name"])
    return precheck.check_portrait(sample.image)


# ID cards -------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("variant", ["clear", "blurred", "rotated", "tilted", "low_light"])
def test_an_id_card_as_typed_is_a_match(engines, variant, seed):
    sample = pictures.id_card_sample(seed, variant)
    result = check(sample)
    assert result.status == MATCH, result.message
    assert result.message == "证件号码与填写一致；姓名与填写一致"
    assert result.fields["id_number"].read == sample.typed["id_number"][:6] + "********" + \
        sample.typed["id_number"][-4:]
    assert 0.5 <= result.confidence <= 1
    assert result.duration_ms > 0 and result.engine.startswith("rapidocr-onnxruntime 1.4.4")


@pytest.mark.parametrize("seed", SEEDS)
def test_a_card_one_digit_away_from_the_typed_number_is_a_mismatch(engines, seed):
    sample = pictures.id_card_sample(seed, "wrong_digit")
    result = check(sample)
    assert result.status == MISMATCH
    assert result.fields["id_number"].status == MISMATCH
    assert result.fields["name"].status == MATCH
    assert result.message.startswith("证件号码不一致：识别为")
    stored = json.dumps(result.to_dict(), ensure_ascii=False)
    assert sample.shown["id_number"] not in stored and sample.typed["id_number"] not in stored


def test_every_single_digit_typing_difference_is_caught(engines):
    """The card read once; then every number one digit away from it typed in its place."""
    sample = pictures.id_card_sample(SEEDS[0], "clear")
    number = sample.typed["id_number"]
    lines = ocr.read(_picture(sample.image))
    assert compare_id_number(lines, number).status == MATCH
    for position in range(18):
        typed = pictures.with_digit_changed(number, position)
        assert compare_id_number(lines, typed).status == MISMATCH, f"position {position + 1}"
    typed = pictures.with_digit_changed(number, 17)
    assert check(pictures.Sample("id_card", "typo", sample.image,
                                 {"id_number": typed, "name": sample.typed["name"]})).status \
        == MISMATCH


def test_a_card_with_another_name_is_a_mismatch_of_the_name_only(engines):
    sample = pictures.id_card_sample(SEEDS[0], "wrong_name")
    result = check(sample)
    assert (result.status, result.fields["id_number"].status) == (MISMATCH, MATCH)
    assert result.fields["name"].message == f"姓名不一致：识别为{sample.shown['name']}"


def test_a_card_blurred_beyond_reading_is_unreadable(engines):
    result = check(pictures.id_card_sample(SEEDS[0], "unreadable"))
    assert (result.status, result.message) == (UNREADABLE, "未能识别证件号码；未能识别姓名")


def test_a_passport_is_not_checked(engines):
    sample = pictures.id_card_sample(SEEDS[0], "clear")
    result = precheck.check_id_card(sample.image, "护照", "E12345678", sample.typed["name"])
    assert (result.status, result.message) == (NOT_CHECKED, "未检查：护照暂不支持机器核对")


def test_the_font_has_every_chinese_character_the_pictures_draw():
    """Every CJK character in tests/precheck_images.py (a superset of what it draws) has a glyph
    in the project's font, not the empty box a missing one gets."""
    font = pictures.font(40)
    empty_box = bytes(font.getmask("\ue000"))          # a private-use code point: no glyph
    source = Path(pictures.__file__).read_text(encoding="utf-8")
    chinese = {c for c in source if "\u3000" <= c <= "\u9fff" or "\uff00" <= c <= "\uffef"}
    assert len(chinese) > 150
    assert [c for c in sorted(chinese) if bytes(font.getmask(c)) == empty_box] == []


def test_the_generated_numbers_are_valid():
    for seed in SEEDS:
        sample = pictures.id_card_sample(seed, "wrong_digit")
        for number in (sample.typed["id_number"], sample.shown["id_number"]):
            assert ric.validate(number) == number


# Certificates ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["education", "accounting"])
@pytest.mark.parametrize("variant", ["clear", "blurred", "tilted", "low_light"])
def test_a_certificate_as_typed_is_a_match(engines, kind, variant):
    result = check(pictures.certificate_sample(SEEDS[0], kind, variant))
    assert (result.status, result.message) == (MATCH, "证书编号与填写一致；姓名与填写一致")


@pytest.mark.parametrize("kind", ["education", "accounting"])
def test_a_certificate_number_one_digit_away_is_a_mismatch(engines, kind):
    sample = pictures.certificate_sample(SEEDS[0], kind, "wrong_number")
    result = check(sample)
    assert result.status == MISMATCH
    assert result.fields["certificate_number"].read == sample.shown["certificate_number"]
    assert result.fields["certificate_number"].message.startswith(
        f"证书编号不一致：识别为{sample.shown['certificate_number']}（第")


@pytest.mark.parametrize("kind", ["education", "accounting"])
def test_a_certificate_of_another_name_is_a_mismatch(engines, kind):
    sample = pictures.certificate_sample(SEEDS[0], kind, "wrong_name")
    result = check(sample)
    assert (result.status, result.fields["certificate_number"].status) == (MISMATCH, MATCH)
    assert result.fields["name"].read == sample.shown["name"]


@pytest.mark.parametrize("kind", ["education", "accounting"])
def test_a_certificate_blurred_beyond_reading_is_unreadable(engines, kind):
    result = check(pictures.certificate_sample(SEEDS[0], kind, "unreadable"))
    assert (result.status, result.message) == (UNREADABLE, "未能识别证书编号；未能识别姓名")


# The 1-inch photo -----------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(100, 105))
@pytest.mark.parametrize("variant, status, message", [
    ("one", MATCH, "检测到1张人脸，位置正常"),
    ("none", UNREADABLE, "未检测到人脸"),
    ("two", MISMATCH, "检测到2张人脸"),
    ("off_centre", MISMATCH, "人脸不在画面中央"),
    ("small", MISMATCH, "人脸过小"),
])
def test_the_faces_in_a_1_inch_photo(engines, variant, status, message, seed):
    sample = pictures.portrait_sample(seed, variant)
    assert len(sample.image) <= 20 * 1024
    result = check(sample)
    assert (result.status, result.message) == (status, message)
    assert result.engine.startswith("opencv 4.") and result.confidence is None


# Failures never reach the caller --------------------------------------------------------------

@pytest.mark.parametrize("data", [b"", b"not a picture", b"\xff\xd8\xff truncated"])
def test_a_picture_that_cannot_be_opened_is_not_checked(engines, data):
    for result in (precheck.check_id_card(data, "居民身份证", "530102199001011234", "张三"),
                   precheck.check_certificate(data, "2017535730454572", "张三"),
                   precheck.check_portrait(data)):
        assert (result.status, result.message) == (NOT_CHECKED, "未检查：图片无法打开")


def test_an_engine_failure_is_not_checked_and_logged(engines, monkeypatch, caplog):
    def broken(picture):
        raise RuntimeError("onnxruntime exploded")

    monkeypatch.setattr(ocr, "read", broken)
    sample = pictures.certificate_sample(SEEDS[0], "accounting", "clear")
    result = check(sample)
    assert (result.status, result.message) == (NOT_CHECKED, "未检查：识别出错")
    assert "onnxruntime exploded" in caplog.text


def test_the_models_load_once_per_process(engines):
    assert ocr._get_engine() is ocr._get_engine()
    assert faces._get_cascade() is faces._get_cascade()


def test_the_app_runs_without_the_engines():
    """A fresh interpreter in which the engine packages cannot be imported: the app starts and
    every check answers not_checked."""
    script = """
import sys
for name in ("rapidocr_onnxruntime", "onnxruntime", "cv2", "numpy"):
    sys.modules[name] = None          # as if not installed: importing it raises ImportError
import precheck
from app import create_app
create_app()
assert not precheck.available()
for result in (precheck.check_id_card(b"x", "居民身份证", "530102199001011234", "张三"),
               precheck.check_certificate(b"x", "1", "张三"), precheck.check_portrait(b"x")):
    assert result.message == "未检查：识别组件未安装", result
print("ok")
"""
    done = subprocess.run([sys.executable, "-W", "error", "-c", script], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "ok", done.stderr


def _picture(data: bytes):
    return open_image(data, ImageRules()).convert("RGB")
