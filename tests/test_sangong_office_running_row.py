"""The department final accounts' combined table “三公”经费和机关运行经费决算表 as the 财决 template lays it out: one row
per cost (一、“三公”经费 … 3.公务接待费) and then 二、机关运行经费, under 预算数 | 决算数. The row patterns matched 运行 for the
vehicles' running cost, so the 机关运行经费 row was read as 公务用车运行费: its figure (the office running cost, many
times the vehicles') replaced the vehicles' running cost, and the 三公 identities failed on a table that holds.
The workbook is written as a bureau's openpyxl export writes it (merged title, publisher and unit line)."""
from __future__ import annotations

from decimal import Decimal

import openpyxl

from dagster_project.ingest.workbook import parse_workbook

WAN = Decimal(10_000)
ROWS = [  # label, 预算数, 决算数 (万元)
    ("一、“三公”经费合计", "30.00", "26.40"),
    ("  1.因公出国（境）费", "8.00", "6.50"),
    ("  2.公务用车购置及运行费", "14.00", "12.30"),
    ("    （1）公务用车购置费", "0.00", "0.00"),
    ("    （2）公务用车运行费", "14.00", "12.30"),
    ("  3.公务接待费", "8.00", "7.60"),
    ("二、机关运行经费", "215.00", "198.75"),
]


def _workbook(path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "表7"
    sheet.append(["宁夏回族自治区体育局2024年度“三公”经费和机关运行经费决算表"])
    sheet.merge_cells("A1:C1")
    sheet.append(["部门：宁夏回族自治区体育局", None, "单位：万元"])
    sheet.append(["项目", "预算数", "决算数"])
    for label, budget, final in ROWS:
        sheet.append([label, float(budget), float(final)])
    book.save(path)
    return path


def test_the_office_running_row_is_no_vehicle_running_cost(tmp_path):
    parsed = parse_workbook(_workbook(tmp_path / "宁夏回族自治区体育局2024年度部门决算.xlsx"))
    sheet = next(s for s in parsed.sheets if s.status == "parsed")
    assert "sangong" in sheet.table_keys[-1], (sheet.table_keys, sheet.reason)
    final = {(line.row_key, line.column_key): line.amount_yuan for line in sheet.lines if line.column_key == "amount"}
    by_row = {row: amount for (row, _), amount in final.items()}
    assert by_row["vehicle_running"] == Decimal("12.30") * WAN          # the vehicles' running cost, not 198.75 万元
    assert by_row["office_running"] == Decimal("198.75") * WAN
    assert [line.row_key for line in sheet.lines if line.column_key == "amount"].count("vehicle_running") == 1
