"""Names of people: Chinese characters, Latin letters and the middle dot."""
import re
import unicodedata

MIN_LENGTH = 2
MAX_LENGTH = 30
# CJK unified ideographs with extensions A–H and compatibility ideographs, so rare characters
# in names (生僻字) are accepted; Latin letters for foreign and minority names typed in pinyin.
_HAN = (
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\U00020000-\U0002a6df\U0002a700-\U0002ebef\U00030000-\U000323af"
)
_NAME = re.compile(rf"^[{_HAN}A-Za-z]+(?:[·\s][{_HAN}A-Za-z]+)*$")
_DOTS = str.maketrans({"•": "·", "・": "·", "．": "·", "\u2027": "·", ".": "·"})


class InvalidName(ValueError):
    pass


def validate(name: str) -> str:
    """Return the cleaned name, or raise InvalidName saying what to fix."""
    if name and len(name) > 200:
        raise InvalidName(f"姓名最多{MAX_LENGTH}个字")
    cleaned = unicodedata.normalize("NFKC", name or "").translate(_DOTS)
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    if not cleaned:
        raise InvalidName("请填写姓名")
    if re.search(r"[\u200b-\u200f\u2060\ufeff]", cleaned):
        raise InvalidName("姓名中含有不可见字符，请删除后重新输入")
    if not _NAME.match(cleaned):
        raise InvalidName("姓名只能包含汉字、字母和间隔号“·”，请按证件上的姓名填写")
    if not MIN_LENGTH <= len(cleaned) <= MAX_LENGTH:
        raise InvalidName(f"姓名应为{MIN_LENGTH}至{MAX_LENGTH}个字")
    return cleaned
