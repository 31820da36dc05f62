"""Number formats whose sections a condition chooses, and a zero under a percent format (ingest/number_formats.py).

A bureau keeps a 1-2 in 元 and lets the format print the large figures in 万: ``[>=10000]0!.0,"万";0`` prints
320 469 900 as ``32047.0万`` and 3 000 as ``3000`` — the figure a reader reads is what the chosen section prints. Before,
any condition made every such cell a row reject (数字格式无法解读). Negative numbers under conditions:
``test_number_formats_negative.py``. A ``0%`` in an amount column (a cell formatted as a percent,
holding nothing) is a zero a reader reads as such: before, it cost the whole row (本地区's figure with it). Workbooks
written by openpyxl, as Excel saves them; expected values derived from ``books.ITEMS`` and the cells changed here.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest

from dagster_project.ingest.number_formats import printed_figure, render
from dagster_project.ingest.workbook import parse_workbook
from number_format_books import books

AMOUNT_COLUMNS = ("amount", "amount_own_level")
CONDITIONAL = books.CONDITIONAL_WAN
SMALL_YUAN = books.SMALL_YUAN  # below the condition's bound: printed as it is, in the table's 元


def _amount_lines(sheet):
    return {(line.source_row, line.column_key): line for line in sheet.lines if line.column_key in AMOUNT_COLUMNS}


def _stored(label: str, column_key: str, stored_yuan: int) -> Decimal:
    _, *wan = next(item for item in books.ITEMS if item[0].strip() == label)
    return Decimal(dict(zip(AMOUNT_COLUMNS, wan))[column_key]) * 10_000 / stored_yuan


def test_the_section_a_condition_chooses_prints_the_figure():
    assert render(320469900, CONDITIONAL) == "32047.0万"
    assert render(SMALL_YUAN, CONDITIONAL) == "3000"
    assert render(5, '[<0]"减少"0.00;0.00') == "5.00"
    assert render(0, '[=0]"-";0.00') == "-" and render(3.456, '[=0]"-";0.00') == "3.46"
    # the unit printed is that of the chosen section: 万 for the large figure, none for the small one
    assert (printed_figure(320469900, CONDITIONAL).unit, printed_figure(SMALL_YUAN, CONDITIONAL).unit) == ("万", None)
    # a number no section takes (Excel prints ####): not rendered, refused; negatives: test_number_formats_negative
    assert printed_figure(50, "[>=100]0.00;[<=-100]0.00").text is None


def test_a_table_in_yuan_printing_large_figures_in_wan_is_read_as_printed(tmp_path):
    book = books.conditional_wan_book()
    small = book["1-2"].cell(4 + books.CLOSING + 1, 3)  # 六、 本级 (stored 0) set to a figure below 1 万
    path = tmp_path / "conditional.xlsx"
    book.save(path)
    parsed = parse_workbook(path)
    (read,) = parsed.sheets
    assert not parsed.rejects, [r.reason for r in parsed.rejects]
    lines = _amount_lines(read)
    assert len(lines) == 2 * len(books.ITEMS)
    for (row, column_key), line in lines.items():
        if (row, column_key) == (small.row, "amount_own_level"):
            assert (line.amount_yuan, line.value_text) == (SMALL_YUAN, str(SMALL_YUAN))
            continue
        stored = _stored(line.line_label, column_key, 1)
        assert line.amount_yuan == stored, (line.line_label, column_key, line.amount_yuan)
        wan = (stored / 10_000).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        assert line.value_text == f"{wan}万", (line.line_label, line.value_text)


@pytest.mark.parametrize("percent_format", ["0%", "0.00%"])
def test_a_zero_under_a_percent_format_is_a_zero_and_keeps_its_row(tmp_path, percent_format):
    """六、's 本级 holds 0 formatted as a percent (the clerk's copied cell style): the row is read, 本级 as 0 and
    本地区 as stored; a non-zero percent in an amount column is still a reject (a ratio is no amount)."""
    book = books.general_debt_book()
    sheet = book["1-2"]
    zero, ratio = sheet.cell(4 + books.CLOSING + 1, 3), sheet.cell(4, 3)
    assert zero.value == 0
    zero.number_format = ratio.number_format = percent_format
    path = tmp_path / "zero_percent.xlsx"
    book.save(path)
    parsed = parse_workbook(path)
    (reject,) = parsed.rejects
    assert (reject.source_row, reject.source_column) == (ratio.row, "C") and "百分比" in reject.reason
    (read,) = parsed.sheets
    lines = _amount_lines(read)
    assert lines[(zero.row, "amount_own_level")].amount_yuan == 0
    assert lines[(zero.row, "amount_own_level")].value_text == render(0, percent_format)
    assert lines[(zero.row, "amount")].amount_yuan == _stored(lines[(zero.row, "amount")].line_label, "amount", 1)
    assert len(lines) == 2 * len(books.ITEMS) - 2  # only the ratio's row is lost


def test_a_table_stating_no_unit_takes_none_from_a_conditional_format(tmp_path):
    """No unit line: the figures printed in 万 say 万 each, the one printed bare is in 元 — not 3000 万元 because most
    cells' first section prints 万."""
    book = books.general_debt_book(number_format=CONDITIONAL, unit_text=None, stored_yuan=1)
    small = book["1-2"].cell(4 + books.CLOSING + 1, 3)
    small.value = SMALL_YUAN
    path = tmp_path / "conditional_no_unit.xlsx"
    book.save(path)
    parsed = parse_workbook(path)
    assert not parsed.rejects, [r.reason for r in parsed.rejects]
    (read,) = parsed.sheets
    lines = _amount_lines(read)
    assert lines[(small.row, "amount_own_level")].amount_yuan == SMALL_YUAN
    assert lines[(4, "amount")].amount_yuan == _stored(lines[(4, "amount")].line_label, "amount", 1)


