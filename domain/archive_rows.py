"""One row of the archive (原有会计人员档案): the quirks of files exported from older systems and
saved by Excel, and the cleaned record, or a refusal saying what is wrong and how to fix it.

- ID numbers: full-width digits, spaces, lower-case x as in registration (id_numbers.normalise);
  a cell Excel turned into a number (5.30102E+17, 530102199001011000, a numeric XLSX cell) has
  lost its last digits, and the refusal says how to keep the column as text.
- 资格级别: 初级 / 中级 / 高级 / 正高级, or the title (助理会计师, 会计师, 高级会计师, 正高级会计师).
- 取得日期: 2010-09-01, 2010年9月1日, 2010年09月, 2010/9/1, 2010.9.1, 20100901, an Excel date
  serial (40422) or a date cell."""
import re
import unicodedata
from datetime import date, datetime, timedelta

from domain import clock
from domain.id_numbers import RESIDENT_ID, InvalidIdNumber, normalise
from domain.id_numbers import validate as validate_id
from domain.person_names import InvalidName
from domain.person_names import validate as validate_name

COLUMNS = ["姓名", "证件号码", "资格级别", "证书编号", "取得日期"]
LEVELS = ["初级", "中级", "高级", "正高级"]
CERTIFICATE_MAX = 40
EARLIEST = date(1950, 1, 1)


class RowProblem(ValueError):
    """What is wrong with a row and what to do, in words an administrator acts on."""


