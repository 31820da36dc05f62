"""GB 32100 / GB 11643 / Luhn checks and the personal-data finders, against known values."""
import datetime as dt

import pytest

from dagster_project import identifiers as ids

KNOWN_USCC = "91110000600037341L"
KNOWN_ID = "11010519491231002X"


def test_known_uscc_is_valid():
    assert ids.uscc_validate(KNOWN_USCC) == (True, None)
    assert ids.uscc_check_char(KNOWN_USCC[:17]) == KNOWN_USCC[17]


@pytest.mark.parametrize("wrong", [c for c in ids.USCC_ALPHABET if c != "L"])
def test_flipped_check_char_is_invalid(wrong):
    ok, reason = ids.uscc_validate(KNOWN_USCC[:17] + wrong)
    assert not ok and "校验码" in reason and "check character" in reason


def test_uscc_length_and_alphabet_reasons():
    ok, reason = ids.uscc_validate(KNOWN_USCC[:-1])
    assert not ok and "length" in reason and "长度" in reason
    ok, reason = ids.uscc_validate("91110000600037341O")  # O not in the alphabet
    assert not ok and "alphabet" in reason
    assert ids.uscc_validate(None)[0] is False


@pytest.mark.parametrize("prefix", ["A", "N", "Y", "1", "5", "9"])
def test_make_uscc_any_registering_authority(prefix):
    code = ids.make_uscc(prefix + "1640000MB1234567")
    assert len(code) == 18 and ids.uscc_validate(code)[0]


def test_known_id_number_valid_and_tampering_detected():
    assert ids.id_number_is_valid(KNOWN_ID)
    assert ids.id_number_is_valid(KNOWN_ID.lower())
    assert not ids.id_number_is_valid(KNOWN_ID[:-1] + "1")
    assert not ids.id_number_is_valid("110105" + "19490230" + "002" + "X")  # 30 Feb
    bad_date = "11010519490230002"
    assert not ids.id_number_is_valid(bad_date + ids.id_check_char(bad_date))
    bad_region = "99010519491231002"
    assert not ids.id_number_is_valid(bad_region + ids.id_check_char(bad_region))


def test_make_id_number_roundtrip():
    for seq in range(0, 1000, 37):
        s = ids.make_id_number("640104", dt.date(1980, 2, 29), seq)
        assert ids.id_number_is_valid(s) and s.startswith("64010419800229")


def test_luhn():
    assert ids.luhn_is_valid("4111111111111111")
    assert not ids.luhn_is_valid("4111111111111112")
    p = "622202100112345678"
    assert ids.luhn_is_valid(p + ids.luhn_check_digit(p))


def test_finders_respect_digit_run_boundaries():
    text = f"负责人身份证{KNOWN_ID}，电话13912345678；金额1{KNOWN_ID[:17]}5元；编号2013912345678"
    assert ids.find_id_numbers(text) == [KNOWN_ID]
    assert ids.find_mobiles(text) == ["13912345678"]
    assert ids.find_mobiles("12012345678 和 0951-5012345") == []


def test_find_bank_cards():
    card = "6222021001123456" + ids.luhn_check_digit("6222021001123456")
    text = f"收款卡号{card}，另有{card[:-1]}{(int(card[-1]) + 1) % 10}"
    assert ids.find_bank_cards(text) == [card]


def test_mask_personal_data():
    card = "622202100112345678" + ids.luhn_check_digit("622202100112345678")
    text = f"张三 {KNOWN_ID} 电话13912345678 卡{card} 固话0951-5012345 金额12345.67"
    masked = ids.mask_personal_data(text)
    assert KNOWN_ID not in masked and "110105********002X" in masked
    assert "139****5678" in masked
    assert card not in masked and masked.count(card[:6] + "*" * (len(card) - 10) + card[-4:]) == 1
    assert "0951-5012345" in masked and "12345.67" in masked and masked.startswith("张三 ")
    assert ids.find_id_numbers(masked) == [] and ids.find_mobiles(masked) == [] and ids.find_bank_cards(masked) == []
    assert ids.mask_personal_data("") == "" and ids.mask_personal_data(None) is None
