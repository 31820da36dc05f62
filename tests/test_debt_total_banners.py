"""A 合计 / 总计 under a measure, year, unit or amount heading is still the whole region (ingest/region_totals.py).

Review V4 on mend M2: M2 made a 合计 the whole region only when every header cell above it was on an allowed list, so a
real whole-region 合计 under a banner such as ``执行数`` / ``预算数`` / ``数额`` / ``金额（万元）`` / ``2019年`` (a 1-1 with
items as rows) or ``2020年`` / ``2020年末`` / ``余额`` / ``本年`` (a 1-2) was refused or ignored — the whole region's
figures lost (main read them). The rule: a 合计 is the whole region unless a cell above it narrows it — a region band
or a cell naming a part of the region (区县, 所辖县（区）, 其中 …: tests/test_debt_subtotal_columns.py keeps those).

Each table is compared with the same table without the banner (``项目 | 合计 | 本级 | 兴庆区 …``), read as before.
"""
from __future__ import annotations

import pytest
from openpyxl import Workbook, load_workbook

from dagster_project.ingest.workbook import parse_workbook
from test_debt_region_items_as_rows import SAMPLE, swapped
from test_debt_subtotal_columns import COUNTIES, ITEMS, figures


def _amounts(sheet) -> dict:
    return {(ln.row_key, ln.column_key, ln.source_row): ln.amount_yuan for ln in sheet.lines}


def _save(path, title_rows, header, banner, body, sheet_name):
    """``header`` (项目, then the figure columns' headings) under ``banner`` merged over every figure column, or one
    header row without a banner."""
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_name
    for row in title_rows:
        ws.append(row)
    if banner:
        ws.append([header[0], banner] + [None] * (len(header) - 2))
        ws.append([None] + header[1:])
        top = len(title_rows) + 1
        ws.merge_cells(start_row=top, start_column=1, end_row=top + 1, end_column=1)
        ws.merge_cells(start_row=top, start_column=2, end_row=top, end_column=len(header))
    else:
        ws.append(header)
    for row in body:
        ws.append(row)
    wb.save(path)
    (sheet,) = parse_workbook(path).sheets
    return sheet


def one_one(path, banner, total="合计"):
    """The sample 1-1 with items as rows: 项目 | banner(合计 | 本级 | counties …)."""
    rows, regions = swapped(None)
    return _save(path, rows[:2], ["项目", total, *regions[1:]], banner, rows[3:], "1-1")


def one_two(path, banner, total="合计"):
    """银川市's 1-2 in 万元: 项目 | banner(合计 | 市本级 | 兴庆区 | 贺兰县)."""
    body = [[item, f["whole"], f["own"], *(f[c] for c in COUNTIES)] for item, f in
            ((item, figures(i)) for i, item in enumerate(ITEMS))]
    return _save(path, [["银川市2020年地方政府一般债务余额情况表"], ["编制单位：银川市财政局", None, None, None, "单位：万元"]],
                 ["项目", total, "市本级", *COUNTIES], banner, body, "1-2")


@pytest.mark.parametrize("total", ["合计", "总计"])
# the sample 1-1 is 银川市's 2018 budget (2017's figures): a year banner names its year or the year before — 2019年 over
# its columns was another year's figures, no longer read as this table's (wave 17: header_band.foreign_year)
@pytest.mark.parametrize("banner", ["执行数", "预算数", "数额", "金额（万元）", "2018年", "2017年执行数"])
def test_a_whole_region_total_under_a_measure_banner_in_a_1_1(tmp_path, banner, total):
    plain = one_one(tmp_path / "plain.xlsx", None, total)
    sheet = one_one(tmp_path / "banner.xlsx", banner, total)
    assert "amount" in {ln.column_key for ln in plain.lines}
    assert not sheet.rejects, [r.reason for r in sheet.rejects]
    assert {k[:2]: v for k, v in _amounts(sheet).items()} == {k[:2]: v for k, v in _amounts(plain).items()}


@pytest.mark.parametrize("total", ["合计", "总计"])
@pytest.mark.parametrize("banner", ["2020年", "2020年末", "余额", "本年", "执行数", "金额（万元）"])
def test_a_whole_region_total_under_a_year_or_measure_banner_in_a_1_2(tmp_path, banner, total):
    plain = one_two(tmp_path / "plain.xlsx", None, total)
    sheet = one_two(tmp_path / "banner.xlsx", banner, total)
    read = {ln.column_key for ln in sheet.lines}
    assert read == {"amount", "amount_own_level", *(f"region:{c}" for c in COUNTIES)}, (sheet.warnings, sheet.rejects)
    assert not sheet.rejects and not any("B「" in w for w in sheet.warnings), (sheet.rejects, sheet.warnings)
    assert {k[:2]: v for k, v in _amounts(sheet).items()} == {k[:2]: v for k, v in _amounts(plain).items()}


