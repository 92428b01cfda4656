"""统一社会信用代码 (domain/credit_codes.py): normalisation, the specific messages, and the check
digit — every valid code passes, every single-character change of one fails."""
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import uscc

from domain.credit_codes import InvalidCreditCode, validate

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"   # GB 32100: no I, O, Z, S, V
FORBIDDEN = "IOZSV"
KNOWN = "91110000600037341L"

EMPTY = "请填写统一社会信用代码"
FORBIDDEN_LETTER = "统一社会信用代码中不含字母I、O、Z、S、V，请核对（可能是数字1、0、2、5）"
CHECK_DIGIT = "统一社会信用代码校验位不正确，请对照营业执照逐位核对"
FORMAT = "统一社会信用代码格式不正确，请对照营业执照核对"


def with_check_digit(body: str) -> str:
    return body + uscc.calc_check_digit(body)


def refused(code) -> str:
    with pytest.raises(InvalidCreditCode) as problem:
        validate(code)
    return str(problem.value)


# -- table ---------------------------------------------------------------------------------------

VALID = [
    KNOWN,
    with_check_digit("91530100MA6K0A1B2"),
    with_check_digit("12530000015000001"),      # 事业单位 (registration 1)
    with_check_digit("51530102MJ0000000"),      # 社会团体
    with_check_digit("92530102MA00000XY"),      # 个体工商户
    with_check_digit("00000000000000000"),
    with_check_digit("99999999YYYYYYYYY"),
]


@pytest.mark.parametrize("code", VALID)
def test_valid_codes_pass_unchanged(code):
    assert validate(code) == code


@pytest.mark.parametrize("typed", [
    KNOWN.lower(),
    "91110000600037341l",
    "9111 0000 6000 3734 1L",
    "91110000-60003734-1L",
    " 91110000600037341L \n",
    "９１１１００００６０００３７３４１Ｌ",      # full-width
    "9111\u30000000600037341L",               # ideographic space
])
def test_typing_variants_are_normalised(typed):
    assert validate(typed) == KNOWN


@pytest.mark.parametrize("typed", [None, "", "   ", "-", " - "])
def test_empty_is_refused(typed):
    assert refused(typed) == EMPTY


@pytest.mark.parametrize("typed, length", [
    ("9", 1), (KNOWN[:17], 17), (KNOWN + "0", 19), ("9" * 40, 40),
])
def test_wrong_length_says_how_many_were_typed(typed, length):
    assert refused(typed) == f"统一社会信用代码应为18位，您填写了{length}位"


@pytest.mark.parametrize("position", [0, 7, 8, 12, 17])
@pytest.mark.parametrize("letter", FORBIDDEN + FORBIDDEN.lower())
def test_letters_i_o_z_s_v_have_their_own_message(position, letter):
    code = KNOWN[:position] + letter + KNOWN[position + 1:]
    assert refused(code) == FORBIDDEN_LETTER


@pytest.mark.parametrize("code", [
    KNOWN[:-1] + "X",
    KNOWN[:-1] + "0",
    "91110000600037314L",      # two digits swapped
    "19110000600037341L",
])
def test_wrong_check_digit_is_refused(code):
    assert refused(code) == CHECK_DIGIT


@pytest.mark.parametrize("code", [
    "A1110000600037341L",      # the first 8 are digits
    "9111000A600037341L",
    "91110000#00037341L",
    "91110000_00037341L",
    KNOWN[:-1] + "é",
])
def test_malformed_code_is_refused(code):
    assert refused(code) == FORMAT


def _expected_message(original: str, position: int, replacement: str) -> str:
    upper = replacement.upper()
    if upper in FORBIDDEN:
        return FORBIDDEN_LETTER
    if position < 8 and not upper.isdigit():
        return FORMAT
    return CHECK_DIGIT


@pytest.mark.parametrize("code", [KNOWN, VALID[1]])
def test_every_single_character_change_fails_table(code):
    """All 18 positions × every digit and letter of either case that is not the same character:
    each change is refused, with the message that fits it."""
    for position, original in enumerate(code):
        for replacement in string.digits + string.ascii_letters:
            if replacement.upper() == original:
                continue
            changed = code[:position] + replacement + code[position + 1:]
            assert refused(changed) == _expected_message(code, position, replacement), changed


# -- properties ----------------------------------------------------------------------------------

bodies = st.builds(
    lambda head, tail: head + tail,
    st.text(alphabet=string.digits, min_size=8, max_size=8),
    st.text(alphabet=ALPHABET, min_size=9, max_size=9),
)
valid_codes = bodies.map(with_check_digit)
changeable = string.digits + string.ascii_letters


@settings(max_examples=300, deadline=None, database=None)
@given(valid_codes)
def test_generated_valid_codes_pass(code):
    assert validate(code) == code
    assert validate(code.lower()) == code
    assert validate(f" {code[:8]}-{code[8:]} ") == code


@settings(max_examples=500, deadline=None, database=None)
@given(valid_codes, st.integers(min_value=0, max_value=17), st.sampled_from(changeable))
def test_a_single_character_change_of_a_valid_code_fails(code, position, replacement):
    if replacement.upper() == code[position]:
        replacement = ALPHABET[(ALPHABET.index(code[position]) + 1) % len(ALPHABET)]
    changed = code[:position] + replacement + code[position + 1:]
    with pytest.raises(InvalidCreditCode):
        validate(changed)


@settings(max_examples=300, deadline=None, database=None)
@given(valid_codes, st.integers(min_value=0, max_value=15))
def test_swapping_two_neighbours_of_the_body_fails(code, position):
    """The weights 3^i (mod 31) catch every transposition of two different neighbours."""
    a, b = code[position], code[position + 1]
    if a == b:
        return
    swapped = code[:position] + b + a + code[position + 2:]
    with pytest.raises(InvalidCreditCode):
        validate(swapped)
