"""Mainland mobile numbers."""
import re
import unicodedata

_PHONE = re.compile(r"^1[3-9]\d{9}$")
_SEPARATORS = re.compile(r"[\s\-\u200b-\u200d\ufeff]+")


class InvalidPhone(ValueError):
    pass


def validate(phone: str) -> str:
    """Return the 11-digit number, or raise InvalidPhone saying what to fix."""
    phone = _SEPARATORS.sub("", unicodedata.normalize("NFKC", phone or ""))
    if not phone:
        raise InvalidPhone("请填写手机号码")
    if phone.startswith("+") or (phone.startswith("86") and len(phone) == 13):
        raise InvalidPhone("请填写11位手机号码，不要加+86等国际区号")
    if not phone.isdigit():
        raise InvalidPhone("手机号码只能由数字组成")
    if len(phone) != 11:
        raise InvalidPhone(f"手机号码应为11位，您填写了{len(phone)}位")
    if not _PHONE.match(phone):
        raise InvalidPhone("请填写以13–19开头的11位中国大陆手机号码")
    return phone


def mask(phone: str | None) -> str:
    """138****5678."""
    if not phone:
        return ""
    return phone[:3] + "****" + phone[-4:] if len(phone) == 11 else "*" * len(phone)
