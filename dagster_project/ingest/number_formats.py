"""A workbook cell's number format: what a person reads where the file stores a bare number.

A cell stores what a formula computed or what was typed (``3.441395``, ``0.15``, ``45356``) and shows it through its
number format (``0.00`` → ``3.44``, ``0%`` → ``15%``, ``yyyy"年"m"月"d"日"`` → a date). The readers (``readers.py``,
``xlsx_cells.py``, ``spreadsheet_xml.py``) put the format code beside the value in the grid (``Grid.formats``); this
module renders a number through it the way Excel/WPS/Calc print it, so the recogniser records the figure as printed
(``value_text``: the printed decimals decide the rounding tolerance in ``int_reconciliation_checks``) and can tell a
percentage from an amount. PDF and HTML cells carry no format: their text is already what was printed.

The subset rendered is what finance workbooks use: sections (``pos;neg;zero;text``), ``0``/``#``/``?`` digits,
thousands separators, trailing ``,`` scaling by 1000, ``%``, quoted/escaped literals (``"万元"``, ``\\年``),
``_x`` padding, ``*x`` fill, ``[Red]``/``[$¥-804]`` brackets. Anything else (conditions ``[>=100]``, scientific,
fractions, ``[DBNum1]`` Chinese numerals) gives ``None``: the caller keeps the stored value's text, as before.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# ECMA-376 Part 1 §18.8.30: number formats a file names by id without defining them. openpyxl knows 0–22 and 37–49;
# 27–36 and 50–58 are the East-Asian built-ins (zh-CN, as Excel and WPS in Chinese write them: a date typed in a
# Chinese Excel is stored with numFmtId 31 and no <numFmt>), all dates or times.
EAST_ASIAN_BUILTIN = {
    27: 'yyyy"年"m"月"', 28: 'm"月"d"日"', 29: 'm"月"d"日"', 30: "m-d-yy", 31: 'yyyy"年"m"月"d"日"',
    32: 'h"时"mm"分"', 33: 'h"时"mm"分"ss"秒"', 34: '上午/下午h"时"mm"分"', 35: '上午/下午h"时"mm"分"ss"秒"',
    36: 'yyyy"年"m"月"', 50: 'yyyy"年"m"月"', 51: 'm"月"d"日"', 52: 'yyyy"年"m"月"', 53: 'm"月"d"日"',
    54: 'm"月"d"日"', 55: '上午/下午h"时"mm"分"', 56: '上午/下午h"时"mm"分"ss"秒"', 57: 'yyyy"年"m"月"',
    58: 'm"月"d"日"',
}

_GENERAL = {"", "general", "@"}
_SPLIT = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|;')
_BRACKET_OK = re.compile(r"\[(?:red|black|blue|cyan|green|magenta|white|yellow|color\s*\d+|\$[^\]]*)\]", re.I)
_DATE_LETTERS = re.compile(r"[ymdhsYMDHSe]")


def is_general(code: str | None) -> bool:
    return code is None or code.strip().lower() in _GENERAL


def _sections(code: str) -> list[str]:
    out, start = [], 0
    for m in _SPLIT.finditer(code):
        if m.group(0) == ";":
            out.append(code[start:m.start()])
            start = m.end()
    out.append(code[start:])
    return out


def _tokens(section: str):
    """(kind, text) tokens: 'lit' literal text, 'num' the number pattern's characters, 'pct', 'bad'."""
    i, n = 0, len(section)
    while i < n:
        ch = section[i]
        if ch == '"':
            end = section.find('"', i + 1)
            end = n if end < 0 else end
            yield "lit", section[i + 1:end]
            i = end + 1
        elif ch == "\\" and i + 1 < n:
            yield "lit", section[i + 1]
            i += 2
        elif ch == "_" and i + 1 < n:
            yield "lit", " "  # the width of the next character: a space in text
            i += 2
        elif ch == "*" and i + 1 < n:
            i += 2  # fill to the column's width: nothing in text
        elif ch == "[":
            end = section.find("]", i)
            token = section[i:end + 1] if end >= 0 else section[i:]
            if not _BRACKET_OK.fullmatch(token):
                yield "bad", token
            elif token.startswith("[$"):
                yield "lit", token[2:-1].split("-")[0]  # [$¥-804] prints ¥
            i = (end + 1) if end >= 0 else n
        elif ch in "0#?.,":
            yield "num", ch
            i += 1
        elif ch == "%":
            yield "pct", ch
            i += 1
        elif ch in "Ee/@" or _DATE_LETTERS.match(ch):
            yield "bad", ch
            i += 1
        else:
            yield "lit", ch  # $ - + ( ) : space and CJK characters print as themselves
            i += 1


def _section_for(code: str, value: Decimal) -> tuple[str, bool] | None:
    """The section a value prints through, and whether the section prints the sign itself (negative sections do)."""
    sections = _sections(code)
    if len(sections) > 4:
        return None
    if value < 0 and len(sections) >= 2:
        return sections[1], True
    if value == 0 and len(sections) >= 3:
        return sections[2], False
    return sections[0], False