def test_calc_chooses_the_sections_as_excel_does_and_its_resave_prints_no_figure():
    """The same book re-saved by LibreOffice Calc 7.4 (fixtures/number_formats/MAKE.md): Calc's CSV prints the small
    figure bare as the second section says (what ``render`` prints), and the large ones with the ``!`` Calc keeps
    (``320469!.9万``); its .xlsx stores the format as ``[>=10000]0\\!.0,\\万;0`` — a literal ``!`` before a real point,
    which Excel prints the same way: no figure, so each such cell is a reject naming it (the small one is not)."""
    import csv
    from pathlib import Path

    here = Path(books.__file__).parent
    with (here / "conditional_wan_calc.csv").open(encoding="utf-8", newline="") as handle:
        shown = {row[0].strip(): row[1:] for row in csv.reader(handle)}
    own_small = shown[books.ITEMS[books.CLOSING + 1][0].strip()][1]
    assert own_small == render(books.SMALL_YUAN, books.CONDITIONAL_WAN) == str(books.SMALL_YUAN)
    large = shown[books.ITEMS[0][0].strip()][0]
    assert "!" in large and render(320469900, books.CONDITIONAL_WAN) == "32047.0万"

    parsed = parse_workbook(here / "conditional_wan_calc.xlsx")
    (read,) = parsed.sheets
    lines = _amount_lines(read)
    assert not lines  # each row holds a figure printed with the '!', and a row with a reject is not read
    nonzero = sum(1 for item in books.ITEMS for v in item[1:] if Decimal(v))  # 六、's 本级 was the one zero
    rejects = parsed.rejects
    assert len(rejects) == nonzero
    assert all("数字格式无法解读" in r.reason and "[>=10000]0\\!.0,\\万;0" in r.reason for r in rejects)
    assert {(r.sheet, r.source_row, r.source_column) for r in rejects} == {
        ("1-2", 4 + i, column) for i, item in enumerate(books.ITEMS)
        for column, v in zip("BC", item[1:]) if Decimal(v)}
