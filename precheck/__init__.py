"""Machine pre-checks (机器核对) of uploaded pictures, for reviewers.

After an upload a background job reads the ID card and certificates with OCR and compares them
with what was typed, and counts and places the face in the 1-inch photo. The result is advice
shown to the reviewer as flags: it never blocks an applicant and never decides anything.

    check_id_card(image, id_type, id_number, name) -> Result
    check_certificate(image, certificate_number, name) -> Result
    check_portrait(image) -> Result
    available() -> bool
    load()                       # load the models now (a worker at start-up), if installed

Each call takes the stored picture's bytes and never raises: an absent or failing engine, or a
document type it cannot read, gives status `not_checked`. The engines (requirements-precheck.txt)
are optional; without them the rest of the app imports and runs as before.
"""
import logging
import time
from collections.abc import Callable

from domain.id_numbers import RESIDENT_ID
from domain.images import ImageRejected, ImageRules, open_image
from precheck import faces, matching, ocr
from precheck.result import (
    MATCH,
    MISMATCH,
    NOT_CHECKED,
    STATUS_LABELS,
    UNREADABLE,
    FieldResult,
    Result,
    not_checked,
    summarise,
)

__all__ = ["check_id_card", "check_certificate", "check_portrait", "available", "load", "Result",
           "FieldResult", "MATCH", "MISMATCH", "UNREADABLE", "NOT_CHECKED", "STATUS_LABELS"]

log = logging.getLogger(__name__)

# Documents whose number is an 18-character GB 11643 number with a check digit: found reliably.
# Passports and travel permits have no check digit the OCR could be held to: not checked.
GB11643_DOCUMENTS = (RESIDENT_ID, "港澳居民居住证", "台湾居民居住证")


def available() -> bool:
    """Both engines are installed (not that they have loaded: that happens on first use)."""
    return ocr.available() and faces.available()


def load() -> None:
    """Load the installed engines' models now rather than on the first picture: a worker calls
    this at start-up, so its first job is as quick as the others. Once per process."""
    if ocr.available():
        ocr.load()
    if faces.available():
        faces.load()


def check_id_card(image: bytes, id_type: str, id_number: str, name: str) -> Result:
    """The ID number and name on the front of an identity card against the typed ones."""
    if id_type not in GB11643_DOCUMENTS:
        return not_checked("id_card", f"{id_type or '该证件'}暂不支持机器核对")
    return _run("id_card", ocr, image, lambda picture: _compare_id_card(
        ocr.read(picture), id_number, name))


def check_certificate(image: bytes, certificate_number: str, name: str) -> Result:
    """A 学历证书 or 会计专业技术资格证书: the typed certificate number and the name on it."""
    return _run("certificate", ocr, image, lambda picture: _compare_certificate(
        ocr.read(picture), certificate_number, name))


def check_portrait(image: bytes) -> Result:
    """The 1-inch photo: exactly one frontal face, centred, of a plausible size."""
    return _run("portrait", faces, image, lambda picture: {"face": matching.judge_faces(
        faces.find_faces(picture), picture.width, picture.height)})


def _compare_id_card(lines, id_number, name) -> dict[str, FieldResult]:
    return {"id_number": matching.compare_id_number(lines, id_number),
            "name": matching.compare_name(lines, name)}


def _compare_certificate(lines, certificate_number, name) -> dict[str, FieldResult]:
    return {"certificate_number": matching.compare_certificate_number(lines, certificate_number),
            "name": matching.compare_name(lines, name)}


def _run(kind: str, engine, image: bytes, work: Callable) -> Result:
    """Decode, run the engine, time it; every failure becomes `not_checked`, never an exception
    for the job that called."""
    started = time.perf_counter()

    def elapsed() -> int:
        return round((time.perf_counter() - started) * 1000)

    if not engine.available():
        return not_checked(kind, "识别组件未安装")
    try:
        name = engine.engine_name()
        picture = open_image(image, ImageRules()).convert("RGB")
        fields = work(picture)
    except ImageRejected:
        return not_checked(kind, "图片无法打开", elapsed())
    except Exception:      # noqa: BLE001 — an engine's failure must never reach the caller
        log.exception("pre-check of a %s failed", kind)
        return not_checked(kind, "识别出错", elapsed())
    return summarise(kind, fields, elapsed(), name)
