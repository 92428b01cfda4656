"""Unit tests of the field rules in domain/: identity numbers, names, phones, passwords."""
from datetime import date, timedelta

import pytest
from argon2 import PasswordHasher
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from domain import clock, id_numbers, passwords, person_names, phones
from domain.id_numbers import RESIDENT_ID, InvalidIdNumber
from tests.helpers import PASSWORD, make_id

DIGITS = "0123456789"
# GB/T 2260 province-level codes (written out here, not taken from the module under test).
PROVINCE_CODES = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82",
]
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def with_check(body: str) -> str:
    assert len(body) == 17
    return body + ric.calc_check_digit(body + "0")


def validate_id(number, id_type=RESIDENT_ID, **kwargs):
    return id_numbers.validate(id_type, number, **kwargs)


def refused(number, id_type=RESIDENT_ID, **kwargs) -> str:
    with pytest.raises(InvalidIdNumber) as problem:
        id_numbers.validate(id_type, number, **kwargs)
    return str(problem.value)


# --- 居民身份证: properties -------------------------------------------------------------------

@st.composite
def resident_ids(draw):
    region = draw(st.sampled_from(PROVINCE_CODES)) + draw(st.text(DIGITS, min_size=4, max_size=4))
    born = draw(st.dates(min_value=date(1920, 1, 1), max_value=clock.today()))
    sequence = draw(st.text(DIGITS, min_size=3, max_size=3))
    return with_check(region + born.strftime("%Y%m%d") + sequence)


@settings(max_examples=300, deadline=None)
@given(resident_ids())
def test_every_valid_resident_id_passes(number):
    assert validate_id(number) == number


@settings(max_examples=200, deadline=None)
@given(resident_ids())
def test_every_single_character_change_fails(number):
    for position in range(18):
        alphabet = DIGITS if position < 17 else DIGITS + "X"
        for replacement in alphabet:
            if replacement == number[position]:
                continue
            changed = number[:position] + replacement + number[position + 1:]
            with pytest.raises(InvalidIdNumber):
                validate_id(changed)


@settings(max_examples=200, deadline=None)
@given(resident_ids())
def test_every_adjacent_swap_fails(number):
    for position in range(17):
        a, b = number[position], number[position + 1]
        if a == b:
            continue
        swapped = number[:position] + b + a + number[position + 2:]
        with pytest.raises(InvalidIdNumber):
            validate_id(swapped)


@settings(max_examples=100, deadline=None)
@given(resident_ids())
def test_typed_variants_normalise_to_the_same_number(number):
    assert validate_id(number.lower()) == number
    assert validate_id(number.translate(FULL_WIDTH)) == number
    spaced = f" {number[:6]} {number[6:14]}\u3000{number[14:]} "
    assert validate_id(spaced) == number


# --- 居民身份证: table ------------------------------------------------------------------------

def test_wrong_check_digit():
    number = make_id()
    wrong = "0" if number[-1] != "0" else "1"
    assert "校验位" in refused(number[:-1] + wrong)


def test_birth_date_that_does_not_exist():
    assert "出生日期不存在" in refused(with_check("530102" + "19990230" + "123"))


def test_future_birth_date():
    tomorrow = clock.today() + timedelta(days=1)
    assert "出生日期不正确" in refused(with_check("530102" + tomorrow.strftime("%Y%m%d") + "123"))
    # born today is fine; and `today` can be given explicitly
    assert validate_id(with_check("530102" + clock.today().strftime("%Y%m%d") + "123"))
    born = date(2001, 5, 6)
    number = with_check("530102" + born.strftime("%Y%m%d") + "123")
    assert "出生日期不正确" in refused(number, today=date(2001, 5, 5))
    assert validate_id(number, today=born) == number


def test_birth_before_1900_refused():
    assert "出生日期不正确" in refused(with_check("530102" + "18991231" + "123"))


def test_fifteen_digit_old_number():
    message = refused("530102900101123")
    assert "15位" in message


@pytest.mark.parametrize("number, words", [
    ("53010219900101123", "应为18位，您填写了17位"),
    ("5301021990010112345", "应为18位，您填写了19位"),
    ("53010219900101A123", "只能由数字组成"),
    ("", "请填写证件号码"),
    ("9" * 40, "过长"),
])
def test_malformed_resident_ids(number, words):
    assert words in refused(number)


def test_unknown_region_prefix():
    assert "地区代码" in refused(with_check("990102" + "19900101" + "123"))


def test_full_width_digits_normalised_and_accepted():
    number = make_id()
    typed = number.translate(FULL_WIDTH)
    assert typed.startswith("５３０１０２")
    assert validate_id(typed) == number


