"""The sign, the direction word and the unit a number format prints beside a figure (ingest/number_formats.py), and
colours as a Chinese Excel/WPS writes them.

A negative section that writes its own minus or a word beside the unit (``[<=-10000]-0!.0,"万"``,
``[<0]"减少"0.00"万元"``, ``#,##0.00"万元";-#,##0.00"万元"``) printed −3 204.7万 for −32 046 990 元, and the
recogniser read it as −3 204.70 元: the unit it looked up was ``-万`` / ``减少万元``, none of the units, so nothing was
converted — a figure 10 000 times too small. The unit of a section is its unit word; a sign is no unit; 减少 says the
figure a reader reads is negative; any other word beside the figure names no unit and the cell is refused.

``[红色]`` is the code a Chinese Excel/WPS shows for ``[Red]`` and POI/NPOI/openpyxl code writes it straight into
files: Excel takes it as the colour, so gongkai reads the sections it colours (LibreOffice 7.4 prints such a cell as
General: fixtures/number_formats/MAKE.md). Before, ``0.00;[红色]-0.00`` in a 亿元 table recorded the stored quotient
(3.204699) instead of the printed 3.20, which widens the reconciliation's rounding step, and ``0.00_ ;[红色]\\-0.00\\ ``
refused every row: the escaped minus counted as a literal that might scale the figure.
"""
from __future__ import annotations

from decimal import Decimal

import pytest

from dagster_project.ingest.number_formats import printed_figure, render
from dagster_project.ingest.workbook import parse_workbook
from number_format_books import books

STORED_YUAN = -32046990  # 本级's 三、发行额 written as a decrease, in 元
CELL = (6, 3)            # row 6 (三、), column C (其中：本级)


def _read(tmp_path, number_format: str, stored, unit_text: str = "单位：元", stored_yuan: int = 1):
    book = books.general_debt_book(number_format=number_format, unit_text=unit_text, stored_yuan=stored_yuan)
    book["1-2"].cell(*CELL).value = stored
    path = tmp_path / "signs.xlsx"
    book.save(path)
    parsed = parse_workbook(path)
    (sheet,) = parsed.sheets
    return parsed, sheet


def _line(sheet, row: int, key: str):
    return next(line for line in sheet.lines if line.source_row == row and line.column_key == key)


@pytest.mark.parametrize("number_format, stored", [
    # the figure stored in 元 and printed in 万 by a scaling section that writes its own minus
    ('[>=10000]0!.0,"万";[<=-10000]-0!.0,"万";0', STORED_YUAN),
    ('[>=10000]0\\.0,"万";[<=-10000]\\-0\\.0,"万";0', STORED_YUAN),  # LibreOffice's re-save of the one above
    ('[>=10000]0\\.0,"万";[>-10000]0;-0\\.0,"万"', STORED_YUAN),
    # the figure stored in 万元 in a table stating 元, the section printing 万元 beside it
    ('[<0]"减少"0.00"万元";0.00"万元"', STORED_YUAN / 10000),
    ('[<0]\\减\\少0.00\\万\\元;0.00\\万\\元', STORED_YUAN / 10000),  # literals escaped one by one, as LibreOffice re-saves them
    ('[>=10000]0\\.0,\\万;[<=-10000]\\-0\\.0,\\万;0', STORED_YUAN),
    ('#,##0.00"万元";-#,##0.00"万元"', STORED_YUAN / 10000),
    ('"减少"0.00"万元"', -STORED_YUAN / 10000),  # stored positive, printed 减少: a reader reads a decrease
])
def test_a_negative_figure_printed_with_its_sign_or_direction_is_read_in_its_unit(tmp_path, number_format, stored):
    parsed, sheet = _read(tmp_path, number_format, stored)
    assert not parsed.rejects, [r.reason for r in parsed.rejects]
    line = _line(sheet, CELL[0], "amount_own_level")
    assert line.amount_yuan == STORED_YUAN, (number_format, line.value_text, line.amount_yuan)
    assert line.value_text == render(stored, number_format.replace("!", "\\"))
    assert "万" in line.value_text


@pytest.mark.parametrize("number_format, stored", [
    ('0.00"亩"', 3204.7),                    # a word beside the figure that is no unit
    ('"增加"0.00"万元"', STORED_YUAN / 10000),  # printed '-增加3204.70万元': a reader cannot tell the sign
])
def test_words_beside_a_figure_that_are_no_unit_nor_sign_refuse_the_cell(tmp_path, number_format, stored):
    parsed, sheet = _read(tmp_path, number_format, stored)
    refused = {(r.source_row, r.source_column) for r in parsed.rejects}
    # 亩 beside every figure: every cell but a zero's; 增加 beside the one negative: that cell alone
    assert refused == ({(CELL[0], "C")} if "增加" in number_format else
                       {(4 + i, c) for i, item in enumerate(books.ITEMS) for c, wan in zip("BC", item[1:])
                        if Decimal(wan) != 0})
    assert all("数字格式无法解读" in r.reason for r in parsed.rejects)
    assert not any(line.source_row == CELL[0] for line in sheet.lines)


def test_a_colour_named_in_chinese_colours_the_section_as_excel_does(tmp_path):
    """``0.00;[红色]-0.00`` in a 亿元 table: the figure recorded is the printed 3.20 (as under ``[Red]``), not the stored
    quotient."""
    parsed, sheet = _read(tmp_path, "0.00;[红色]-0.00", books.yi(books.ITEMS[2][2]), "单位：亿元", 100_000_000)
    assert not parsed.rejects
    first = _line(sheet, 4, "amount")
    stored = books.yi(books.ITEMS[0][1])
    assert first.value_text == render(stored, "0.00;[Red]-0.00") == f"{Decimal(str(stored)):.2f}"
    for chinese, english in (("[红色]", "[Red]"), ("[蓝色]", "[Blue]"), ("[洋红]", "[Magenta]"), ("[颜色10]", "[Color10]")):
        assert render(-3.204699, f"0.00;{chinese}-0.00") == render(-3.204699, f"0.00;{english}-0.00") == "-3.20"


def test_an_escaped_minus_in_a_chinese_coloured_section_reads_every_row(tmp_path):
    """``0.00_ ;[红色]\\-0.00\\ `` (a Chinese Excel's negative-in-red): every row read, the negative as printed."""
    number_format = "0.00_ ;[红色]\\-0.00\\ "
    stored = -books.yi("3204.699")
    parsed, sheet = _read(tmp_path, number_format, stored, "单位：亿元", 100_000_000)
    assert not parsed.rejects, [r.reason for r in parsed.rejects]
    assert sheet.rows_loaded == sheet.rows_in == len(books.ITEMS)
    line = _line(sheet, CELL[0], "amount_own_level")
    assert line.value_text == "-0.32" and line.amount_yuan == Decimal("-32046990.00")


def test_an_escaped_minus_scales_nothing_in_a_format_not_rendered():
    """``[DBNum1]`` prints Chinese numerals (not rendered here): the same number, so the stored value stands — the
    escaped minus of its negative section is a sign, not a literal that could scale it."""
    assert printed_figure(-5.5, "[DBNum1]0.00;[DBNum1]\\-0.00") is None
    assert printed_figure(-5.5, '[DBNum1]0.00;[DBNum1]"-"0.00') is None
    assert printed_figure(-5.5, '[DBNum1]0.00"万"').text is None  # a unit beside it: the figure is unknown
