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
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from dagster_project.ingest.workbook import parse_workbook

CALC = Path(__file__).parent / "fixtures" / "debt_calc"


def _tables(parsed) -> list:
    return [(s.table_name, s.status, s.entity_name, s.fiscal_year, s.unit_label,
             Counter((ln.line_label, ln.row_key, ln.column_key, ln.amount_yuan) for ln in s.lines))
            for s in parsed.sheets]


@pytest.mark.parametrize("name", ["debt_calc_ministry", "debt_calc_centred", "debt_calc_regions", "debt_calc_wide"])
def test_a_debt_workbook_printed_over_pages_to_the_right_reads_like_the_workbook(name):
    workbook, printed = parse_workbook(CALC / f"{name}.xlsx"), parse_workbook(CALC / f"{name}.pdf")
    assert all(s.status == "parsed" and s.lines for s in workbook.sheets)
    assert _tables(printed) == _tables(workbook)
