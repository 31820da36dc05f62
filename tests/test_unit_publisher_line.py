"""A subordinate unit's file in the Ministry template names its department too: ``预算主管部门：…厅`` above or beside
``预算单位：…中心``. The file is the unit's (DOMAIN.md 2.2, 所属单位 publish their own), so the unit is its publisher;
the department's line names the publisher only where no other line does. Before, the first line met won: a unit's
tables were its department's."""
from __future__ import annotations

import pytest

from blind_disclosure import write_workbook
from dagster_project.ingest.workbook import parse_workbook

DEPARTMENT, UNIT = "宁夏回族自治区卫生健康委员会", "宁夏回族自治区疾病预防控制中心"
TABLE = dict(name="2025年单位一般公共预算支出表", unit="单位：元",
             head=[[("科目编码", 1, 1), ("科目名称", 1, 1), ("合计", 1, 1), ("基本支出", 1, 1), ("项目支出", 1, 1)]],
             rows=[["", "合计", "300", "100", "200"], ["2100401", "疾病预防控制机构", "300", "100", "200"]])


def _unit_book(path, lines: list[str]):
    """The table with the publisher lines as the template prints them: each its own row above the header."""
    from openpyxl import load_workbook

    write_workbook(path, [dict(TABLE, publisher=lines[-1])])
    book = load_workbook(path)
    sheet = book.active
    for text in reversed(lines[:-1]):
        sheet.insert_rows(2)
        sheet.cell(2, 1, text)
    book.save(path)
    return path


@pytest.mark.parametrize("lines, publisher", [
    ([f"预算主管部门：{DEPARTMENT}", f"预算单位：{UNIT}"], UNIT),
    ([f"主管部门：{DEPARTMENT}", f"单位名称：{UNIT}"], UNIT),
    ([f"预算主管部门：{DEPARTMENT}"], DEPARTMENT),   # the department's own file, named only so: still its
])
def test_a_units_file_is_the_units_not_its_departments(tmp_path, lines, publisher):
    parsed = parse_workbook(_unit_book(tmp_path / "单位预算.xlsx", lines))
    assert [(s.status, s.entity_name) for s in parsed.sheets] == [("parsed", publisher)]
    assert parsed.entity_name == publisher