def test_lowercase_x_normalised_to_upper():
    number = next(with_check("530102" + "19900101" + f"{seq:03d}") for seq in range(1000)
                  if with_check("530102" + "19900101" + f"{seq:03d}").endswith("X"))
    assert validate_id(number.lower()) == number
    assert validate_id(number.lower()).endswith("X")


def test_internal_spaces_and_hyphens_stripped():
    number = make_id()
    assert validate_id(f"{number[:6]} {number[6:14]} {number[14:]}") == number
    assert validate_id(f" {number[:6]}-{number[6:]}\t") == number
    assert validate_id(number[:9] + "\u200b" + number[9:]) == number


def test_region_outside_yunnan_accepted():
    number = with_check("110105" + "19851231" + "456")
    assert validate_id(number) == number


def test_unknown_id_type_refused():
    assert "证件类型" in refused(make_id(), id_type="驾驶证")


# --- other document types ----------------------------------------------------------------------

@pytest.mark.parametrize("id_type, number", [
    ("港澳居民居住证", with_check("810000" + "19900101" + "123")),
    ("港澳居民居住证", with_check("820000" + "19800229" + "456")),
    ("台湾居民居住证", with_check("830000" + "19751010" + "789")),
    ("护照", "E12345678"),
    ("护照", "g1234567"),
    ("港澳居民来往内地通行证", "H12345678"),
    ("港澳居民来往内地通行证", "M1234567890"),
    ("台湾居民来往大陆通行证", "12345678"),
    ("台湾居民来往大陆通行证", "1234567890"),
    ("外国人永久居留身份证", "USA123456789012"),
    ("外国人永久居留身份证", with_check("911000" + "19900101" + "123")),
])
def test_other_documents_accepted(id_type, number):
    assert validate_id(number, id_type) == number.upper()


@pytest.mark.parametrize("id_type, number, words", [
    ("港澳居民居住证", make_id(), "应以81或82开头"),
    ("港澳居民居住证", with_check("830000" + "19900101" + "123"), "应以81或82开头"),
    ("台湾居民居住证", with_check("810000" + "19900101" + "123"), "应以83开头"),
    ("港澳居民居住证", "810000199001011230"[:-1] + "Y", "只能由数字组成"),
    ("港澳居民居住证", "81000019900101123", "应为18位"),
    ("护照", "E12", "5至17位"),
    ("护照", "E123456789012345678", "5至17位"),
    ("护照", "护照E1234567", "5至17位"),
    ("护照", "E1234<script>", "5至17位"),
    ("港澳居民来往内地通行证", "A12345678", "H或M"),
    ("港澳居民来往内地通行证", "H1234567", "H或M"),
    ("港澳居民来往内地通行证", "H123456789", "H或M"),
    ("台湾居民来往大陆通行证", "1234567", "8位或10位"),
    ("台湾居民来往大陆通行证", "T12345678", "8位或10位"),
    ("外国人永久居留身份证", "US1234567890123", "永久居留"),
    ("外国人永久居留身份证", with_check("811000" + "19900101" + "123"), "永久居留"),
])
def test_other_documents_refused(id_type, number, words):
    assert words in refused(number, id_type)


def test_permit_with_wrong_check_digit_refused():
    number = with_check("810000" + "19900101" + "123")
    wrong = "0" if number[-1] != "0" else "1"
    assert "校验位" in refused(number[:-1] + wrong, "港澳居民居住证")
    new_card = with_check("911000" + "19900101" + "123")
    wrong = "0" if new_card[-1] != "0" else "1"
    assert "校验位" in refused(new_card[:-1] + wrong, "外国人永久居留身份证")


def test_mask_keeps_prefix_and_last_four():
    number = make_id()
    assert id_numbers.mask(number) == number[:6] + "********" + number[-4:]
    assert id_numbers.mask("") == ""


def test_birth_date_and_gender_from_number():
    number = with_check("530102" + "19870615" + "123")  # 17th digit 3: odd, male
    assert id_numbers.birth_date_of(RESIDENT_ID, number) == date(1987, 6, 15)
    assert id_numbers.gender_of(RESIDENT_ID, number) == "男"
    female = with_check("530102" + "19870615" + "124")
    assert id_numbers.gender_of(RESIDENT_ID, female) == "女"
    assert id_numbers.gender_of("护照", "E12345678") is None


