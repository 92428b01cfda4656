"""The rules that compare what the machine saw with what the applicant typed. Pure functions over
OCR lines and face boxes, so they are tested without any engine.

One principle runs through them: a confusion the OCR is known to make between a letter and a
digit (O and 0, I or l and 1) is forgiven, a difference between two digits never is. Every
single-digit difference in an ID number is therefore a mismatch, even when the number read
fails its check digit (then the message says the reading may be wrong, and the reviewer looks).
"""
import re
import unicodedata
from dataclasses import dataclass

from stdnum.cn import ric

from domain.id_numbers import mask
from precheck.result import MATCH, MISMATCH, NOT_CHECKED, UNREADABLE, FieldResult


@dataclass(frozen=True)
class Line:
    """One line of text as the OCR read it, with its box (left, top, right, bottom) in pixels."""
    text: str
    score: float
    box: tuple[float, float, float, float] = (0, 0, 0, 0)


# Letters the OCR reads where the picture shows a digit (after upper-casing: l → L, o → O).
LOOKALIKES = str.maketrans({"O": "0", "D": "0", "I": "1", "L": "1", "|": "1", "×": "X"})
_SPACES = re.compile(r"\s+")
_DOTS = str.maketrans({"•": "·", "・": "·", "．": "·", "\u2027": "·", ".": "·"})
_ID_RUN = re.compile(r"[0-9ODIL|X×]{18,}")
_CODE_RUN = re.compile(r"[0-9A-Z|×]{6,}")
ID_LENGTH = 18
MIN_REAL_DIGITS = 15        # of an ID number's first 17: fewer means a word, not a number


def normalise(text: str) -> str:
    """Full-width to half-width, no spaces, upper case: how numbers are compared."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text or "")).upper()


def _name_form(text: str) -> str:
    return _SPACES.sub("", unicodedata.normalize("NFKC", text or "").translate(_DOTS))


def _same_code(read: str, typed: str) -> bool:
    """Equal but for letter/digit look-alikes; two different digits are never the same."""
    return len(read) == len(typed) and read.translate(LOOKALIKES) == typed.translate(LOOKALIKES)


def _differing_positions(read: str, typed: str) -> list[int]:
    """1-based positions where the two differ (look-alikes forgiven), extra length included."""
    a, b = read.translate(LOOKALIKES), typed.translate(LOOKALIKES)
    positions = [i + 1 for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y]
    return positions + list(range(min(len(a), len(b)) + 1, max(len(a), len(b)) + 1))


def _where(positions: list[int]) -> str:
    if len(positions) > 3:
        return f"{len(positions)}位不同"
    return "第" + "、".join(str(p) for p in positions) + "位不同"


# ID numbers -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class IdReading:
    number: str
    score: float

    @property
    def check_digit_valid(self) -> bool:
        return ric.calc_check_digit(self.number) == self.number[17]   # it skips the last one


def id_numbers_in(lines: list[Line]) -> list[IdReading]:
    """Every 18-character GB 11643-shaped number in the lines, look-alikes turned into digits.
    A number the OCR split over two boxes is looked for in the joined text when no single line
    holds one."""
    found = [reading for line in lines for reading in _id_numbers_in_text(line.text, line.score)]
    if not found and lines:
        joined = "".join(line.text for line in lines)
        found = _id_numbers_in_text(joined, min(line.score for line in lines))
    return found


def _id_numbers_in_text(text: str, score: float) -> list[IdReading]:
    readings = []
    for run in _ID_RUN.findall(normalise(text)):
        for start in range(len(run) - ID_LENGTH + 1):
            window = run[start:start + ID_LENGTH]
            number = window.translate(LOOKALIKES)
            real_digits = sum(c.isdigit() for c in window[:17])
            if number[:17].isdigit() and (number[17].isdigit() or number[17] == "X") \
                    and real_digits >= MIN_REAL_DIGITS:
                readings.append(IdReading(number, score))
    return readings


def compare_id_number(lines: list[Line], typed: str) -> FieldResult:
    """The typed ID number against the numbers on the card: the same one somewhere is a match;
    otherwise the closest reading (a valid check digit first) is reported as the difference."""
    typed = normalise(typed).translate(LOOKALIKES)
    readings = id_numbers_in(lines)
    if not readings:
        return FieldResult(UNREADABLE, "未能识别证件号码")
    same = [r for r in readings if r.number == typed]
    if same:
        best = max(same, key=lambda r: r.score)
        return FieldResult(MATCH, "证件号码与填写一致", mask(typed), round(best.score, 3))
    closest = min(readings, key=lambda r: (not r.check_digit_valid,
                                           len(_differing_positions(r.number, typed)), -r.score))
    where = _where(_differing_positions(closest.number, typed))
    if not closest.check_digit_valid:
        where += "，识别结果未通过校验，请看原图"
    return FieldResult(MISMATCH, f"证件号码不一致：识别为{mask(closest.number)}（{where}）",
                       mask(closest.number), round(closest.score, 3))


# Names ----------------------------------------------------------------------------------------

NAME_LABELS = ("姓名", "学生")
# Where the name ends when the OCR ran it together with the next field.
_AFTER_NAME = re.compile(r"[，,。；;：:（(]|性别|民族|出生|证件|身份")


def labelled_name(lines: list[Line]) -> tuple[str, float] | None:
    """The text following a name label: on the label's own line, or in the box to its right."""
    for line in lines:
        text = _name_form(line.text)
        label = next((lb for lb in NAME_LABELS if text.startswith(lb)), None)
        if label is None:
            continue
        value = _AFTER_NAME.split(text[len(label):].lstrip(":："), maxsplit=1)[0]
        if value:
            return value, line.score
        beside = _box_to_the_right(lines, line)
        if beside is not None:
            return _AFTER_NAME.split(_name_form(beside.text), maxsplit=1)[0], beside.score
    return None


