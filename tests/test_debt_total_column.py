"""A 1-2 (items as rows, regions as columns) whose whole-region column is headed 合计 / 总计 / 银川市合计 — what a
bureau writes where the Ministry writes 本地区 (项目 | 合计 | 其中：本级 | 兴庆区 …): a reader takes it for the sum of the
regions, the whole region. Before, no alias of the 1-2 took the column: it was ignored with a note and the whole
region's figures were lost (DEBT_ITEM_MISSING / the balance-above-limit rule judged on 本级 and the counties only).
Beside a 本地区 column a 合计 column is a second whole region: a reject naming it, never silently ignored.
Expected readings: the same workbook headed 本地区 (a Calc-written 1-2, fixtures/debt_calc/MAKE.md)."""
from __future__ import annotations

import pytest
from openpyxl import load_workbook

from dagster_project.ingest.workbook import parse_workbook
from test_debt_own_region_column import FIXTURE, OWN, reading, rewrite


@pytest.mark.parametrize("whole", ["合计", "总计", f"{OWN}合计", f"{OWN}总计", "全市合计"])
def test_a_total_column_of_a_1_2_is_the_whole_region(tmp_path, whole):
    rewrite(FIXTURE, tmp_path / "whole.xlsx", whole="本地区")
    rewrite(FIXTURE, tmp_path / "total.xlsx", whole=whole)
    expected = reading(tmp_path / "whole.xlsx")
    assert {key for _, key, _, _ in expected} >= {"amount", "amount_own_level"}
    assert reading(tmp_path / "total.xlsx") == expected


def test_a_total_column_beside_the_whole_region_is_a_reject_naming_it(tmp_path):
    """项目 | 本地区 | 其中：本级 | 合计 | …: two columns each the whole region — the second is refused, naming it (once:
    not also in the sheet's note of ignored columns)."""
    wb = load_workbook(FIXTURE)
    ws = wb.active
    (cell,) = [c for row in ws.iter_rows(max_row=3) for c in row if c.value == "兴庆区"]
    cell.value = "合计"
    wb.save(tmp_path / "two.xlsx")
    (sheet,) = parse_workbook(tmp_path / "two.xlsx").sheets
    assert [(r.source_row, r.source_column) for r in sheet.rejects] == [(cell.row, cell.column_letter)]
    assert "合计" in sheet.rejects[0].reason
    # said once: the reject, not also an "ignored" column in the sheet's note
    assert not any(f"{cell.column_letter}「" in w for w in sheet.warnings), sheet.warnings
    assert all(ln.source_column != cell.column_letter for ln in sheet.lines)
    whole = {ln.row_key: ln.amount_yuan for ln in sheet.lines if ln.column_key == "amount"}
    rewrite(FIXTURE, tmp_path / "plain.xlsx", whole="本地区")
    assert whole == {row_key: amount for row_key, key, _, amount in reading(tmp_path / "plain.xlsx")
                     if key == "amount"}
