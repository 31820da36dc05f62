"""Chinese identifier checks and personal-data finders (pure Python, no dependencies).

- 统一社会信用代码 Unified social credit code (GB 32100-2015): 18 characters, check character at 18.
- 居民身份证号码 Resident ID number (GB 11643-1999): region + birth date + sequence + ISO 7064 MOD 11-2 (in free
  text one typed with a wrong check character still identifies its holder: ``id_number_is_plausible``).
- Mobile numbers (``1[3-9]`` + 9 digits) and bank card numbers (Luhn, 16-19 digits) in free text.

Finders only match digit runs that are not part of a longer run of digits, so an amount such as
``123456789012345678901`` does not yield an ID number and a bid code does not yield a mobile.
"""
from __future__ import annotations

import datetime as _dt
import re

# GB 32100: the 31 characters allowed (no I, O, S, V, Z), in value order.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# GB 11643 / ISO 7064 MOD 11-2
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# First two digits of GB/T 2260 provinces (11 Beijing … 65 Xinjiang, 71 Taiwan, 81/82 HK/Macau).
_ID_PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)


def uscc_check_char(first17: str) -> str:
    """Check character (position 18) for the first 17 characters of a USCC."""
    if len(first17) != 17:
        raise ValueError(f"统一社会信用代码前17位长度应为17 expected 17 characters, got {len(first17)}")
    total = 0
    for ch, weight in zip(first17.upper(), _USCC_WEIGHTS):
        if ch not in _USCC_VALUE:
            raise ValueError(f"统一社会信用代码含非法字符 invalid character {ch!r}")
        total += _USCC_VALUE[ch] * weight
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_validate(code: str | None) -> tuple[bool, str | None]:
    """(is_valid, reason) — reason is a "中文 English" sentence, None when valid."""
    if code is None:
        return False, "代码为空 code is empty"
    code = code.strip()
    if len(code) != 18:
        return False, f"长度应为18位，实际{len(code)}位 length must be 18, got {len(code)}"
    bad = sorted({ch for ch in code if ch not in _USCC_VALUE})
    if bad:
        return False, f"含非法字符「{''.join(bad)}」 characters outside the GB 32100 alphabet: {''.join(bad)}"
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        return False, f"校验码错误，应为{expected}，实际为{code[17]} check character should be {expected}, got {code[17]}"
    return True, None


def uscc_is_valid(code: str | None) -> bool:
    return uscc_validate(code)[0]


def make_uscc(prefix17: str) -> str:
    """Complete 17 characters with their check character."""
    return prefix17.upper() + uscc_check_char(prefix17)


def id_check_char(first17: str) -> str:
    """GB 11643 check character for the first 17 digits of an ID number."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("身份证号前17位应为17位数字 expected 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS))
    return _ID_CHECK[total % 11]


def _id_date_is_real(yyyymmdd: str) -> bool:
    try:
        day = _dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    return _dt.date(1900, 1, 1) <= day <= _dt.date(2100, 12, 31)


def id_number_is_valid(s: str | None) -> bool:
    """18-character resident ID: known province digits, a real birth date, correct MOD 11-2 check."""
    if not s or len(s) != 18:
        return False
    s = s.upper()
    if not s[:17].isdigit() or not (s[17].isdigit() or s[17] == "X"):
        return False
    if s[:2] not in _ID_PROVINCES or s[2:6] == "0000":
        return False
    if not _id_date_is_real(s[6:14]):
        return False
    return id_check_char(s[:17]) == s[17]


def id_number_is_plausible(s: str | None, today: _dt.date | None = None) -> bool:
    """An ID number as a person may have typed it, whatever its check character: 17 digits then a digit or X,
    known province digits, a non-zero region, a real birth date from 1900-01-01 up to ``today`` (default: the
    date today), a 3-digit sequence. Its first 17 digits identify a person (the check character is computed from
    them), so in free text such a number is personal even when its check character is wrong; in codes and keys
    only ``id_number_is_valid`` counts (a project code can be region + date + sequence)."""
    if not s or len(s) != 18:
        return False
    s = s.upper()
    if not s[:17].isdigit() or not (s[17].isdigit() or s[17] == "X"):
        return False
    if s[:2] not in _ID_PROVINCES or s[2:6] == "0000" or not _id_date_is_real(s[6:14]):
        return False
    return _dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14])) <= (today or _dt.date.today())


def make_id_number(region6: str, birth: _dt.date | str, sequence: int) -> str:
    """Build a checksum-valid ID number (region code, birth date, 3-digit sequence: odd = male)."""
    if isinstance(birth, _dt.date):
        birth = birth.strftime("%Y%m%d")
    first17 = f"{region6}{birth}{sequence % 1000:03d}"
    return first17 + id_check_char(first17)


def luhn_is_valid(digits: str) -> bool:
    if not digits or not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_check_digit(partial: str) -> str:
    """The digit that makes ``partial + digit`` Luhn-valid."""
    for d in "0123456789":
        if luhn_is_valid(partial + d):
            return d
    raise AssertionError("unreachable")


# Finding personal numbers in text is ``personal_numbers``' job (every written form: spaces, hyphens,
# full-width digits, +86); these finders are that one definition, returning the numbers themselves.


def _found(text: str | None, kind: str) -> list[str]:
    from dagster_project import personal_numbers  # imports this module

    return [re.sub(r"[^0-9X]", "", h.span.upper()) for h in personal_numbers.find(text) if h.kind == kind]


def find_id_numbers(text: str | None) -> list[str]:
    """18-character ID numbers in free text, in any written form, not inside longer digit runs: checksum-valid ones
    and ones typed with a wrong check character (``id_number_is_plausible``; ``personal_numbers.classify``)."""
    return _found(text, "id_number")


def find_mobiles(text: str | None) -> list[str]:
    """Mobile numbers (the 11 digits, without an 86 / 0086 prefix) in any written form."""
    return [m[-11:] for m in _found(text, "mobile")]


def find_bank_cards(text: str | None) -> list[str]:
    """Luhn-valid 16-19 digit numbers that are neither an ID number nor a credit code."""
    return _found(text, "bank_card")


def mask_id_number(s: str) -> str:
    return s[:6] + "*" * (len(s) - 10) + s[-4:]


def mask_mobile(s: str) -> str:
    return s[:3] + "****" + s[-4:]


def mask_bank_card(s: str) -> str:
    """First 6 (the issuer) + last 4, as ID numbers."""
    return s[:6] + "*" * (len(s) - 10) + s[-4:]


def mask_personal_data(text: str | None) -> str | None:
    """Mask ID numbers and bank cards (keep first 6 + last 4) and mobiles (first 3 + last 4)."""
    from dagster_project import personal_numbers

    return personal_numbers.mask(text)