# --- names -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, cleaned", [
    ("张三", "张三"),
    ("阿依古丽·买买提", "阿依古丽·买买提"),
    ("阿依古丽•买买提", "阿依古丽·买买提"),
    ("John Smith", "John Smith"),
    ("  John   Smith ", "John Smith"),
    ("王𠀀", "王𠀀"),  # CJK extension B (生僻字)
    ("张" * 30, "张" * 30),
])
def test_names_accepted(name, cleaned):
    assert person_names.validate(name) == cleaned


@pytest.mark.parametrize("name, words", [
    ("<script>", "只能包含汉字、字母和间隔号"),
    ("<script>alert(1)</script>", "只能包含汉字、字母和间隔号"),
    ("Robert'); DROP TABLE", "只能包含汉字、字母和间隔号"),
    ("张\u200b三", "不可见字符"),
    ("张\ufeff三", "不可见字符"),
    ("张", "应为2至30个字"),
    ("张" * 31, "应为2至30个字"),
    ("张三3", "只能包含汉字、字母和间隔号"),
    ("·张三", "只能包含汉字、字母和间隔号"),
    ("", "请填写姓名"),
    ("   ", "请填写姓名"),
])
def test_names_refused(name, words):
    with pytest.raises(person_names.InvalidName) as problem:
        person_names.validate(name)
    assert words in str(problem.value)


def test_huge_name_refused_without_work():
    huge = "张" * (200 * 1024 // 3 + 1)  # a 200 KB string in UTF-8
    assert len(huge.encode()) > 200 * 1024
    with pytest.raises(person_names.InvalidName) as problem:
        person_names.validate(huge)
    assert "最多30个字" in str(problem.value)


# --- phones ------------------------------------------------------------------------------------

@pytest.mark.parametrize("phone, words", [
    ("+8613800000000", "不要加+86"),
    ("8613800000000", "不要加+86"),
    ("138000000001", "应为11位，您填写了12位"),
    ("1380000000", "应为11位，您填写了10位"),
    ("12800000000", "以13–19开头"),
    ("23800000000", "以13–19开头"),
    ("1380000abcd", "只能由数字组成"),
    ("", "请填写手机号码"),
])
def test_phones_refused(phone, words):
    with pytest.raises(phones.InvalidPhone) as problem:
        phones.validate(phone)
    assert words in str(problem.value)


@pytest.mark.parametrize("phone", [
    "138 0000 1111", "138-0000-1111", "１３８００００１１１１", " 13800001111 ",
])
def test_phones_accepted(phone):
    assert phones.validate(phone) == "13800001111"


def test_phone_mask():
    assert phones.mask("13800001111") == "138****1111"


# --- passwords ---------------------------------------------------------------------------------

def weak(password, **identity) -> str:
    with pytest.raises(passwords.WeakPassword) as problem:
        passwords.check_strength(password, **identity)
    return str(problem.value)


def test_good_password_accepted():
    assert passwords.check_strength(PASSWORD) is None
    assert passwords.check_strength("Yunnan#2026kj", id_number=make_id(),
                                    phone="13800001111") is None


@pytest.mark.parametrize("password", ["Ab1#xyz", "Ab1#" + "x" * 61, ""])
def test_password_length(password):
    message = weak(password)
    assert "8至64位" in message or "请设置密码" in message


def test_password_length_bounds_accepted():
    assert passwords.check_strength("Ab1#xyzw") is None
    assert passwords.check_strength("Ab1#" + "x" * 60) is None


@pytest.mark.parametrize("password", ["abcdefgh1", "ABCDEFGH1", "abcdefgh!", "12345678!", "abcdEFGHij"])
def test_password_needs_three_classes(password):
    assert "至少三类" in weak(password)


@pytest.mark.parametrize("password", ["Aa123456", "P@ssw0rd", "p@SSW0RD"])
def test_common_passwords_refused(password):
    assert "太常见" in weak(password)


def test_password_containing_id_number_or_phone_refused():
    number = make_id()
    assert "证件号码" in weak(f"Ab#{number}", id_number=number)
    x_number = next(make_id(seq=f"{seq:03d}") for seq in range(1000)
                    if make_id(seq=f"{seq:03d}").endswith("X"))
    assert "证件号码" in weak(f"Ab#{x_number.lower()}", id_number=x_number)
    assert "手机号码" in weak("Ab#13800001111", phone="13800001111")


def test_hashes_are_argon2id():
    hasher = passwords.Hasher(memory_cost=1024, time_cost=1)
    stored = hasher.hash(PASSWORD)
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert PasswordHasher().verify(stored, PASSWORD)
    assert hasher.verify(stored, PASSWORD)
    assert not hasher.verify(stored, PASSWORD + "x")
    assert not hasher.verify(None, PASSWORD)
    assert not hasher.verify("not-a-hash", PASSWORD)
