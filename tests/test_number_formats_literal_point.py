"""Number formats with literal text between the digit placeholders: the Chinese way of showing figures kept in 元 as
万元 (``0\\.0,``, ``0!.0,"万"``, ``0\\.0000``) or 亿元 (``0!.00,,"亿元"``).

Excel has no decimal point in such a format: it rounds the (scaled) value to a whole number and fills the
placeholders with its digits right to left, the literal ``.`` standing between them — 320 469 900 under ``0\\.0,`` is
320470 (thousands) printed ``32047.0``, which a reader takes for 32 047.0 万元. Before, the digits were all printed at
the first placeholder (``320470.``) and the amount divided by 1000 only: ten times too large (``0\\.0000``: 10 000
times). ``!x`` prints x as ``\\x`` does in Excel and WPS (a tutorial's ``0!.0,`` 百元/万元 tricks), and was taken for
a literal ``!``. A format not rendered here is now a row reject naming the cell, never the stored value read under the
table's unit. Calc's own rendering (``fixtures/number_formats/literal_point_calc.csv``, MAKE.md) is the reference.
"""
from __future__ import annotations

import csv
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from dagster_project.ingest.number_formats import printed_decimals, printed_shift, render, unit_literal
from dagster_project.ingest.grid import cell_text
from dagster_project.ingest.workbook import parse_workbook
from number_format_books import books

FIXTURES = Path(__file__).parent / "fixtures" / "number_formats"


AMOUNT_COLUMNS = ("amount", "amount_own_level")


def _calc_printed() -> list[tuple[float | int, str, str]]:
    """(value, format, what Calc prints) for each cell of the committed CSV, checked against books.py's grid."""
    with (FIXTURES / "literal_point_calc.csv").open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    assert header[1:] == books.LITERAL_POINT_FORMATS and len(rows) == len(books.LITERAL_POINT_VALUES)
    return [(value, code, text) for value, row in zip(books.LITERAL_POINT_VALUES, rows)
            for code, text in zip(books.LITERAL_POINT_FORMATS, row[1:])]


def test_a_literal_point_between_the_digits_prints_as_calc_prints_it():
    """Every cell of the grid as Calc 7.4 prints it; the one exception is a placeholder after the point that would
    print no digit ('#\\.##' on 0: Calc prints '.'), which is not rendered (so refused) rather than guessed."""
    unrendered = []
    for value, code, shown in _calc_printed():
        got = render(value, code)
        if got is None:
            unrendered.append((value, code))
            continue
        assert got == shown, (value, code, got, shown)
    assert unrendered == [(0, "#\\.##")]


def test_the_figure_printed_is_the_stored_value_divided_by_the_shift():
    """What the printed digits say (the point where a reader sees it) is the stored value over 10 ** shift, to the
    printed decimals: 320 469 900 under '0\\.0,' is 32 047.0 ≈ 320 469 900 / 10 ** 4."""
    for value, code, shown in _calc_printed():
        number = re.fullmatch(r"(-?[0-9,]*\.?[0-9]*)\D*", shown).group(1).replace(",", "")
        if number in ("", "."):
            continue
        shift, decimals = printed_shift(code, value), printed_decimals(code, value)
        assert decimals == len(number.partition(".")[2]), (code, shown)
        step = Decimal(1).scaleb(-decimals)
        assert abs(Decimal(number) - Decimal(repr(value)).scaleb(-shift)) <= step / 2, (value, code, shown, shift)


@pytest.mark.parametrize("code", [c for c in books.LITERAL_POINT_FORMATS if "\\" in c])
def test_an_exclamation_mark_escapes_the_next_character_as_a_backslash_does(code):
    bang = code.replace("\\", "!")
    for value in books.LITERAL_POINT_VALUES:
        assert render(value, bang) == render(value, code)
        assert printed_shift(bang, value) == printed_shift(code, value)
    assert unit_literal('0!.0,"万"') == "万" and unit_literal('0!.00,,亿元') == "亿元"


def _amount_lines(sheet):
    return {(line.row_key, line.column_key): line for line in sheet.lines if line.column_key in AMOUNT_COLUMNS}


