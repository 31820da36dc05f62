"""A debt item table (1-2, items as rows, regions as columns) whose whole-region column is headed by the publisher's own
region name — 银川市's 1-2 headed `项目 | 银川市 | 其中：本级 | 兴庆区 …`, or `银川市` over 执行数 | 预算数 — reads as the same
table headed 本地区: a reader of 银川市's table takes its 银川市 column for the whole city, as a 1-1 row printed
银川市 already is (ref_debt_whole_region_labels: own_region_name). Before, the column read as `region:银川市` (over
执行数 | 预算数), and a header naming only regions (`项目 | 银川市 | 兴庆区`, `项目 | 银川市`) was no header: the sheet
refused whole. Expected readings are the same workbook's with 本地区 written in the own name's place."""
from __future__ import annotations

import pytest
from openpyxl import load_workbook

from dagster_project.ingest.workbook import parse_workbook
from dagster_project.paths import REPO_ROOT
from test_debt_ministry_layout import pairs_workbook

FIXTURE = REPO_ROOT / "tests" / "fixtures" / "debt_calc" / "debt_calc_titleless.xlsx"  # 银川市's 2020 1-2
OWN = "银川市"


def reading(path) -> list[tuple]:
    (sheet,) = parse_workbook(path).sheets
    assert sheet.status == "parsed" and not sheet.rejects, sheet.reason
    return sorted((ln.row_key, ln.column_key, ln.source_column, ln.amount_yuan) for ln in sheet.lines)


def rewrite(src, path, *, whole: str, title: str | None = None, publisher: str | None = None,
            keep_columns: int | None = None) -> None:
    """``src`` with its 本地区 header cell written ``whole``; the title / publisher line replaced; only the first
    ``keep_columns`` columns kept."""
    wb = load_workbook(src)
    ws = wb.active
    (cell,) = [c for row in ws.iter_rows() for c in row if c.value == "本地区"]
    cell.value = whole
    if title is not None:
        ws["A1"] = title
    if publisher is not None:
        ws["A2"] = publisher
    if keep_columns is not None:
        for merged in list(ws.merged_cells.ranges):
            ws.unmerge_cells(str(merged))
        ws.delete_cols(keep_columns + 1, ws.max_column)
        ws.cell(2, keep_columns, "单位：万元")
    wb.save(path)


CASES = {
    # the title names 银川市; all regions' columns in one header row
    "title": dict(),
    # the Ministry's title without an entity: the publisher line names the bureau of 银川市
    "publisher_line": dict(title="2020年地方政府一般债务余额情况表"),
    # only 项目 | 银川市: before, no header at all
    "one_column": dict(keep_columns=2),
    # 项目 | 银川市 | 其中：本级 | 兴庆区: before, 银川市 read as region:银川市
    "three_columns": dict(keep_columns=4),
}


@pytest.mark.parametrize("case", CASES)
def test_own_region_column_reads_as_the_whole_region(tmp_path, case):
    edits = CASES[case]
    rewrite(FIXTURE, tmp_path / "whole.xlsx", whole="本地区", **edits)
    rewrite(FIXTURE, tmp_path / "own.xlsx", whole=OWN, **edits)
    expected = reading(tmp_path / "whole.xlsx")
    assert {key for _, key, _, _ in expected} >= {"amount"}
    assert reading(tmp_path / "own.xlsx") == expected


@pytest.mark.parametrize("band", [None, "分地区"])
def test_own_region_over_execution_and_budget_reads_as_the_whole_region(tmp_path, band):
    """银川市 | 其中：本级 | 兴庆区 … each over 执行数 | 预算数: 银川市's pair is the whole region's one column."""
    pairs_workbook(tmp_path / "pairs.xlsx", band)
    rewrite(tmp_path / "pairs.xlsx", tmp_path / "own.xlsx", whole=OWN)
    expected = reading(tmp_path / "pairs.xlsx")
    assert reading(tmp_path / "own.xlsx") == expected


