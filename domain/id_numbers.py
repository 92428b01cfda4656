"""Identity document numbers: types, normalisation, validation, what they tell, and masking.

A 居民身份证 number (GB 11643) carries a check digit, the birth date and the gender. The residence
permits for Hong Kong, Macao and Taiwan residents and the 2023 foreign permanent residence card
use the same 18-character scheme. The birth place prefix is deliberately not required to be 53:
people born elsewhere work in Yunnan.
"""
import re
import unicodedata
from datetime import date

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from domain import clock

RESIDENT_ID = "居民身份证"
ID_TYPES = [
    RESIDENT_ID,
    "港澳居民居住证",
    "台湾居民居住证",
    "港澳居民来往内地通行证",
    "台湾居民来往大陆通行证",
    "护照",
    "外国人永久居留身份证",
]

# GB 11643-style numbers: the first two digits name a province (or 81/82/83 for the permits).
PROVINCE_PREFIXES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82", "83",
}
EARLIEST_BIRTH = date(1900, 1, 1)

_SPACES = re.compile(r"[\s\u200b-\u200d\u2060\ufeff-]+")


class InvalidIdNumber(ValueError):
    """Raised with a message a person can act on."""


def normalise(number: str) -> str:
    """Full-width to half-width (NFKC), no spaces or hyphens anywhere, upper case (x → X)."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", number or "")).upper()


def _check_gb11643(number: str, today: date) -> None:
    if len(number) == 15 and number.isdigit():
        raise InvalidIdNumber("15位旧身份证号码已停用，请填写18位证件号码")
    if len(number) != 18:
        raise InvalidIdNumber(f"证件号码应为18位，您填写了{len(number)}位")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise InvalidIdNumber("证件号码只能由数字组成，最后一位可以是X")
    if number[:2] not in PROVINCE_PREFIXES:
        raise InvalidIdNumber("证件号码前两位不是有效的地区代码，请核对")
    try:
        born = ric.get_birth_date(number)
    except ValidationError:
        raise InvalidIdNumber("证件号码中的出生日期不存在，请核对第7至14位") from None
    if born > today or born < EARLIEST_BIRTH:
        raise InvalidIdNumber("证件号码中的出生日期不正确，请核对第7至14位")
    if ric.calc_check_digit(number) != number[17]:
        raise InvalidIdNumber("证件号码校验位不正确，请逐位核对您的证件号码")


_PATTERNS = {
    "港澳居民来往内地通行证": (re.compile(r"^[HM]\d{8}(\d{2})?$"), "通行证号码应为H或M加8位或10位数字"),
    "台湾居民来往大陆通行证": (re.compile(r"^\d{8}$|^\d{10}$"), "通行证号码应为8位或10位数字"),
    "护照": (re.compile(r"^[A-Z0-9]{5,17}$"), "护照号码应为5至17位字母或数字"),
}
_PERMIT_PREFIX = {"港澳居民居住证": ("81", "82"), "台湾居民居住证": ("83",)}
_OLD_FOREIGN_CARD = re.compile(r"^[A-Z]{3}\d{12}$")


def validate(id_type: str, number: str, today: date | None = None) -> str:
    """Return the normalised number, or raise InvalidIdNumber saying what to fix."""
    today = today or clock.today()
    if id_type not in ID_TYPES:
        raise InvalidIdNumber("请选择证件类型")
    number = normalise(number)
    if not number:
        raise InvalidIdNumber("请填写证件号码")
    if len(number) > 32:
        raise InvalidIdNumber("证件号码过长，请核对")
    if id_type == RESIDENT_ID:
        _check_gb11643(number, today)
    elif id_type in _PERMIT_PREFIX:
        _check_gb11643(number, today)
        if not number.startswith(_PERMIT_PREFIX[id_type]):
            raise InvalidIdNumber(f"{id_type}号码应以{'或'.join(_PERMIT_PREFIX[id_type])}开头")
    elif id_type == "外国人永久居留身份证":
        if not _OLD_FOREIGN_CARD.match(number):
            if not number.startswith("9"):
                raise InvalidIdNumber("永久居留身份证号码应为15位（3位字母加12位数字）或以9开头的18位")
            _check_gb11643_body(number, today)
    else:
        pattern, message = _PATTERNS[id_type]
        if not pattern.match(number):
            raise InvalidIdNumber(message)
    return number


def _check_gb11643_body(number: str, today: date) -> None:
    # The 2023 permanent residence card starts with 9, which is not a province prefix.
    if len(number) != 18 or not number[:17].isdigit():
        raise InvalidIdNumber("永久居留身份证号码应为18位")
    if ric.calc_check_digit(number) != number[17]:
        raise InvalidIdNumber("证件号码校验位不正确，请逐位核对您的证件号码")


def carries_birth_date(id_type: str, number: str) -> bool:
    return id_type in (RESIDENT_ID, "港澳居民居住证", "台湾居民居住证") and len(number) == 18


def birth_date_of(id_type: str, number: str) -> date | None:
    if not carries_birth_date(id_type, number):
        return None
    try:
        return ric.get_birth_date(number)
    except ValidationError:
        return None


def gender_of(id_type: str, number: str) -> str | None:
    if not carries_birth_date(id_type, number):
        return None
    return "男" if int(number[16]) % 2 else "女"


def mask(number: str | None) -> str:
    """530102********1234: region prefix and last four only."""
    if not number:
        return ""
    if len(number) >= 14:
        return number[:6] + "*" * (len(number) - 10) + number[-4:]
    if len(number) > 4:
        return number[:1] + "*" * (len(number) - 3) + number[-2:]
    return "*" * len(number)