@pytest.mark.parametrize(("number_format", "unit_text", "printed_in", "suffix"), [
    ("0\\.0,", "单位：万元", 10_000, ""),
    ("0\\.0000", "单位：万元", 10_000, ""),
    ('0!.0,"万"', "单位：万元", 10_000, "万"),
    ('0!.0,"万"', None, 10_000, "万"),        # no unit line: the 万 printed beside each figure
    ('0!.0,"万"', "单位：元", 10_000, "万"),   # 万 printed beside a figure under 元: what is printed beside it
    ("0!.00,,亿元", "单位：亿元", 100_000_000, "亿元"),
])
def test_a_figure_kept_in_yuan_and_shown_in_wan_is_read_as_shown(tmp_path, number_format, unit_text, printed_in,
                                                                  suffix):
    """The 1-2 stores 元 and prints 万元 (or 亿元) through its format: value_text is the figure printed (32047.0),
    the amount every 元 stored (320 469 900) — before, 3 204 699 000 元 (`0\\.0,`) or 3 204 699 000 000 (`0\\.0000`)."""
    path = tmp_path / "literal_point.xlsx"
    books.general_debt_book(number_format=number_format, unit_text=unit_text, stored_yuan=1).save(path)
    parsed = parse_workbook(path)
    (sheet,) = parsed.sheets
    assert not parsed.rejects, [r.reason for r in parsed.rejects]
    lines = _amount_lines(sheet)
    assert len(lines) == 2 * len(books.ITEMS)
    decimals = printed_decimals(number_format)
    for line in lines.values():
        label, *wan = next(item for item in books.ITEMS if item[0].strip() == line.line_label)
        stored_wan = Decimal(dict(zip(AMOUNT_COLUMNS, wan))[line.column_key])
        assert line.amount_yuan == stored_wan * 10_000, (label, line.column_key, line.amount_yuan)
        shown = (stored_wan * 10_000 / printed_in).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
        assert line.value_text == f"{shown}{suffix}", (label, line.value_text)


@pytest.mark.parametrize("number_format", [
    "0.00E+00,", "[>=100000]0.00;[<=-100000]0.00", "#,##0\\.0,", "0.0\\.0", '0" "000', "00\\.00\\.00",
    "0\\!.0,\\万",  # Calc's re-save of 0!.0,"万": Excel and Calc print 3204699 as 3204!.7万, no figure
])
def test_a_format_not_understood_is_a_row_reject_naming_the_cell(tmp_path, number_format):
    """Literals between the digits other than one point (a grouping space, two points, a real and a literal point,
    thousands separators across a literal), a number no conditional section takes, scientific: what the cell shows is not worked out here, so
    each figure is a reject naming sheet, row and column — not the stored value read under the table's 亿元."""
    path = tmp_path / "unknown_format.xlsx"
    books.general_debt_book(number_format=number_format).save(path)
    parsed = parse_workbook(path)
    (sheet,) = parsed.sheets
    assert not _amount_lines(sheet)
    rejects = sorted(parsed.rejects, key=lambda r: (r.source_row, r.source_column))
    assert len(rejects) == 2 * len(books.ITEMS)
    first = rejects[0]
    assert (first.sheet, first.source_row, first.source_column) == ("1-2", 4, "B")
    assert "数字格式无法解读" in first.reason and "number format not understood" in first.reason
    assert number_format in first.reason and "B列" in first.reason


@pytest.mark.parametrize("number_format", ["0.00E+00", "# ??/??", "[DBNum1][$-804]General", "[Red]0.00"])
def test_a_format_that_shows_the_same_number_another_way_reads_the_stored_value(tmp_path, number_format):
    """Scientific, fractions, Chinese numerals: not printed here, but nothing in them scales the figure, moves its
    point or states a unit — the stored value under the table's unit is what a reader reads (a reject would lose a
    figure nobody misreads)."""
    amounts = {}
    for name, fmt in (("general", "General"), ("formatted", number_format)):
        path = tmp_path / f"{name}.xlsx"
        books.general_debt_book(number_format=fmt).save(path)
        parsed = parse_workbook(path)
        (sheet,) = parsed.sheets
        assert not parsed.rejects
        amounts[name] = {key: line.amount_yuan for key, line in _amount_lines(sheet).items()}
    assert amounts["formatted"] == amounts["general"] and amounts["general"]


@pytest.mark.parametrize("number_format", ['General"万元"', 'G/通用格式"万元"'])
@pytest.mark.parametrize("unit_text", [None, "单位：亿元"])
def test_general_with_a_unit_beside_it_prints_every_stored_digit_and_the_unit(tmp_path, number_format, unit_text):
    """What a Chinese Excel shows as G/通用格式"万元" (stored General"万元"; WPS may store the Chinese name): the
    figure as General prints it, in 万元 — neither a reject nor 万元 figures read as 亿元 (or as 元 with no unit line)."""
    path = tmp_path / "general_wan.xlsx"
    books.general_debt_book(number_format=number_format, unit_text=unit_text, stored_yuan=10_000).save(path)
    parsed = parse_workbook(path)
    (sheet,) = parsed.sheets
    assert not parsed.rejects, [r.reason for r in parsed.rejects]
    lines = _amount_lines(sheet)
    assert len(lines) == 2 * len(books.ITEMS)
    for line in lines.values():
        label, *wan = next(item for item in books.ITEMS if item[0].strip() == line.line_label)
        stored_wan = dict(zip(AMOUNT_COLUMNS, wan))[line.column_key]
        assert line.amount_yuan == Decimal(stored_wan) * 10_000, (label, line.amount_yuan)
        assert line.value_text == f"{cell_text(float(stored_wan))}万元", (label, line.value_text)
