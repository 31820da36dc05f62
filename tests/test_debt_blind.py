"""Debt tables written blind from the contract (RAW_FORMATS.md "Debt tables in the Ministry's layout", DOMAIN.md 2.3)
as finance bureaus' tools write them, read by gongkai and compared with what the files say.

- ``tests/fixtures/debt_calc/``: a district's 1-1 and 1-4 in 万元 printed by LibreOffice Calc (not in CI: the workbook
  and its print are committed, see MAKE.md there). Each sheet is wider than A4 portrait, so its last columns — the
  unit cell 单位：万元 among them — go on a page to the right, at the height of the publisher line.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from dagster_project.ingest.workbook import parse_workbook

CALC = Path(__file__).parent / "fixtures" / "debt_calc"


def _tables(parsed) -> dict:
    return {s.table_name: (s.status, s.entity_name, s.fiscal_year, s.phase, s.unit_label,
                           Counter((ln.line_label, ln.row_key, ln.column_key, ln.amount_yuan) for ln in s.lines))
            for s in parsed.sheets}


def test_a_unit_printed_on_the_page_to_the_right_still_says_the_tables_unit():
    # Calc printed the unit cell (the sheet's last column) on the right-hand page, in the top band where page
    # headers sit, beside the publisher line of the left-hand page: taken for that page's running head, it was
    # dropped, and the tables were read in 元 — every figure 10 000 times too small, with only a note
    # "no unit stated". Read as the workbook reads: 万元, the same figures.
    workbook = parse_workbook(CALC / "debt_calc_wide.xlsx")
    printed = parse_workbook(CALC / "debt_calc_wide.pdf")
    assert printed.page_count == 4
    assert all("右侧各列在" in s.sheet for s in printed.sheets)   # each table did go on over a page to the right
    expected = _tables(workbook)
    assert {t[4] for t in expected.values()} == {"万元"} and len(expected) == 2
    assert _tables(printed) == expected
