"""Debt tables in the Ministry's layout printed by LibreOffice Calc over pages to the right (``fixtures/debt_calc/``,
MAKE.md there): each print must read like the workbook it was printed from — every table, item, column and figure.

``debt_calc_ministry``'s 1-4 has 本地区 and 其中：本级 each merged over 合计 | 一般债券 | 专项债券. Printed on A4 portrait
(项目 44 wide, figures 16), page 3 holds 项目 | 合计 under 本地区, cut at the page's edge: no rule there, so no cell,
and its text was dropped; page 4 holds 一般债券 专项债券 | 合计 一般债券 under 其中：本级 (beginning in the page's third
column), with 本地区 drawn again off the paper (x < 0); page 5 holds 专项债券 alone, 其中：本级 again off the paper.
Joined as a line, 本地区 went over page 4's first column and 其中：本级 over its second: 本地区's 专项债券 were read as
本级's — wrong figures, silently — and 本级's 一般债券 were lost.

``debt_calc_centred`` is the same workbook with its headers centred (item column 30, figures 22): Calc draws a merged
header whole on every page it spans, so 其中：本级 stands over page 4's third column and again over page 5's first;
read as a header of its own there, 本级's 专项债券 went under no 其中：本级 and was lost.

``debt_calc_regions``: 1-1 by region under 2019年债务限额 | 2019年债务余额 (centred) and 1-3 with six counties, figures
40 wide. The balance's 专项债务 stands alone on page 3, a one-column box under no text (the centred 2019年债务余额 is
drawn on page 2): the header row above it had no counterpart there, the page was left apart and its `单位：万元` with
it — every figure of the 1-1 was read in 元, 10 000 times too small (or, in portrait, the 1-1 not read at all).

``debt_calc_titleless`` (and ``_band``, with 分地区 merged over the counties): a 1-2 with five counties, every column 30
wide, its title centred and merged over A1:H1. Calc prints three columns a page and draws the title on page 2 only:
page 1 (项目 | 本地区) was a ruled table with no title, dropped without a word, and pages 2-4 refused (no header row)
or — under 分地区 — read as 本级 figures of no item, 本地区 lost. The title stands above rows level with page 1's: it is
the sheet's, and the pages are one table. Under 分地区 both the workbook and its print lost the five counties' columns
(分地区 read as the label word 地区): 12 lines of 42, equal to each other — each now reads like the plain header's.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from dagster_project.ingest.pdf_reader import PdfDocument, read_pdf
from dagster_project.ingest.pdf_untitled import UntitledTable, untitled_sheet
from dagster_project.ingest.segmenter import segment
from dagster_project.ingest.workbook import parse_workbook
from dagster_project.ingest.workbook_spec import vocabulary

CALC = Path(__file__).parent / "fixtures" / "debt_calc"
_FIGURE = re.compile(r"^\s*[\d,]+(?:\.\d+)?\s*$")


def _tables(parsed) -> list:
    return [(s.table_name, s.status, s.entity_name, s.fiscal_year, s.unit_label,
             Counter((ln.line_label, ln.row_key, ln.column_key, ln.amount_yuan) for ln in s.lines))
            for s in parsed.sheets]


@pytest.mark.parametrize("name", ["debt_calc_ministry", "debt_calc_centred", "debt_calc_regions", "debt_calc_wide",
                                  "debt_calc_titleless", "debt_calc_titleless_band"])
def test_a_debt_workbook_printed_over_pages_to_the_right_reads_like_the_workbook(name):
    workbook, printed = parse_workbook(CALC / f"{name}.xlsx"), parse_workbook(CALC / f"{name}.pdf")
    assert all(s.status == "parsed" and s.lines for s in workbook.sheets)
    assert _tables(printed) == _tables(workbook)


@pytest.mark.parametrize("suffix", ["xlsx", "pdf"])
def test_counties_under_a_band_header_read_as_under_the_plain_header(suffix):
    plain = _tables(parse_workbook(CALC / "debt_calc_titleless.xlsx"))
    assert len({key for _, _, key, _ in plain[0][5] if key.startswith("region:")}) == 5  # the counties read there
    assert _tables(parse_workbook(CALC / f"debt_calc_titleless_band.{suffix}")) == plain


def test_a_ruled_table_of_figures_under_no_title_is_refused_with_its_page_not_dropped():
    """Page 1 of ``debt_calc_titleless`` alone (pages 2-4 left out): a ruled table of items and figures under the
    publisher line and no title — which table it is cannot be told, so it is a reject naming its page, never silence."""
    document = read_pdf(CALC / "debt_calc_titleless.pdf", "debt_calc_titleless.pdf")
    page_one = PdfDocument(document.name, 1, [it for it in document.items if it.page == 1], 1,
                           {1: document.page_heights[1]})
    grids, _ = segment(page_one, vocabulary())
    assert [type(g) for g in grids] == [UntitledTable]
    sheet = untitled_sheet(grids[0], 0)
    (reject,) = sheet.rejects
    assert sheet.status == "error" and reject.source_page == 1 and "第1页" in reject.reason
    assert sheet.rows_rejected == len(grids[0].rows) == sum(1 for it in page_one.items if it.kind == "table")
    # a box of words (a cover, a narrative box) holding no figures is still running text, as before
    words = [replace(it, cells=["说明" if _FIGURE.match(c or "") else c for c in it.cells]) for it in page_one.items]
    assert segment(PdfDocument(document.name, 1, words, 1, {1: document.page_heights[1]}), vocabulary())[0] == []