def test_a_countys_own_name_under_its_city_in_the_publisher_line(tmp_path):
    """兴庆区's table (publisher 银川市兴庆区财政局, no entity in the title) headed 项目 | 兴庆区: the whole 兴庆区, while a
    column 银川市 in it would be the city's (not the publisher's own region)."""
    edits = dict(title="2020年地方政府一般债务余额情况表", publisher="编制单位：银川市兴庆区财政局", keep_columns=2)
    rewrite(FIXTURE, tmp_path / "whole.xlsx", whole="本地区", **edits)
    rewrite(FIXTURE, tmp_path / "own.xlsx", whole="兴庆区", **edits)
    assert reading(tmp_path / "own.xlsx") == reading(tmp_path / "whole.xlsx")
    rewrite(FIXTURE, tmp_path / "city.xlsx", whole=OWN, **edits)
    assert {key for _, key, _, _ in reading(tmp_path / "city.xlsx")} == {"region:银川市"}


def test_own_name_beside_a_whole_region_column_stays_a_regions_column(tmp_path):
    """本地区 | 银川市: the table has its whole-region column; the own name is not taken for a second one."""
    wb = load_workbook(FIXTURE)
    ws = wb.active
    ws["D3"] = OWN
    wb.save(tmp_path / "both.xlsx")
    keys = {key for _, key, _, _ in reading(tmp_path / "both.xlsx")}
    assert {"amount", "region:银川市"} <= keys


def _seed_counties():
    import csv
    from dagster_project.paths import DBT_SEEDS_DIR
    with open(DBT_SEEDS_DIR / "ref_regions.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    names = {r["region_code"]: r["region_name"] for r in rows}
    return [(names[r["parent_code"]], r["region_name"]) for r in rows if r["level"] == "county"]


@pytest.mark.parametrize("city, county", _seed_counties())
def test_every_ningxia_countys_own_name_from_its_publisher_line(tmp_path, city, county):
    """Each county-level region of the seed publishing as 编制单位：<city><county>财政局, headed 项目 | <county>: the whole
    county. Before, the shortest-name rule read 固原市原州区 as 固原市 + 原州 (州 a level word), so 原州区 was no own name."""
    edits = dict(title="2020年地方政府一般债务余额情况表", publisher=f"编制单位：{city}{county}财政局", keep_columns=2)
    rewrite(FIXTURE, tmp_path / "whole.xlsx", whole="本地区", **edits)
    rewrite(FIXTURE, tmp_path / "own.xlsx", whole=county, **edits)
    assert reading(tmp_path / "own.xlsx") == reading(tmp_path / "whole.xlsx")


def test_a_title_naming_the_publishers_parent_does_not_make_it_own(tmp_path):
    """Title 银川市2020年… (the city's template), publisher 编制单位：贺兰县财政局, headed 项目 | 贺兰县 | 其中：本级 | 银川市
    (review R5): 贺兰县's column is the whole region, 银川市's the city's. Before, both were own: both read as `amount`
    and one dropped with only a warning."""
    def build(path, first, fourth):
        rewrite(FIXTURE, path, whole=first, publisher="编制单位：贺兰县财政局", keep_columns=4)
        wb = load_workbook(path)
        wb.active["D3"] = fourth
        wb.save(path)
    build(tmp_path / "whole.xlsx", "本地区", "银川市")
    build(tmp_path / "own.xlsx", "贺兰县", "银川市")
    expected = reading(tmp_path / "whole.xlsx")
    assert {key for _, key, _, _ in expected} >= {"amount", "region:银川市"}
    assert reading(tmp_path / "own.xlsx") == expected


def test_title_and_publisher_naming_unrelated_regions_refuse_the_own_columns(tmp_path):
    """Title 银川市2020年…, publisher 编制单位：固原市财政局, headed 项目 | 银川市 | 其中：本级 | 固原市: whose table it is cannot
    be told — each of the two name columns is a reject naming it; the 本级 column still reads."""
    rewrite(FIXTURE, tmp_path / "own.xlsx", whole=OWN, publisher="编制单位：固原市财政局", keep_columns=4)
    wb = load_workbook(tmp_path / "own.xlsx")
    ws = wb.active
    ws["D3"] = "固原市"
    wb.save(tmp_path / "own.xlsx")
    (sheet,) = parse_workbook(tmp_path / "own.xlsx").sheets
    assert sorted((r.source_row, r.source_column) for r in sheet.rejects) == [(3, "B"), (3, "D")]
    assert {ln.column_key for ln in sheet.lines} == {"amount_own_level"}
