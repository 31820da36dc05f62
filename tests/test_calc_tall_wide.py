"""Budget sheets taller and wider than the paper, printed by LibreOffice Calc (fixtures/blind_budget/MAKE.md): Calc
prints down, then across, so a sheet two pages tall and three wide prints its first columns on pages 1-2, the next on
3-4, the last on 5-6. Each print must read like the workbook it was printed from (``tests/blind_disclosure.py``'s
tables written by openpyxl): every figure, code, unit and header, and its body cell by cell.

- 支出预算总表: the code header ``功能分类科目编码`` over ``类 | 款 | 项`` is two ruled rows on the left-hand pages, while
  合计 | 基本支出 | 项目支出 (merged down over both) are one ruled row on the pages to the right. Taken for another
  table's rows, the right-hand pages ran on under the codes: the columns shifted and every row was rejected.
- 基本支出 by economic 类|款: 公用经费 alone on the last page is a one-column box that shows no line where the cell is
  blank (beside the 人员经费 rows); its lines ended far above the rows they continue, the page was left apart and the
  unit line `单位：元` above it was lost with it.
- 支出预算总表 with code columns as wide as the amounts: `功能分类科目编码` merged over 类 | 款 | 项 and cut at the page's
  edge is a line of text on pages 1 and 3, not a ruled row; and 合计 | 基本支出 on page 5 draw the very column rules of
  类 | 款 on page 1 — taken for page 1's next rows (those are on page 2), the amounts were lost.
- The empty 政府性基金 table: 项目支出 alone on page 3 is one line (its header) in a box of blank cells; taken for
  nothing, the page and its `单位：元` were left apart and the table had no unit.
- The 三公 table with wide vehicle columns: 小计 and 购置费 each alone on a page, their lines inside the row of 合计
  merged down two rows on page 1 — set as a line of text over the columns, the vehicle figures went under 合计 and
  因公出国(境)费.
- A long 支出总表, five pages tall and three wide: full pages of rows at one pitch stand level with one another, so
  page 7 matched page 4 as well as page 2 and page 11 (more than eight pages back from page 1) was never tried; the
  pages are paired in print order (6 → 1, 7 → 2, …, 11 → 1 again). Four wide with 合计 | 基本支出 (11-15) as wide as
  类 | 款 (1-5), page 12 draws the rules of page 11 before it and yet is page 2's further columns, not 11's next rows.
- The 三公 table, 合计 36 wide and the rest 24: 公务用车购置及运行费, merged over 小计 | 购置费 | 运行费 and cut at page
  2's edge, has no rule there (so no cell) and its text is drawn past the last rule; kept as a line, it went into the
  row before 公务接待费 and the two figures swapped places (公务接待费 37.80, 公务用车 8.56) — silently.
- The 三公 table with every column wider than half the paper: one column a page, page 1 a one-column box too; with no
  table on page 1 the pages to the right had no rows to go on and no figure was read at all.
- A 支出总表 in landscape with every column 40 wide: every page draws the same rules, so page 3 (项 | 名称, under the
  header lines) was taken for page 2's next rows (page 2's rows start at the page's top), and the columns were lost.
"""
from __future__ import annotations

import re
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest

from blind_disclosure import write_workbook
from dagster_project.ingest.readers import read_grids
from dagster_project.ingest.segmenter import segment
from dagster_project.ingest.workbook import parse_workbook
from dagster_project.ingest.workbook_spec import vocabulary

FIXTURES = Path(__file__).parent / "fixtures" / "blind_budget"
sys.path.insert(0, str(FIXTURES))

from make_calc_wide import fixture_tables  # noqa: E402


def _facts(parsed) -> dict:
    """Every figure by (table, side, code or label, row key, column), and each table's unit, code layout, publisher."""
    out = {}
    for s in parsed.sheets:
        assert s.status == "parsed", (s.sheet, s.status)
        key = s.table_keys[-1]
        out[(key, "#table")] = (s.unit_label, s.code_layout, s.is_empty, s.entity_name, s.fiscal_year)
        for line in s.lines:
            label = re.sub(r"\s", "", line.line_label or "")
            out[(key, line.side, line.line_code or label, line.row_key, line.column_key)] = line.amount_yuan
    return out


def _text(value) -> str:
    """A cell as a person reads it: a figure by its value (``12.80`` printed, 12.8 stored), text without spaces, blank
    for nothing."""
    text = re.sub(r"\s", "", "" if value is None else str(value))
    try:
        return str(Decimal(text.replace(",", "")).normalize())
    except InvalidOperation:
        return text


def _body(grid) -> list[tuple[str, ...]]:
    """The rows from the first one holding a figure (the 合计 row; an empty table's 合计 row) on, cell by cell
    (trailing blanks dropped: a print has no cell past its last text). The header rows are checked by the facts: Calc prints a merged header's text on
    each page it spans (公务用车购置及运行费 three times), which the recogniser reads as the one header it is."""
    rows = [tuple(_text(v) for v in row) for row in grid.rows]
    figures = [i for i, row in enumerate(rows) if any(re.fullmatch(r"-?\d+(\.\d+)?(E\+\d+)?", c) for c in row)]
    # (an empty table has no figure: its body is its 合计 row)
    start = figures[0] if figures else max(i for i, row in enumerate(rows) if "合计" in row)
    out = []
    for row in rows[start:]:
        row = list(row)
        while row and not row[-1]:
            row.pop()
        out.append(tuple(row))
    return out


@pytest.mark.parametrize("fixture, sheet", [("calc_expenditure", "表1（第1-2页，右侧各列在第3-5页）"),
                                            ("calc_basic", "表1（第1页，右侧各列在第2-3页）"),
                                            ("calc_codes_cut", "表1（第1-2页，右侧各列在第3-7页）"),
                                            ("calc_empty_fund", "表1（第1页，右侧各列在第2-3页）"),
                                            ("calc_sangong_boxes", "表1（第1页，右侧各列在第2-4页）"),
                                            # across, then down: the name cites the pages the rows are on
                                            ("calc_expenditure_across", "表1（第1、4页，右侧各列在第2-3、5-6页）"),
                                            ("calc_long_wide", "表1（第1-5页，右侧各列在第6-15页）"),
                                            ("calc_long_codes", "表1（第1-5页，右侧各列在第6-20页）"),
                                            ("calc_sangong_36_24", "表1（第1页，右侧各列在第2-4页）"),
                                            ("calc_sangong_one_a_page", "表1（第1页，右侧各列在第2-7页）"),
                                            ("calc_sangong_fit", "表1（第1页）"),
                                            ("calc_expenditure_landscape", "表1（第1-2页，右侧各列在第3-8页）")])
def test_a_calc_print_down_then_across_reads_like_the_workbook(tmp_path, fixture, sheet):
    workbook = tmp_path / "预算.xlsx"
    write_workbook(workbook, fixture_tables(fixture))
    printed = parse_workbook(FIXTURES / f"{fixture}.pdf")
    assert _facts(printed) == _facts(parse_workbook(workbook))
    assert [(s.sheet, s.unit_label) for s in printed.sheets] == [(sheet, "万元" if "sangong" in fixture else "元")]
    _, sheets, _ = read_grids(workbook, workbook.name)
    _, _, document = read_grids(FIXTURES / f"{fixture}.pdf", f"{fixture}.pdf")
    grids, _ = segment(document, vocabulary())
    assert len(grids) == 1
    assert _body(grids[0]) == _body(sheets[0])