def clean_text(value) -> str:
    """NFKC (full-width letters and digits, compatibility characters), invisible characters and
    surrounding spaces gone; `="…"` (how a CSV keeps digits as text in Excel) unwrapped."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    text = re.sub(r"[\u200b-\u200f\u2060\ufeff]", "", text).strip()
    wrapped = re.fullmatch(r'="(.*)"', text)
    return wrapped.group(1).replace('""', '"').strip() if wrapped else text


def clean_row(row: dict) -> dict:
    """The record to import, or RowProblem. `row` maps the column names to cell values."""
    missing = [column for column in COLUMNS if column not in row]
    if missing:
        raise RowProblem(f"缺少列：{'、'.join(missing)}。文件第一行应为列名："
                         + "、".join(COLUMNS))
    try:
        name = validate_name(clean_text(row["姓名"]))
    except InvalidName as problem:
        raise RowProblem(str(problem)) from None
    return dict(name=name, id_number=id_number(row["证件号码"]), level=level(row["资格级别"]),
                certificate_number=certificate_number(row["证书编号"]),
                obtained_on=obtained_on(row["取得日期"]))


# --- 证件号码 --------------------------------------------------------------------------------------

EXCEL_NUMBER = ("证件号码被Excel存成了数值（如5.30102E+17），末尾几位数字已经丢失，无法导入。"
                "请把证件号码列的单元格格式设为“文本”后重新录入这些号码，或从原系统重新导出"
                "（导出前把该列设为文本），再上传")
_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?E\+?\d+$")


def id_number(value) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise RowProblem(EXCEL_NUMBER)  # a number cell keeps 15 digits at most
    text = clean_text(value).lstrip("'`")
    if _SCIENTIFIC.match(normalise(text)):
        raise RowProblem(EXCEL_NUMBER)
    try:
        return validate_id(RESIDENT_ID, text)
    except InvalidIdNumber as problem:
        if _cut_by_excel(normalise(text)):
            raise RowProblem(EXCEL_NUMBER) from None
        raise RowProblem(str(problem)) from None


def _cut_by_excel(number: str) -> bool:
    """Excel shows 15 significant digits: an 18-digit number saved as "General" ends in 000
    (or is written with a decimal point)."""
    digits = number.removesuffix(".0")
    return digits.isdigit() and len(digits) == 18 and digits.endswith("000")


# --- 资格级别 --------------------------------------------------------------------------------------

# Traditional characters from older systems, for the few words a level is written with.
_SIMPLIFIED = str.maketrans("級會計師資職稱", "级会计师资职称")
_LEVEL_WORDS = {
    "初级": "初级", "初级会计": "初级", "初级会计师": "初级", "助理会计师": "初级", "助理": "初级",
    "会计员": "初级",
    "中级": "中级", "中级会计": "中级", "中级会计师": "中级", "会计师": "中级",
    "高级": "高级", "高级会计": "高级", "高级会计师": "高级", "副高": "高级", "副高级": "高级",
    "正高级": "正高级", "正高": "正高级", "正高级会计师": "正高级",
}


def level(value) -> str:
    text = re.sub(r"\s+", "", clean_text(value)).translate(_SIMPLIFIED)
    for suffix in ("专业技术资格", "资格", "职称"):
        text = text.removesuffix(suffix)
    if text in _LEVEL_WORDS:
        return _LEVEL_WORDS[text]
    shown = clean_text(value) or "（空）"
    raise RowProblem(f"资格级别“{shown}”无法识别，请填写初级、中级、高级或正高级"
                     "（也可写助理会计师、会计师、高级会计师、正高级会计师）")


# --- 证书编号 --------------------------------------------------------------------------------------

def certificate_number(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = re.sub(r"\s+", "", clean_text(value))
    if not text:
        raise RowProblem("证书编号为空，请按资格证书填写证书编号")
    if len(text) > CERTIFICATE_MAX:
        raise RowProblem(f"证书编号超过{CERTIFICATE_MAX}个字符，请核对是否把其他内容填进了这一列")
    return text


# --- 取得日期 --------------------------------------------------------------------------------------

_EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 is 1900-01-01 (Excel's 1900 leap-year bug included)
_LAST_SERIAL = 2958466             # 9999-12-31
_YEAR_MONTH_DAY = re.compile(
    r"^(\d{4})\s*[年./\-]\s*(\d{1,2})\s*(?:月\s*(?:(\d{1,2})\s*[日号]?)?|[./\-]\s*(\d{1,2})\s*"
    r"(?:\d{1,2}:\d{2}(?::\d{2})?)?)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})?$")
_SERIAL = re.compile(r"^(\d{5})(\.0+)?$")
DATE_HINT = "请写成2010-09-01或2010年9月1日这样的日期"


def obtained_on(value) -> date | None:
    """None for an empty cell (the date is optional in the archive)."""
    if isinstance(value, datetime):
        return _plausible(value.date(), value)
    if isinstance(value, date):
        return _plausible(value, value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _from_serial(value, value)
    text = clean_text(value)
    if not text:
        return None
    compact = re.sub(r"\s+", "", text)
    if _SERIAL.match(compact):
        return _from_serial(float(compact), text)
    match = _YEAR_MONTH_DAY.match(text)
    if match:
        year, month, day, day2 = match.groups()
        return _make(int(year), int(month), int(day or day2 or 1), text)
    match = _COMPACT.match(compact)
    if match:
        year, month, day = match.groups()
        return _make(int(year), int(month), int(day or 1), text)
    raise RowProblem(f"取得日期“{text}”无法识别，{DATE_HINT}")


def _make(year: int, month: int, day: int, shown) -> date:
    try:
        made = date(year, month, day)
    except ValueError:
        raise RowProblem(f"取得日期“{shown}”不是有效的日期，请核对年、月、日") from None
    return _plausible(made, shown)


def _from_serial(serial: float, shown) -> date:
    if not 1 <= serial < _LAST_SERIAL:
        raise RowProblem(f"取得日期“{_shown(shown)}”无法识别，{DATE_HINT}")
    # The whole days: a fraction is a time of day.
    return _plausible(_EXCEL_EPOCH + timedelta(days=int(serial)), shown)


def _plausible(day: date, shown) -> date:
    if day > clock.today():
        raise RowProblem(f"取得日期“{_shown(shown)}”晚于今天，请核对")
    if day < EARLIEST:
        raise RowProblem(f"取得日期“{_shown(shown)}”早于{EARLIEST.year}年，请核对；"
                         f"{DATE_HINT}")
    return day


def _shown(value) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
