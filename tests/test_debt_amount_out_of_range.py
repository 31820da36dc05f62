"""A figure no amount can be — 10^18 元 and more (a typo, a code typed into an amount cell: 1E+16 in a 万元 table) —
is that cell's row reject naming file, sheet, row and column, never the table's end. Before, 1E+16 万元 was read as
10^20 元 and the load stopped: raw.*_lines.amount_yuan is DECIMAL(20, 2) and Arrow refused the whole family's batch;
a stored 1E+27 or more (General or '0.00') made Decimal's 28 digits overflow and the whole sheet was refused."""
from __future__ import annotations

import pytest
from openpyxl import load_workbook

from dagster_project.ingest.workbook import parse_workbook
from test_debt_own_region_column import FIXTURE


@pytest.mark.parametrize(("value", "number_format"), [(1e16, "General"), (1e30, "General"), (1e30, "0.00"),
                                                     (10 ** 40, "#,##0.00"), (-1e18, "General")])
def test_a_figure_beyond_any_amount_is_its_rows_reject(tmp_path, value, number_format):
    wb = load_workbook(FIXTURE)
    ws = wb.active
    cells = [c for row in ws.iter_rows() for c in row if type(c.value) in (int, float)]
    cell = cells[len(cells) // 2]
    cell.value, cell.number_format = value, number_format
    wb.save(tmp_path / "huge.xlsx")
    (sheet,) = parse_workbook(tmp_path / "huge.xlsx").sheets
    assert sheet.status == "parsed", sheet.reason
    assert [(r.source_row, r.source_column) for r in sheet.rejects] == [(cell.row, cell.column_letter)]
    assert "超出" in sheet.rejects[0].reason and "out of range" in sheet.rejects[0].reason
    assert sheet.lines and all(abs(ln.amount_yuan) < 10 ** 18 for ln in sheet.lines if ln.amount_yuan is not None)
    # the other rows are read as from the untouched table
    (plain,) = parse_workbook(FIXTURE).sheets
    assert {(ln.source_row, ln.column_key): ln.amount_yuan for ln in sheet.lines} == {
        (ln.source_row, ln.column_key): ln.amount_yuan for ln in plain.lines if ln.source_row != cell.row}
