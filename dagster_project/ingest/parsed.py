"""The shapes a parsed budget/debt file takes, and how a cell becomes an amount or a code.

Shared by the recogniser (grids → tables), the narrative reader (text → sections, stated figures) and
the loader (shapes → raw tables). No file format and no table knowledge here.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path


CENT = Decimal("0.01")
MAX_HEADER_ROWS = 3
HEADER_SEARCH_ROWS = 15
_BLANK_AMOUNTS = {"", "-", "--", "—", "——", "–", "−", "－"}
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_BRACKETED = re.compile(r"\((.+)\)")
_YEAR = re.compile(r"([0-9０-９]{4}|[〇○零一二三四五六七八九]{4})\s*年")
_CN_DIGITS = str.maketrans("〇○零一二三四五六七八九", "00012345678" + "9")
_LEADING_CODE = re.compile(r"^(\d{3,})(?![\d年])\s*(.*)$", re.S)
_LABEL_CODE = re.compile(r"^(\d{3}|\d{5}|\d{7})(?![\d年月日.%])\s*(.*)$", re.S)
_CODE_LIKE = re.compile(r"^\d{3}(?:\d{2}){0,2}$")
WORKBOOK_FAMILIES = ("budget", "debt")


# ---------------------------------------------------------------------------------------------------
# Parsed shapes
@dataclass
class ParsedLine:
    source_row: int
    side: str | None
    line_code: str | None
    line_label: str | None
    indent_level: int
    is_total: bool
    row_key: str | None
    column_key: str
    source_column: str
    value_text: str | None
    amount_yuan: Decimal | None
    source_page: int | None = None  # PDF page (source_row then counts lines on that page)


@dataclass
class ParsedCount:
    """A count cell of a table (因公出国（境）团组数 2): a whole number of trips, people, vehicles or batches, not an
    amount — its column (a count column) or its row (a count item of a lower block) names what it counts."""
    source_row: int
    line_label: str | None
    count_key: str                  # what is counted: the spec's count key of the column or of the row
    column_key: str                 # the column it stands in (the count key itself, or amount / budget … of a row layout)
    source_column: str
    value_text: str | None
    count_value: int
    source_page: int | None = None


@dataclass
class RowReject:
    sheet: str
    source_row: int | None
    source_column: str | None
    raw_value: str | None
    reason: str
    source_page: int | None = None


@dataclass
class ParsedSheet:
    sheet: str
    sheet_index: int
    status: str = "parsed"  # parsed | unknown_table | error
    reason: str | None = None
    title: str | None = None
    table_name: str | None = None
    table_keys: tuple[str, ...] = ()
    kind: str | None = None
    entity_name: str | None = None
    publisher_line: str | None = None
    fiscal_year: int | None = None
    # the years a line under a title naming none names, when several (2024年决算数 | 2025年预算数): the file's decides
    year_choices: tuple[int, ...] = ()
    # a budget 1-1's figures' year, as its limit/balance headers (or items) name it: which budget it serves (debt_year.py)
    figures_year: int | None = None
    # a budget 1-1 whose headers say 决算 / 执行 (决算数, 年末余额执行数): a final's words (debt_year.py)
    closed_headers: bool = False
    # a 1-1 whose headers say 调整 (调整后债务限额): a mid-year adjustment's own year, never re-dated (debt_year.py)
    adjusted: bool = False
    # the years the header band names (2023年执行数 | 2024年预算数 → 2023, 2024): a debt table titled with its figures'
    # year names the budget it serves there (debt_year.next_year_tables)
    header_years: tuple[int, ...] = ()
    phase: str | None = None
    unit_label: str | None = None
    unit_multiplier: Decimal = Decimal(1)
    code_layout: str | None = None
    header_row_count: int | None = None
    note_text: str | None = None
    is_empty: bool | None = None
    has_empty_note: bool | None = None
    column_map: dict[str, str] = field(default_factory=dict)  # column letter → column_key / role
    lines: list[ParsedLine] = field(default_factory=list)
    counts: list[ParsedCount] = field(default_factory=list)
    rejects: list[RowReject] = field(default_factory=list)
    rows_in: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def data_row_count(self) -> int:
        return self.rows_loaded


@dataclass
class ParsedSection:
    """A required explanation found in the running text (a heading of one of the catalogue's sections)."""
    table_name: str                 # catalogue name of the explanation (e.g. 机关运行经费情况说明)
    heading: str                    # the heading as printed
    sheet: str | None               # workbook sheet holding it (None in a PDF)
    source_page: int | None
    source_row: int
    body_chars: int                 # characters of text under the heading, up to the next heading


@dataclass
class ParsedStatement:
    """A figure or year the narrative states, to be read against the tables (narrative rules)."""
    statement_key: str              # e.g. income_total, fiscal_appropriation, sangong_total, year_named
    section: str | None             # catalogue name of the section it stands in
    value_text: str
    amount_yuan: Decimal | None
    tolerance_yuan: Decimal | None  # half a unit of the last digit printed
    year_named: int | None
    sheet: str | None
    source_page: int | None
    source_row: int
    excerpt: str
    count_value: int | None = None  # a count the 三公 explanation states (团组2个), statement_key its count key


@dataclass
class ParsedWorkbook:
    path: Path
    sheets: list[ParsedSheet]
    file_format: str = "xlsx"
    sections: list[ParsedSection] = field(default_factory=list)
    statements: list[ParsedStatement] = field(default_factory=list)
    # the disclosure the file is, from its tables (or its cover when it has none)
    entity_name: str | None = None
    fiscal_year: int | None = None
    phase: str | None = None
    page_count: int | None = None

    @property
    def rows_in(self) -> int:
        return sum(s.rows_in for s in self.sheets)

    @property
    def rows_loaded(self) -> int:
        return sum(s.rows_loaded for s in self.sheets)

    @property
    def rows_rejected(self) -> int:
        return sum(s.rows_rejected for s in self.sheets)

    @property
    def lines(self) -> list[ParsedLine]:
        return [line for s in self.sheets for line in s.lines]

    @property
    def rejects(self) -> list[RowReject]:
        return [r for s in self.sheets for r in s.rejects]


class SheetError(Exception):
    """A sheet that names a known table but cannot be read; the other sheets go on."""


# ---------------------------------------------------------------------------------------------------
# Cell helpers
def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def year_of(match: re.Match | None) -> int | None:
    """The year a ``_YEAR`` match names (2024年, ２０２４年, 二〇二四年 → 2024)."""
    return int(nfkc(match.group(1)).translate(_CN_DIGITS)) if match else None


def years_in(texts) -> set[int]:
    """Every year the texts name."""
    return {year for text in texts for m in _YEAR.finditer(nfkc(text or "")) if (year := year_of(m))}


def parse_amount(value: object) -> tuple[bool, Decimal]:
    """(ok, amount in the sheet's unit). Blank and dashes are 0; other text is not a number."""
    if value is None:
        return True, Decimal(0)
    if isinstance(value, bool):
        return False, Decimal(0)
    if isinstance(value, int):
        return True, Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return False, Decimal(0)
        return True, Decimal(repr(value))  # the shortest repr is what the sheet showed; no float maths
    if isinstance(value, Decimal):
        return True, value
    if not isinstance(value, str):
        return False, Decimal(0)  # dates, times: not an amount
    text = re.sub(r"\s+", "", nfkc(value)).replace(",", "").replace("\u2212", "-")
    if text in _BLANK_AMOUNTS:
        return True, Decimal(0)
    # accounting notation: (1,234.50) / （1,234.50） is -1234.50 (NFKC made the brackets ASCII)
    negative = _BRACKETED.fullmatch(text)
    if negative and _NUMBER.fullmatch(negative.group(1)) and negative.group(1)[0] not in "+-":
        return True, -Decimal(negative.group(1))
    if _NUMBER.fullmatch(text):
        try:
            return True, Decimal(text)
        except InvalidOperation:  # pragma: no cover - the regex already guards this
            return False, Decimal(0)
    return False, Decimal(0)


_COUNT_UNITS = r"(?:个|人次|人|辆|批次|批|次|团|组)?"
_COUNT = re.compile(r"(\d+)(?:\.0*)?" + _COUNT_UNITS)
_CN_COUNT = re.compile(r"([〇零一二两三四五六七八九十百]+)" + _COUNT_UNITS)
# The digits of the Chinese-numeral grammar, shared with the trading loader's SQL reading of ranks and counts below 100
# (text_values.chinese_numeral_sql): a units or hundreds digit may be 两, a tens digit never (两十 is no number).
CN_DIGITS, CN_TENS_DIGITS = "一二两三四五六七八九", "一二三四五六七八九"
# A whole number below 1 000 in Chinese numerals, as counts are written in a table's cell or a narrative (三, 两, 十二,
# 二十, 一百零五, 二百一十): hundreds, tens, units in that order, 零 only for empty tens between hundreds and units.
_CN_WHOLE = re.compile(f"(?:(?P<h>[{CN_DIGITS}])百)?(?:(?P<t>[{CN_TENS_DIGITS}])?(?P<ten>十)|(?P<zero>零))?"
                       f"(?P<u>[{CN_DIGITS}])?")
_CN_VALUE = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"两": 2, "〇": 0}


