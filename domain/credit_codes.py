"""统一社会信用代码 (GB 32100): 18 characters, check digit, no I, O, Z, S or V."""
import re
import unicodedata

from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, ValidationError


class InvalidCreditCode(ValueError):
    pass


def validate(code: str) -> str:
    code = re.sub(r"[\s\-]+", "", unicodedata.normalize("NFKC", code or "")).upper()
    if not code:
        raise InvalidCreditCode("请填写统一社会信用代码")
    if len(code) != 18:
        raise InvalidCreditCode(f"统一社会信用代码应为18位，您填写了{len(code)}位")
    if any(c in "IOZSV" for c in code):
        raise InvalidCreditCode("统一社会信用代码中不含字母I、O、Z、S、V，请核对（可能是数字1、0、2、5）")
    try:
        return uscc.validate(code)
    except InvalidChecksum:
        raise InvalidCreditCode("统一社会信用代码校验位不正确，请对照营业执照逐位核对") from None
    except ValidationError:
        raise InvalidCreditCode("统一社会信用代码格式不正确，请对照营业执照核对") from None