def _pattern(section: str):
    tokens = list(_tokens(section))
    if any(kind == "bad" for kind, _ in tokens):
        return None
    number = "".join(text for kind, text in tokens if kind == "num")
    return tokens, number


def printed_decimals(code: str | None, value: float | int | Decimal = 1) -> int | None:
    """Digits after the decimal point the format prints for ``value`` (None: General, or not rendered here)."""
    if is_general(code):
        return None
    chosen = _section_for(code, Decimal(str(value)))
    parsed = _pattern(chosen[0]) if chosen else None
    if parsed is None or not parsed[1]:
        return None
    _, number = parsed
    fraction = number.partition(".")[2].rstrip(",")
    return sum(1 for ch in fraction if ch in "0#?")


def is_percent(code: str | None) -> bool:
    """The format multiplies by 100 and prints ``%`` (``0%``, ``0.00%``): the cell shows a ratio, not an amount."""
    if is_general(code):
        return False
    first = _pattern(_sections(code)[0])
    return bool(first) and any(kind == "pct" for kind, _ in first[0])


def thousands_scale(code: str | None, value: float | int | Decimal = 1) -> int:
    """How many times the format divides by 1000 (``#,##0.00,,`` prints 1234567.8 as 1.23: 2)."""
    if is_general(code):
        return 0
    chosen = _section_for(code, Decimal(str(value)))
    parsed = _pattern(chosen[0]) if chosen else None
    if parsed is None or not parsed[1]:
        return 0
    integer_part, _, fraction = parsed[1].partition(".")
    return (len(integer_part) - len(integer_part.rstrip(","))) + (len(fraction) - len(fraction.rstrip(",")))


def render(value: float | int | Decimal, code: str | None) -> str | None:
    """The text Excel/WPS/Calc print for a number under ``code``; None where the format is General or not rendered
    here (the caller keeps the stored value's text)."""
    if is_general(code) or isinstance(value, bool):
        return None
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, ValueError, TypeError):
        return None
    if not number.is_finite():
        return None
    chosen = _section_for(code, number)
    parsed = _pattern(chosen[0]) if chosen else None
    if parsed is None:
        return None
    (tokens, pattern), signed_section = parsed, chosen[1]
    if not pattern:  # a section of literals only ("-" for zero)
        return "".join(text for kind, text in tokens if kind == "lit")
    integer_part, _, fraction = pattern.partition(".")
    scale = len(integer_part) - len(integer_part.rstrip(","))  # trailing commas: thousands each
    if "." in pattern:
        scale_fraction = len(fraction) - len(fraction.rstrip(","))
        scale += scale_fraction
        fraction = fraction.rstrip(",")
    integer_part = integer_part.rstrip(",")
    magnitude = abs(number) * (Decimal(100) ** sum(1 for kind, _ in tokens if kind == "pct"))
    magnitude = magnitude.scaleb(-3 * scale)
    decimals = sum(1 for ch in fraction if ch in "0#?")
    rounded = magnitude.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    whole, _, digits = f"{rounded:f}".partition(".")
    # optional fraction digits (#) drop trailing zeros; required ones (0) stay
    required = sum(1 for ch in fraction if ch == "0")
    digits = digits[:decimals]
    while len(digits) > required and digits.endswith("0"):
        digits = digits[:-1]
    min_whole = sum(1 for ch in integer_part if ch == "0")
    whole = whole.lstrip("0").rjust(min_whole, "0")
    if "," in integer_part and whole:
        whole = f"{int(whole):,}"
    text = whole + ("." + digits if "." in pattern else "")  # Excel prints '12.' for '0.##' on 12
    out, placed = [], False
    for kind, token in tokens:
        if kind == "num":
            if not placed:
                out.append(text)
                placed = True
        elif kind == "pct":
            out.append("%")
        else:
            out.append(token)
    printed = "".join(out)
    if number < 0 and not signed_section and rounded != 0:
        printed = "-" + printed
    return printed.strip()


@dataclass(frozen=True)
class Printed:
    """A numeric cell as its format prints it: the text, the thousands it divides by, whether it shows a percent."""
    text: str
    scale: int
    percent: bool
    unit: str | None = None  # the format's literal text ("万元" in '#,##0.00"万元"'), a unit if the caller knows it


def unit_literal(code: str | None) -> str | None:
    """The literal text a format prints beside the number in its first section ('#,##0.00"万元"' → 万元), spaces and
    brackets dropped; None when it prints none."""
    if is_general(code):
        return None
    parsed = _pattern(_sections(code)[0])
    if parsed is None or not parsed[1]:
        return None
    text = "".join(token for kind, token in parsed[0] if kind == "lit").strip(" \u3000()（）")
    return text or None


def printed_figure(value: object, code: str | None) -> Printed | None:
    """The cell as printed, where its format changes the stored number's text; None for General, text, dates and
    formats not rendered here (the stored value's text stands)."""
    if code is None or isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    text = render(value, code)
    if text is None:
        return None
    return Printed(text, thousands_scale(code, value), is_percent(code), unit_literal(code))


__all__ = ["Printed", "printed_figure", "EAST_ASIAN_BUILTIN", "is_general", "is_percent", "printed_decimals", "render", "thousands_scale",
           "unit_literal"]