@pytest.mark.parametrize("banner", ["分地区", "地区", "区域", "行政区划", "地区名称"])
def test_a_total_under_a_band_over_the_own_level_too_is_the_whole_region_in_a_1_2(tmp_path, banner):
    """``分地区(合计 | 市本级 | 兴庆区 | 贺兰县)``: the band spans every part of the region, 市本级 included, so its 合计 is
    the whole region (before: a reject). 区域, 行政区划, 地区名称 over the regions were the item column's words — the
    counties lost with a note only."""
    plain = one_two(tmp_path / "plain.xlsx", None)
    sheet = one_two(tmp_path / "band.xlsx", banner)
    assert not sheet.rejects and not sheet.warnings, ([r.reason for r in sheet.rejects], sheet.warnings)
    assert {k[:2]: v for k, v in _amounts(sheet).items()} == {k[:2]: v for k, v in _amounts(plain).items()}


@pytest.mark.parametrize("banner", ["分地区", "地区", "区域", "行政区划", "地区名称"])
def test_a_total_under_a_band_over_the_own_level_too_is_the_whole_region_in_a_1_1(tmp_path, banner):
    plain = one_one(tmp_path / "plain.xlsx", None)
    sheet = one_one(tmp_path / "band.xlsx", banner)
    assert not sheet.rejects and not sheet.warnings, ([r.reason for r in sheet.rejects], sheet.warnings)
    assert {k[:2]: v for k, v in _amounts(sheet).items()} == {k[:2]: v for k, v in _amounts(plain).items()}


@pytest.mark.parametrize("label", ["地区", "区域", "行政区划", "地区名称"])
@pytest.mark.parametrize("merged", [True, False])
def test_the_region_column_of_a_1_1_with_regions_as_rows_is_no_band(tmp_path, label, merged):
    """The usual 1-1 (regions as rows) heads its item column 地区 over three header rows: a band word alone over its
    column, merged down or not, is still the item column — read as the sample is."""
    expected = _amounts(parse_workbook(SAMPLE).sheets[0])
    wb = load_workbook(SAMPLE)
    ws = wb.worksheets[0]
    if not merged:
        ws.unmerge_cells("A3:A5")
    ws["A3"] = label
    wb.save(tmp_path / "regions_as_rows.xlsx")
    sheet = parse_workbook(tmp_path / "regions_as_rows.xlsx").sheets[0]
    assert not sheet.rejects and _amounts(sheet) == expected


@pytest.mark.parametrize("make", [one_one, one_two])
def test_a_total_under_qizhong_is_a_part_even_over_the_own_level(tmp_path, make):
    """``其中(合计 | 本级 | …)``: 其中 (of which) names a part whatever it spans — the 合计 under it is refused, naming it."""
    sheet = make(tmp_path / "qizhong.xlsx", "其中")
    assert "amount" not in {ln.column_key for ln in sheet.lines}
    assert [r.source_column for r in sheet.rejects] == ["B"]


def test_the_whole_regions_word_before_a_band_is_the_band(tmp_path):
    """``项目 | 银川市 | 本地区所辖县区(合计 | 兴庆区 | 贺兰县)``: the 本地区 alias took the counties' subtotal as the whole
    region by containing 本地区, and the city's own column became ``region:银川市``. The band is 所辖县区: its 合计 a
    reject, 银川市 the whole region."""
    wb = Workbook()
    ws = wb.active
    ws.title = "1-2"
    ws.append(["银川市2020年地方政府一般债务余额情况表"])
    ws.append(["编制单位：银川市财政局", None, None, None, "单位：万元"])
    ws.append(["项目", "银川市", "本地区所辖县区", None, None])
    ws.append([None, None, "合计", *COUNTIES])
    for i, item in enumerate(ITEMS):
        f = figures(i)
        ws.append([item, f["whole"], f["subtotal"], *(f[c] for c in COUNTIES)])
    ws.merge_cells("A3:A4")
    ws.merge_cells("B3:B4")
    ws.merge_cells("C3:E3")
    wb_path = tmp_path / "hostile.xlsx"
    wb.save(wb_path)
    (sheet,) = parse_workbook(wb_path).sheets
    read = {}
    for ln in sheet.lines:
        read.setdefault(ln.column_key, []).append(int(ln.amount_yuan / 10000))
    assert read == {"amount": [figures(i)["whole"] for i in range(len(ITEMS))],
                    **{f"region:{c}": [figures(i)[c] for i in range(len(ITEMS))] for c in COUNTIES}}
    assert [r.source_column for r in sheet.rejects] == ["C"]
