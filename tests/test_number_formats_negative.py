"""Negative numbers under conditional sections, and colours as a file names them (ingest/number_formats.py).

A bureau keeps a table in 元 under ``[>=10000]0!.0,"万";[<0]-0.00;0`` or ``[<0]"减少"0.00;0.00``: a negative figure
(a repayment written as a decrease, an adjustment) prints through the section its signed value chooses — in 元, not
万, when the 万 section's condition does not take it. Before, every negative number under a condition was a row reject
(数字格式无法解读) and the row's other figures went with it. The section chosen (its unit, scale and decimals) is
checked against LibreOffice 7.4's print of 34 formats × 11 values (fixtures/number_formats/MAKE.md); the minus sign
Excel adds or leaves out follows Excel's own rule, which Calc does not share in fallback sections (Calc prints ``3000``
for -3000 under ``[>=10000]0;0``, Excel ``-3000``) — the amount read is the stored signed value either way.
``[红色]`` is how a Chinese Excel/WPS shows and writes ``[Red]``: Excel takes it as the colour and so does gongkai
(test_number_formats_signs.py); Calc does not (it prints the cell as General) — there Calc is not what a reader sees.
"""
from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest

from dagster_project.ingest.number_formats import render
from dagster_project.ingest.workbook import parse_workbook
from number_format_books import books

CALC_CSV = Path(books.__file__).parent / "conditional_negative_calc.csv"
AMOUNT_COLUMNS = ("amount", "amount_own_level")


def _calc_print() -> dict[tuple[str, str], str]:
    """(format, stored value as written in column A) → the text Calc printed for it."""
    with CALC_CSV.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    assert header[1:] == books.CONDITIONAL_NEGATIVE_FORMATS  # the fixture is this book's print
    return {(code, row[0]): text for row in rows for code, text in zip(header[1:], row[1:])}


def _value(written: str):
    return next(v for v in books.CONDITIONAL_NEGATIVE_VALUES if str(v) == written)


def _foreign_colour(code: str) -> bool:
    return any(word in code for word in ("[红色]", "[蓝色]"))


def test_calc_chooses_the_section_a_negative_number_prints_through_as_render_does():
    shown = _calc_print()
    assert len(shown) == len(books.CONDITIONAL_NEGATIVE_FORMATS) * len(books.CONDITIONAL_NEGATIVE_VALUES)
    unrendered = set()
    for (code, written), calc in shown.items():
        value = _value(written)
        ours = render(value, code)
        if _foreign_colour(code):
            # Calc prints such a cell as General (the stored number itself); Excel and gongkai print it as the
            # same code with the colour named in English
            assert Decimal(calc) == Decimal(str(value)), (code, written, calc)
            english = code.replace("[红色]", "[Red]").replace("[蓝色]", "[Blue]")
            assert ours == render(value, english), (code, written, ours)
            continue
        if ours is None:
            unrendered.add((code, written))
            continue
        if value >= 0 or "[<0]" in code:
            assert ours == calc, (code, written, ours, calc)  # the sections whose sign both print alike
        else:
            assert ours.lstrip("-") == calc.lstrip("-"), (code, written, ours, calc)  # digits, unit, decimals
    # a number neither conditional section takes: Excel prints ####, Calc General — no figure a reader can rely on
    assert unrendered == {("[>=100]0.00;[<=-100]0.00", w) for w in shown_values_between(-100, 100)}


def shown_values_between(low, high):
    return {str(v) for v in books.CONDITIONAL_NEGATIVE_VALUES if low < v < high}


@pytest.mark.parametrize("code, value, shown", [
    # Excel for Mac 16.35 as borgar/numfmt's conformance tables record it (test/conditionals.spec.ts): the minus is
    # left out where the chosen section's condition admits negatives only, or where the first of two sections has a
    # <, <= or <> condition and the second takes the number; printed everywhere else
    ("[<-4]\\A0", -5, "A5"), ("[>-6]\\A0", -5, "-A5"), ("[=-5]\\A0", -5, "A5"),
    ("[<-6]\\A0;\\B0", -5, "B5"), ("[<>-5]\\A0;\\B0", -5, "B5"), ("[>=2]\\A0;\\B0", -5, "-B5"),
    ("[=-6]\\A0;\\B0", -5, "-B5"), ('[>=100]"A"0;[<=0]"B"0;"C"0', -6.3, "-B6"),
    ('[>=100]"A"0;[<=-100]"B"0;"C"0', -6.3, "-C6"), ('[<=0]"B"0', 6.3, "6.3"), ('[<=0]"B"0', -6.3, "-B6"),
    ('[>=100]"A"0;[<=-100]"B"0', 6.3, None),
])
def test_the_minus_excel_prints_under_conditions(code, value, shown):
    assert render(value, code) == shown


def _book_with(number_format: str, cell_values: dict[tuple[int, int], float]):
    book = books.general_debt_book(number_format=number_format, unit_text="单位：元", stored_yuan=1)
    for (row, column), value in cell_values.items():
        book["1-2"].cell(row, column).value = value
    return book


@pytest.mark.parametrize("number_format", ['[>=10000]0!.0,"万";[<0]-0.00;0', '[>=10000]0!.0,"万";0',
                                           '[<0]"减少"0.00;[>=10000]0!.0,"万";0'])
def test_a_negative_figure_under_conditions_is_read_in_the_section_it_prints_through(tmp_path, number_format):
    """本地区's 发行额 written as a decrease of 3 000 元 and 本级's as one of 32 046 990 元: both are read, each the
    stored signed figure in the table's 元 (the 万 section takes neither), and the row's other cells with them."""
    small, large = -3000, -32046990
    cells = {(6, 2): small, (6, 3): large}
    path = tmp_path / "conditional_negative.xlsx"
    _book_with(number_format, cells).save(path)
    parsed = parse_workbook(path)
    assert not parsed.rejects, [r.reason for r in parsed.rejects]
    (sheet,) = parsed.sheets
    lines = {(line.source_row, line.column_key): line for line in sheet.lines if line.column_key in AMOUNT_COLUMNS}
    assert len(lines) == 2 * len(books.ITEMS)
    for (row, column), stored in cells.items():
        line = lines[(row, AMOUNT_COLUMNS[column - 2])]
        assert line.amount_yuan == stored, (number_format, line.amount_yuan)
        assert line.value_text == render(stored, number_format.replace("!", "\\"))
        assert "万" not in line.value_text and line.value_text.lstrip("-减少").startswith(str(abs(stored)))