def _box_to_the_right(lines: list[Line], label: Line) -> Line | None:
    _, top, right, bottom = label.box
    middle = (top + bottom) / 2
    row = [line for line in lines if line is not label and line.box[0] >= right - 2
           and line.box[1] <= middle <= line.box[3]]
    return min(row, key=lambda line: line.box[0], default=None)


def compare_name(lines: list[Line], typed: str) -> FieldResult:
    """The typed name against the one after the 姓名 label; without a label, anywhere."""
    typed = _name_form(typed)
    if not typed:
        return FieldResult(NOT_CHECKED, "未填写姓名，未核对")
    found = labelled_name(lines)
    if found is not None and found[0]:
        value, score = found
        if value == typed:
            return FieldResult(MATCH, "姓名与填写一致", value, round(score, 3))
        return FieldResult(MISMATCH, f"姓名不一致：识别为{value}", value, round(score, 3))
    for line in lines:
        if typed in _name_form(line.text):
            return FieldResult(MATCH, "姓名与填写一致", typed, round(line.score, 3))
    return FieldResult(UNREADABLE, "未能识别姓名")


# Certificate numbers ---------------------------------------------------------------------------

NUMBER_LABELS = ("证书编号", "管理号", "证书号", "证号", "编号")


def compare_certificate_number(lines: list[Line], typed: str) -> FieldResult:
    """The typed number somewhere on the certificate is a match. Otherwise the number after a
    label (证书编号, 管理号) or, failing that, a stretch of text close to the typed number is
    reported as the difference."""
    typed = normalise(typed)
    if not typed:
        return FieldResult(NOT_CHECKED, "未填写证书编号，未核对")
    stretches = [(code[start:start + len(typed)], line.score)
                 for line in lines for code in _CODE_RUN.findall(normalise(line.text))
                 for start in range(max(1, len(code) - len(typed) + 1))]
    for stretch, score in stretches:
        if _same_code(stretch, typed):
            return FieldResult(MATCH, "证书编号与填写一致", typed, round(score, 3))
    close = [(stretch, score) for stretch, score in stretches
             if len(stretch) >= len(typed) - 2
             and len(_differing_positions(stretch, typed)) <= max(2, len(typed) // 3)]
    candidate = _labelled_code(lines) or min(
        close, key=lambda c: len(_differing_positions(c[0], typed)), default=None)
    if candidate is None:
        return FieldResult(UNREADABLE, "未能识别证书编号")
    code, score = candidate
    where = _where(_differing_positions(code, typed))
    return FieldResult(MISMATCH, f"证书编号不一致：识别为{code}（{where}）", code, round(score, 3))


def _labelled_code(lines: list[Line]) -> tuple[str, float] | None:
    for line in lines:
        text = normalise(line.text)
        for label in NUMBER_LABELS:
            if label in text:
                after = text.split(label, 1)[1].lstrip(":：")
                code = _CODE_RUN.match(after)
                if code:
                    return code.group(), line.score
    return None


# The 1-inch photo -----------------------------------------------------------------------------

@dataclass(frozen=True)
class FaceBox:
    left: int
    top: int
    width: int
    height: int


# Where a face belongs in a 1-inch photo (as fractions of the picture), in the spirit of the
# upload tool's head-position rule (domain.images.check_head_position): centred across, in the
# upper part, neither a speck nor filling the frame. The detector's box spans brows to chin and
# cheek to cheek: about half the width of a proper 1-inch photo.
FACE_CENTRE_X = (0.3, 0.7)
FACE_CENTRE_Y = (0.15, 0.65)
FACE_WIDTH = (0.3, 0.9)


def judge_faces(faces: list[FaceBox], width: int, height: int) -> FieldResult:
    """Exactly one face, centred, of a plausible size. Only counts and places faces: nothing
    here, nor anywhere in the project, tells whose face it is."""
    if not faces:
        return FieldResult(UNREADABLE, "未检测到人脸", "0")
    if len(faces) > 1:
        return FieldResult(MISMATCH, f"检测到{len(faces)}张人脸", str(len(faces)))
    face = faces[0]
    cx = (face.left + face.width / 2) / width
    cy = (face.top + face.height / 2) / height
    across = FACE_CENTRE_X[0] <= cx <= FACE_CENTRE_X[1]
    down = FACE_CENTRE_Y[0] <= cy <= FACE_CENTRE_Y[1]
    if not (across and down):
        return FieldResult(MISMATCH, "人脸不在画面中央", "1")
    if face.width < width * FACE_WIDTH[0]:
        return FieldResult(MISMATCH, "人脸过小", "1")
    if face.width > width * FACE_WIDTH[1]:
        return FieldResult(MISMATCH, "人脸过大", "1")
    return FieldResult(MATCH, "检测到1张人脸，位置正常", "1")