def whole_number(text: str) -> int | None:
    """A whole number written in digits (12) or in Chinese numerals (两 2, 十二 12, 一百零五 105; 零 or 〇 alone 0);
    None for anything else — 三三 or 十十 are no number, never a guess."""
    if text.isdecimal():
        return int(text)
    if text in ("零", "〇"):
        return 0
    m = _CN_WHOLE.fullmatch(text)
    if not text or m is None or (m["zero"] and not (m["h"] and m["u"])):
        return None
    hundreds = _CN_VALUE[m["h"]] * 100 if m["h"] else 0
    tens = (_CN_VALUE[m["t"]] if m["t"] else 1) * 10 if m["ten"] else 0
    return hundreds + tens + (_CN_VALUE[m["u"]] if m["u"] else 0)


def parse_count(value: object) -> int | None:
    """A count cell as a whole number (2, '2个', '12辆', full-width '０', Chinese numerals '三', '两辆', '十二人次';
    blank and dashes are 0), or None when it is not one: a fraction (an amount-like 12.50), a negative, words."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        return int(number) if number.is_finite() and number >= 0 and number == number.to_integral_value() else None
    if not isinstance(value, str):
        return None
    text = re.sub(r"\s+", "", nfkc(value)).replace(",", "")
    if text in _BLANK_AMOUNTS:
        return 0
    if m := _COUNT.fullmatch(text):
        return int(m.group(1))
    m = _CN_COUNT.fullmatch(text)
    return whole_number(m.group(1)) if m else None


def indent_of(raw_label: str, alignment_indent: float | int | None = None) -> int:
    """Depth shown by leading spaces: one full-width space or two half-width spaces per level."""
    full = half = 0
    for ch in raw_label:
        if ch == "\u3000":
            full += 1
        elif ch in " \xa0\t":
            half += 1
        else:
            break
    return max(full + (half + 1) // 2, int(alignment_indent or 0))


def _code_part(value: object) -> str | None:
    """A code cell as digits (numbers come back as 201.0 or 1); None when it is not a code."""
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return str(int(value)) if float(value).is_integer() and value >= 0 else None
    text = nfkc(str(value)).strip()
    return text if text.isdigit() else None


