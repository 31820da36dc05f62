"""A 合计 / 总计 under a band naming a part of the region (区县, 所辖县（区）, 县（市）区, 下属县区, 县市区 …) is the
counties' subtotal, not the whole region (ingest/region_totals.py, the bands: ingest/specs/workbook_tables.yaml).

Review V2: ``项目 | 市本级 | 区县(合计 | 兴庆区 | 贺兰县)`` read the counties' subtotal as the whole region's ``amount``;
``项目 | 银川市 | 其中：本级 | 区县(合计 | …)`` read the subtotal (500) as ``amount`` and the real whole column (1000) as
``region:银川市``; a 1-1 with items as rows headed ``本级 | 区县(合计|总计 | …)`` the same (DEBT_REGION_SUM then fails
falsely by the 本级 figure). Only the header's last cell was read. Now every cell above a 合计 must name the whole
region (the one vocabulary, seed ref_debt_whole_region_labels, or the own name) for it to be the whole region; the
own-name column is the whole region before any 合计.
"""
from __future__ import annotations

import pytest
from openpyxl import Workbook

from dagster_project.ingest.workbook import parse_workbook
from test_debt_region_items_as_rows import swapped

ITEMS = ["一、2018年末一般债务余额实际数", "二、2019年一般债务限额", "三、2019年一般债务发行额",
         "四、2019年一般债务还本额", "五、2019年末一般债务余额预计执行数"]
BANDS = ["区县", "所辖县（区）", "县（市）区", "下属县区", "县市区",
         "下辖县（市、区）"]  # the last is no band of the spec: the header's cell above 合计 still narrows it
COUNTIES = ["兴庆区", "贺兰县"]


def figures(i: int) -> dict[str, int]:
    """万元 of item ``i``: the whole city, its own level, the counties (their subtotal is whole − own)."""
    whole, own = (i + 1) * 1000, (i + 1) * 500
    return {"whole": whole, "own": own, "兴庆区": (i + 1) * 300, "贺兰县": (i + 1) * 200, "subtotal": whole - own}


def general_1_2(path, band: str, own_name: bool, total: str = "合计") -> None:
    """银川市's 1-2 in 万元: 项目 | 市本级 | band(合计 | 兴庆区 | 贺兰县), or 项目 | 银川市 | 其中：本级 | band(…)."""
    first = ["银川市", "其中：本级"] if own_name else ["市本级"]
    wb = Workbook()
    ws = wb.active
    ws.title = "1-2"
    ws.append(["银川市2020年地方政府一般债务余额情况表"])
    ws.append(["编制单位：银川市财政局", *[None] * (len(first) + 2), "单位：万元"])
    ws.append(["项目", *first, band, None, None])
    ws.append([None] * (1 + len(first)) + [total, *COUNTIES])
    for i, item in enumerate(ITEMS):
        f = figures(i)
        ws.append([item, *([f["whole"], f["own"]] if own_name else [f["own"]]), f["subtotal"],
                   *(f[c] for c in COUNTIES)])
    for c in range(1, 2 + len(first)):
        ws.merge_cells(start_row=3, start_column=c, end_row=4, end_column=c)
    ws.merge_cells(start_row=3, start_column=2 + len(first), end_row=3, end_column=4 + len(first))
    wb.save(path)


def by_key(sheet) -> dict[str, list]:
    out: dict[str, list] = {}
    for line in sorted(sheet.lines, key=lambda ln: ln.source_row):
        out.setdefault(line.column_key, []).append(int(line.amount_yuan / 10000))
    return out


@pytest.mark.parametrize("own_name", [False, True])
@pytest.mark.parametrize("band", BANDS)
def test_a_subtotal_under_a_band_of_counties_is_not_the_whole_region(tmp_path, band, own_name):
    general_1_2(tmp_path / "subtotal.xlsx", band, own_name)
    (sheet,) = parse_workbook(tmp_path / "subtotal.xlsx").sheets
    read = by_key(sheet)
    expect = {"amount_own_level": [figures(i)["own"] for i in range(len(ITEMS))],
              **{f"region:{c}": [figures(i)[c] for i in range(len(ITEMS))] for c in COUNTIES}}
    if own_name:  # the column headed by the own name is the whole city, never region:银川市
        expect["amount"] = [figures(i)["whole"] for i in range(len(ITEMS))]
    assert read == expect, (band, own_name)
    subtotal = "D" if own_name else "C"
    refused = [r for r in sheet.rejects if r.source_column == subtotal]
    ignored = [w for w in sheet.warnings if f"{subtotal}「" in w]
    assert len(refused) + len(ignored) == 1, (sheet.rejects, sheet.warnings)  # said once, never read
    if band != BANDS[-1]:
        assert refused and band in refused[0].reason.replace("(", "（").replace(")", "）")


@pytest.mark.parametrize("total", ["合计", "总计"])
def test_a_subtotal_in_a_1_1_with_items_as_rows_is_not_the_whole_region(tmp_path, total):
    """项目 | 本级 | 区县(合计 | 兴庆区 | …): the counties' subtotal (本地区 − 本级) is refused, naming it; 本级 and the
    counties read as before."""
    rows, regions = swapped(None)
    counties = regions[2:]
    wb = Workbook()
    ws = wb.active
    ws.title = "1-1"
    ws.append(rows[0])
    ws.append(rows[1])
    ws.append(["项目", "本级", "区县"] + [None] * len(counties))
    ws.append([None, None, total] + counties)
    for row in rows[3:]:
        whole, own = row[1], row[2]
        ws.append([row[0], own, round(whole - own, 2), *row[3:]])
    for c in (1, 2):
        ws.merge_cells(start_row=3, start_column=c, end_row=4, end_column=c)
    ws.merge_cells(start_row=3, start_column=3, end_row=3, end_column=3 + len(counties))
    wb.save(tmp_path / "one_one.xlsx")
    (sheet,) = parse_workbook(tmp_path / "one_one.xlsx").sheets
    assert "amount" not in {ln.column_key for ln in sheet.lines}
    assert [(r.source_row, r.source_column) for r in sheet.rejects] == [(4, "C")]
    assert {ln.column_key for ln in sheet.lines} == {"amount_own_level", *(f"region:{c}" for c in counties)}
    own = {ln.row_key: ln.amount_yuan for ln in sheet.lines if ln.column_key == "amount_own_level"}
    assert len(own) == len(rows) - 3

