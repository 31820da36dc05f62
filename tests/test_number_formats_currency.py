"""Currencies and direction marks a number format prints beside a figure (ingest/number_formats.py).

Review V4 on mend M2: Excel's currency list (``[$CNY]\\ #,##0.00``, ``#,##0.00\\ [$CNY]``, the accounting
``_-* #,##0.00\\ [$CNY]_-;…``, ``[$CN¥-850]#,##0.00``), Calc's ``[$CNY] #,##0.00;[RED]-[$CNY] #,##0.00`` and the
direction marks ``▲#,##0.00;▼#,##0.00;0``, ``↑0.00;↓0.00``, ``"增"0.00;"减"0.00`` were refused (数字格式无法解读): CNY,
CN, ▲, 增 were taken for unit words that name no unit. A ``[$…]`` block is a currency, never a unit; a mark is the
direction of the section it stands in (▼ in the negative section: the stored negative, as Excel prints it).

``"人民币"#,##0.00`` / ``[$人民币]#,##0.00`` in a 单位：万元 table (人民币1,010.05) was read 1 010.05 元 — 10 000 times too
small — because 人民币 + 元 is a unit of the seed: a currency name alone names no magnitude. And ``000\\-0000`` (1010050
printed 101-0050) was read as the stored number: a minus between digit placeholders is no sign.

Each figure is compared with the same book read under a plain format (``#,##0.00``): the amounts a reader reads.
"""
from __future__ import annotations

import pytest

from dagster_project.ingest.workbook import parse_workbook
from number_format_books import books

CELL = (6, 3)  # row 6 (三、), column C (其中：本级): made negative, to print through the negative section
PLAIN = "#,##0.00;-#,##0.00"


def _read(tmp_path, number_format: str, unit_text: str = "单位：万元", stored_yuan: int = 10_000, negative=True):
    book = books.general_debt_book(number_format=number_format, unit_text=unit_text, stored_yuan=stored_yuan)
    if negative:
        cell = book["1-2"].cell(*CELL)
        cell.value = -abs(cell.value) or -1010.05
    path = tmp_path / "currency.xlsx"
    book.save(path)
    parsed = parse_workbook(path)
    (sheet,) = parsed.sheets
    return parsed, sheet


def _amounts(sheet) -> dict:
    return {(line.source_row, line.column_key): line.amount_yuan for line in sheet.lines}


CURRENCY_FORMATS = [
    "[$CNY]\\ #,##0.00",
    "#,##0.00\\ [$CNY]",
    '_-* #,##0.00\\ [$CNY]_-;\\-* #,##0.00\\ [$CNY]_-;_-* "-"??\\ [$CNY]_-;_-@_-',
    "[$CN¥-850]#,##0.00",
    "[$CNY] #,##0.00;[RED]-[$CNY] #,##0.00",  # LibreOffice Calc's
    "[$¥-804]#,##0.00;[Red]-[$¥-804]#,##0.00",
    '"人民币"#,##0.00',
    "[$人民币]#,##0.00",
    '"RMB"#,##0.00',
    '"人民币"#,##0.00"万元"',
]
DIRECTION_FORMATS = ["▲#,##0.00;▼#,##0.00;0", "↑0.00;↓0.00", '"增"0.00;"减"0.00', '"增加"0.00;"减少"0.00']


@pytest.mark.parametrize("number_format", CURRENCY_FORMATS + DIRECTION_FORMATS)
def test_a_currency_or_a_direction_mark_beside_the_figure_reads_it_in_the_tables_unit(tmp_path, number_format):
    parsed, sheet = _read(tmp_path, number_format)
    assert not parsed.rejects, [r.reason for r in parsed.rejects]
    plain_parsed, plain = _read(tmp_path, PLAIN)
    assert not plain_parsed.rejects
    assert _amounts(sheet) == _amounts(plain), number_format
    negative = next(ln for ln in sheet.lines if ln.source_row == CELL[0] and ln.column_key == "amount_own_level")
    assert negative.amount_yuan < 0 and len(sheet.lines) == len(plain.lines)


@pytest.mark.parametrize("number_format", ['"人民币"#,##0.00', "[$人民币]#,##0.00", '"CNY"#,##0.00'])
def test_a_currency_name_is_no_unit_in_a_table_stating_none(tmp_path, number_format):
    """No unit line: the table's unit is what its figures print (``_unit_of_formats``) — 人民币 is none, so 元 (with a
    note), never a unit taken from the currency's name."""
    parsed, sheet = _read(tmp_path, number_format, unit_text=None, stored_yuan=1, negative=False)
    assert sheet.unit_label is None
    assert not parsed.rejects


def test_a_minus_between_digit_placeholders_is_no_sign(tmp_path):
    """``000\\-0000`` prints 1010050 as 101-0050: no figure a reader reads — every figure cell refused, naming it."""
    parsed, sheet = _read(tmp_path, "000\\-0000", unit_text="单位：元", stored_yuan=1, negative=False)
    _, plain = _read(tmp_path, PLAIN, unit_text="单位：元", stored_yuan=1, negative=False)
    cells = {(ln.source_row, ln.source_column) for ln in plain.lines}
    assert cells and {(r.source_row, r.source_column) for r in parsed.rejects} == cells
    assert all("数字格式无法解读" in r.reason for r in parsed.rejects)


@pytest.mark.parametrize("number_format", ["[$USD]\\ #,##0.00", "[$€-407]#,##0.00", '"美元"#,##0.00'])
def test_another_currency_beside_the_figure_refuses_the_cell(tmp_path, number_format):
    """A figure printed in another currency than the yuan is no figure of a 万元 table: refused, naming the cell."""
    parsed, sheet = _read(tmp_path, number_format, negative=False)
    _, plain = _read(tmp_path, PLAIN, negative=False)
    nonzero = {(ln.source_row, ln.source_column) for ln in plain.lines if ln.amount_yuan}
    assert {(r.source_row, r.source_column) for r in parsed.rejects} == nonzero
    assert all("数字格式无法解读" in r.reason for r in parsed.rejects)
