"""Debt tables in the Ministry's layout as bureaus lay them out, each read like the sample's own sheet with the same
figures: 1-2 with 执行数 | 预算数 under 本地区 and 其中：本级 (past-year items filled under 执行数, the new year's
under 预算数), and 1-2 and 1-3 printed one under the other on one sheet. The sample workbook (the sample generator's
openpyxl output, one table per sheet, one figure column per region scope) is the reading to match."""
from __future__ import annotations

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from dagster_project.ingest.workbook import parse_workbook
from dagster_project.paths import REPO_ROOT

SAMPLE = REPO_ROOT / "data" / "raw" / "debt" / "2017" / "银川市2017年预算政府债务情况表.xlsx"
GENERAL, SPECIAL = "地方政府一般债务余额情况表", "地方政府专项债务余额情况表"
REGIONS = "地方政府债务限额及余额情况表"


def sample_rows(sheet: str) -> list[tuple]:
    ws = load_workbook(SAMPLE)[sheet]
    return [tuple(row) for row in ws.iter_rows(values_only=True)]


def readings(parsed, table_name: str) -> set[tuple]:
    (sheet,) = [s for s in parsed.sheets if s.table_name == table_name]
    assert sheet.status == "parsed" and not sheet.rejects, sheet.reason
    return {(ln.row_key, ln.column_key, ln.amount_yuan) for ln in sheet.lines}


def data_rows(rows: list[tuple]) -> list[tuple]:
    """The item rows of a sample 1-2/1-3 sheet (title, unit line and header above them)."""
    return [r for r in rows[3:] if r[0]]


def test_execution_and_budget_columns_read_as_one_figure_per_item(tmp_path):
    """本地区 and 其中：本级 each over 执行数 | 预算数: before, the 预算数 columns were dropped as duplicates and the
    new year's limit and deficit read as 0 (a limit below every balance)."""
    rows = sample_rows(GENERAL)
    wb = Workbook()
    ws = wb.active
    ws.title = "附表1-2"
    ws.append([rows[0][0]])
    ws.append([rows[1][0], None, None, None, rows[1][2]])
    ws.append(["项    目", "本地区", None, "其中：本级", None])
    ws.append([None, "执行数", "预算数", "执行数", "预算数"])
    for rng in ("A3:A4", "B3:C3", "D3:E3"):
        ws.merge_cells(rng)
    year = int(rows[0][0].split("年")[0][-4:])
    for label, region, own in data_rows(rows):
        new_year = f"{year}年" in label   # the table's own year: a budget figure; earlier years: executed
        ws.append([label, None if new_year else region, region if new_year else None,
                   None if new_year else own, own if new_year else None])
    ws.append(["注：执行数为上年预计执行数，预算数为本年预算数。"])
    wb.save(tmp_path / "pair.xlsx")

    got = readings(parse_workbook(tmp_path / "pair.xlsx"), GENERAL)
    assert got == readings(parse_workbook(SAMPLE), GENERAL)
    assert {key for key, column, _ in got if column == "amount_own_level"} >= {"limit", "closing_balance"}


def test_two_tables_on_one_sheet_read_as_on_their_own_sheets(tmp_path):
    """1-2 then 1-3 under it on one sheet (a note between): before, the second table was read as notes of the first."""
    wb = Workbook()
    ws = wb.active
    ws.title = "一般和专项债务"
    starts = {}
    for table in (GENERAL, SPECIAL):
        rows = sample_rows(table)
        starts[table] = ws.max_row + 1 if ws.max_row > 1 else 1
        for row in rows:
            ws.append(list(row))
        ws.append([])
        ws.append(["注：2016年末余额为预计执行数。"])
        ws.append([])
    wb.save(tmp_path / "stacked.xlsx")

    parsed = parse_workbook(tmp_path / "stacked.xlsx")
    sample = parse_workbook(SAMPLE)
    for table in (GENERAL, SPECIAL):
        assert readings(parsed, table) == readings(sample, table)
    first, second = parsed.sheets
    assert first.sheet == "一般和专项债务" and second.sheet.startswith("一般和专项债务（")
    assert first.note_text and SPECIAL not in first.note_text
    # every row keeps the number a person counts on the sheet
    opening = next(ln for ln in second.lines if ln.row_key == "opening_balance")
    assert ws.cell(opening.source_row, 1).value.startswith("一、") and opening.source_row > starts[SPECIAL] + 2


def test_a_column_per_county_reads_as_that_countys_own_table(tmp_path):
    """本地区 | 其中：本级 | 贺兰县: the county's column reads as 贺兰县's own 1-2 of that year (the sample's file of
    the county, one figure column), with key region:贺兰县; before, the column was ignored as unrecognised."""
    city = REPO_ROOT / "data" / "raw" / "debt" / "2018" / "银川市2018年预算政府债务情况表.xlsx"
    county = REPO_ROOT / "data" / "raw" / "debt" / "2018" / "贺兰县2018年预算政府债务情况表.xlsx"
    (city_sheet,) = [s for s in parse_workbook(city).sheets if s.table_name == GENERAL]
    (county_sheet,) = [s for s in parse_workbook(county).sheets if s.table_name == GENERAL]
    county_amounts = {ln.row_key: ln.amount_yuan for ln in county_sheet.lines}
    rows = [tuple(r) for r in load_workbook(city)[city_sheet.sheet].iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(rows) if r[1] == "本地区")
    wb = Workbook()
    ws = wb.active
    ws.title = "1-2"
    for r in rows[:header]:
        ws.append(list(r))
    ws.append(list(rows[header]) + ["贺兰县"])
    by_row = {ln.source_row: ln.row_key for ln in city_sheet.lines}
    for i, r in enumerate(rows[header + 1:], start=header + 2):
        key = by_row.get(i)
        extra = float(county_amounts[key] / city_sheet.unit_multiplier) if key else None
        ws.append(list(r) + [extra])
    wb.save(tmp_path / "counties.xlsx")

    (sheet,) = [s for s in parse_workbook(tmp_path / "counties.xlsx").sheets if s.table_name == GENERAL]
    assert not sheet.reason   # no column ignored
    got = {(ln.row_key, ln.column_key): ln.amount_yuan for ln in sheet.lines}
    assert {k: v for (k, col), v in got.items() if col == "region:贺兰县"} == county_amounts
    assert {(ln.row_key, ln.column_key): ln.amount_yuan for ln in city_sheet.lines} == {
        key: v for key, v in got.items() if key[1] != "region:贺兰县"}


def test_a_final_table_without_years_reads_as_with_them(tmp_path):
    """A final 1-2 saying 上年末 / 本年 / 年末 instead of years reads as the same table naming them: its 本年…限额 is
    the limit its 年末余额 stands under (before: read as next year's limit, so balance ≤ limit was never checked)."""
    final = REPO_ROOT / "data" / "raw" / "debt" / "2018" / "银川市2018年决算政府债务情况表.xlsx"
    rows = [tuple(r) for r in load_workbook(final)["Sheet2"].iter_rows(values_only=True)]
    year = 2018
    figures = [r[1:] for r in rows if r[0] and r[0].startswith(("一、", "二、", "三、", "四、", "五、"))]
    worded = {
        "years": [f"一、{year - 1}年末一般债务余额", f"二、{year}年一般债务限额", f"三、{year}年一般债务发行额",
                  f"四、{year}年一般债务还本额", f"五、{year}年末一般债务余额"],
        "no_years": ["一、上年末一般债务余额", "二、本年一般债务限额", "三、本年一般债务发行额", "四、本年一般债务还本额",
                     "五、年末一般债务余额"],
    }
    read = {}
    for name, labels in worded.items():
        wb = Workbook()
        ws = wb.active
        ws.append([f"银川市{year}年地方政府一般债务余额决算情况表"])
        ws.append(list(rows[1]))
        ws.append(list(rows[2]))
        for label, (region, own) in zip(labels, figures):
            ws.append([label, region, own])
        wb.save(tmp_path / f"{name}.xlsx")
        read[name] = readings(parse_workbook(tmp_path / f"{name}.xlsx"), "地方政府一般债务余额决算情况表")
    assert read["no_years"] == read["years"]
    assert {"prior_limit", "closing_balance"} <= {key for key, _, _ in read["years"]}


def test_a_title_with_the_year_first_names_the_same_publisher(tmp_path):
    """'2017年银川市地方政府一般债务余额情况表' names 银川市 as '银川市2017年…' does (before: no entity, so a file the
    portal does not list had no publisher)."""
    rows = sample_rows(GENERAL)
    sample_sheet = next(s for s in parse_workbook(SAMPLE).sheets if s.table_name == GENERAL)
    entity, year = sample_sheet.entity_name, sample_sheet.fiscal_year
    wb = Workbook()
    ws = wb.active
    ws.append([f"{year}年{entity}{GENERAL}"])
    ws.append([None, None, "单位：万元"])   # no publisher line: the title alone names the publisher
    for row in rows[2:]:
        ws.append(list(row))
    wb.save(tmp_path / "year_first.xlsx")
    (sheet,) = parse_workbook(tmp_path / "year_first.xlsx").sheets
    assert (sheet.entity_name, sheet.fiscal_year) == (entity, year)
    assert readings(parse_workbook(tmp_path / "year_first.xlsx"), GENERAL) == readings(parse_workbook(SAMPLE), GENERAL)


def test_limit_and_balance_over_short_sub_headers_without_a_merge(tmp_path):
    """1-1's 限额 | 余额 written over 合计 | 一般 | 专项 without merging the cells (as the sample's one-row header reads):
    before, the sub-header row was read as a data row (rejected) and 一般 / 专项 columns were lost."""
    rows = sample_rows(REGIONS)
    wb = Workbook()
    ws = wb.active
    for row in rows[:2]:
        ws.append(list(row))
    ws.append(["地区", "限额", None, None, "余额", None, None])
    ws.append([None, "合计", "一般", "专项", "合计", "一般", "专项"])
    for row in rows[3:]:
        ws.append(list(row))
    wb.save(tmp_path / "unmerged.xlsx")

    def by_label(parsed):
        (sheet,) = [s for s in parsed.sheets if s.table_name == REGIONS]
        assert sheet.status == "parsed" and not sheet.rejects, sheet.reason
        return {(ln.line_label, ln.column_key, ln.amount_yuan) for ln in sheet.lines}
    assert by_label(parse_workbook(tmp_path / "unmerged.xlsx")) == by_label(parse_workbook(SAMPLE))


def test_footnote_lines_under_the_table_are_notes_not_items(tmp_path):
    """'*本表…', a sentence ending in 。 and '数据来源：…' under the sample's 1-2: before, each was an item row with
    zero figures (the first even as a second closing_balance)."""
    rows = sample_rows(GENERAL)
    footnotes = ["*本表2016年末余额为预计执行数。", "本表金额按四舍五入列示，合计数与分项之和可能存在尾差。", "数据来源：银川市财政局"]
    wb = Workbook()
    ws = wb.active
    for row in rows + [(text,) for text in footnotes]:
        ws.append(list(row))
    wb.save(tmp_path / "footnotes.xlsx")
    parsed = parse_workbook(tmp_path / "footnotes.xlsx")
    assert readings(parsed, GENERAL) == readings(parse_workbook(SAMPLE), GENERAL)
    (sheet,) = parsed.sheets
    assert sheet.note_text == "\n".join(footnotes) and sheet.rows_in == len(data_rows(rows))


def test_bond_kinds_under_region_and_own_level(tmp_path):
    """1-4 with 本地区 and 其中：本级 each over 合计 | 一般债券 | 专项债券 (the own level's figures copied from the
    region's here): the own level reads as the region does, in column amount_own_level; before, its three columns
    were dropped as duplicates of the region's."""
    table = "地方政府债券发行及还本付息情况表"
    rows = sample_rows(table)
    wb = Workbook()
    ws = wb.active
    for row in rows[:2]:
        ws.append(list(row))
    ws.append(["项目", "本地区", None, None, "其中：本级", None, None])
    ws.append([None, *rows[2][1:], *rows[2][1:]])
    for rng in ("A3:A4", "B3:D3", "E3:G3"):
        ws.merge_cells(rng)
    for row in rows[3:]:
        ws.append([row[0], *row[1:], *row[1:]])
    wb.save(tmp_path / "own_level.xlsx")

    got = readings(parse_workbook(tmp_path / "own_level.xlsx"), table)
    region = {(k, c, v) for k, c, v in got if c != "amount_own_level" and not c.startswith("own_level")}
    assert region == readings(parse_workbook(SAMPLE), table)
    own = {(k, c, v) for k, c, v in got if (k, c, v) not in region}
    rename = {"amount": "amount_own_level", "amount_general": "own_level_general", "amount_special": "own_level_special"}
    assert own == {(k, rename[c], v) for k, c, v in region}


def test_the_same_tables_title_and_header_repeated_down_the_sheet_is_one_table(tmp_path):
    """The title, unit line and header pasted again half-way down (a block per printed page) continue the table:
    neither cut into a second copy of it (which the warehouse would leave out) nor read as an item."""
    rows = sample_rows(GENERAL)
    items = data_rows(rows)
    wb = Workbook()
    ws = wb.active
    for row in rows[:3] + items[:4] + rows[:3] + items[4:]:
        ws.append(list(row))
    wb.save(tmp_path / "repeated.xlsx")
    parsed = parse_workbook(tmp_path / "repeated.xlsx")
    assert len(parsed.sheets) == 1 and parsed.sheets[0].rows_in == len(items)
    assert readings(parsed, GENERAL) == readings(parse_workbook(SAMPLE), GENERAL)


def test_a_column_for_a_group_of_regions_is_no_regions_column(tmp_path):
    """全区 | 其中：自治区本级 | 其中：市县 — 市县 (like 地区, 其他地区, 所属市县) names a group of regions, not one: its
    figures are no region's, so the column is not read as region:市县 (a region without a code), while a county's
    name beside it still is."""
    city = REPO_ROOT / "data" / "raw" / "debt" / "2018" / "银川市2018年预算政府债务情况表.xlsx"
    (city_sheet,) = [s for s in parse_workbook(city).sheets if s.table_name == GENERAL]
    rows = [tuple(r) for r in load_workbook(city)[city_sheet.sheet].iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(rows) if r[1] == "本地区")
    groups = ["其中：市县", "地区", "其他地区", "所属市县", "全自治区"]
    wb = Workbook()
    ws = wb.active
    ws.title = "1-2"
    for r in rows[:header]:
        ws.append(list(r))
    ws.append(list(rows[header]) + groups + ["贺兰县"])
    for r in rows[header + 1:]:
        figure = r[1] if isinstance(r[1], (int, float)) else None
        ws.append(list(r) + [figure] * (len(groups) + 1))
    wb.save(tmp_path / "groups.xlsx")

    (sheet,) = [s for s in parse_workbook(tmp_path / "groups.xlsx").sheets if s.table_name == GENERAL]
    assert {ln.column_key for ln in sheet.lines if ln.column_key.startswith("region:")} == {"region:贺兰县"}
    # the group columns add no figures: every other line is the city's own reading
    assert {(ln.row_key, ln.column_key) for ln in sheet.lines if ln.column_key != "region:贺兰县"} == {
        (ln.row_key, ln.column_key) for ln in city_sheet.lines}


CALC = REPO_ROOT / "tests" / "fixtures" / "debt_calc"  # (MAKE.md there: openpyxl workbooks written from the contract)


def region_reading(path) -> tuple:
    (sheet,) = parse_workbook(path).sheets
    lines = sorted((ln.line_label, ln.row_key, ln.column_key, ln.source_column, ln.amount_yuan) for ln in sheet.lines)
    return sheet, lines


@pytest.mark.parametrize("band", ["分地区", "其中：", "各县（市、区）", "所属地区", "二、分地区"])
def test_counties_under_a_band_header_read_as_under_a_plain_header(tmp_path, band):
    """项目 | 本地区 | 其中：本级 | 分地区 merged over the counties, their names on the row below: each county's
    column reads as under the plain one-row header (key region:<name>, the same figures). Before, 分地区 matched the
    label word 地区, every county column was taken for an item column and its figures lost — no reject, no note."""
    plain, expected = region_reading(CALC / "debt_calc_titleless.xlsx")
    assert len({col for _, _, col, _, _ in expected if col.startswith("region:")}) == 5  # the counties are read there
    wb = load_workbook(CALC / "debt_calc_titleless_band.xlsx")
    ws = wb.active
    assert ws["D3"].value == "分地区" and "D3:H3" in {str(m) for m in ws.merged_cells.ranges}
    ws["D3"] = band
    wb.save(tmp_path / "band.xlsx")
    sheet, got = region_reading(tmp_path / "band.xlsx")
    assert sheet.header_row_count == plain.header_row_count + 1
    assert got == expected
    assert not sheet.rejects and not sheet.reason  # no column ignored


@pytest.mark.parametrize("name", ["其他", "合计", "贺兰山农牧场"])
def test_a_column_under_the_band_naming_no_region_is_a_reject_naming_sheet_and_column(tmp_path, name):
    """A figure column under 分地区 whose header names no one region (其他, the counties' 合计, a name the spec does
    not take for a region): its figures are not anyone's, so not read — but refused with a reject naming the sheet,
    the column and its header; the counties beside it still read."""
    _, plain = region_reading(CALC / "debt_calc_titleless.xlsx")
    wb = load_workbook(CALC / "debt_calc_titleless_band.xlsx")
    ws = wb.active
    county, ws["F4"] = ws["F4"].value, name
    wb.save(tmp_path / "other.xlsx")
    sheet, got = region_reading(tmp_path / "other.xlsx")
    assert got == [line for line in plain if line[2] != f"region:{county}"]
    (reject,) = sheet.rejects
    assert (reject.sheet, reject.source_column, reject.source_row) == (ws.title, "F", 4)
    assert f"F列「分地区/{name}」" in reject.reason and "分地区" in reject.raw_value
    assert sheet.rows_rejected == 0 and sheet.rows_loaded == sheet.rows_in  # the rows themselves are read


def pairs_workbook(path, band: str | None, both_in: str | None = None) -> tuple[list[tuple], object]:
    """debt_calc_titleless.xlsx with every region over 执行数 | 预算数 (past-year items under 执行数, the table's own
    year under 预算数): 本地区 and 其中：本级 merged over two header rows, each county's name merged over its pair, and
    — with ``band`` — the band merged over the counties on a row above them (three header rows). ``both_in``: that
    county's pair both filled on the first item row."""
    plain = load_workbook(CALC / "debt_calc_titleless.xlsx").active
    rows = [list(r) for r in plain.iter_rows(values_only=True)]
    head = next(i for i, r in enumerate(rows) if r[0] == "项目")
    names = rows[head][1:]
    year = rows[0][0].split("年")[0][-4:]
    wb = Workbook()
    ws = wb.active
    ws.title = plain.title
    for r in rows[:head]:
        ws.append(r[:1] + [None] * (2 * len(names) - 1) + r[-1:])
    top = head + 1
    name_row = top + 1 if band else top
    if band:
        ws.append(["项目", names[0], None, names[1], None, band])
        ws.merge_cells(f"F{top}:{get_column_letter(1 + 2 * len(names))}{top}")
    ws.append([None if band else "项目"] + [n if i >= 2 or not band else None
                                             for i, n in enumerate(names) for n in (n, None)])
    ws.append([None] + ["执行数", "预算数"] * len(names))
    ws.merge_cells(f"A{top}:A{name_row + 1}")
    for i in range(len(names)):
        first = get_column_letter(2 + 2 * i)
        ws.merge_cells(f"{first}{top if i < 2 else name_row}:{get_column_letter(3 + 2 * i)}{name_row}")
    for n, r in enumerate(rows[head + 1:]):
        new_year = f"{year}年" in r[0]
        cells = [(None, v) if new_year else (v, None) for v in r[1:]]
        if both_in and n == 0:
            i = names.index(both_in)
            cells[i] = (r[1 + i], r[1 + i])
        ws.append([r[0]] + [x for pair in cells for x in pair])
    wb.save(path)
    return rows, ws


@pytest.mark.parametrize("band", [None, "分地区"])
def test_each_regions_execution_and_budget_pair_reads_as_its_one_column(tmp_path, band):
    """本地区 | 其中：本级 | 兴庆区 | … each over 执行数 | 预算数 (under a band 分地区 or not): each county's pair reads
    as its one column region:<name>, the same figures as the one-column table. Before, 兴庆区/执行数 matched the bare
    执行数: every county's figures were taken for the whole region's, all but one dropped as duplicates and the new
    year's limit read as 0 from an empty 执行数 cell."""
    _, expected = region_reading(CALC / "debt_calc_titleless.xlsx")
    pairs_workbook(tmp_path / "pairs.xlsx", band)
    sheet, got = region_reading(tmp_path / "pairs.xlsx")
    assert {(line[1], line[2], line[4]) for line in got} == {(line[1], line[2], line[4]) for line in expected}
    assert len(got) == len(expected)
    assert not sheet.rejects and not sheet.reason


def test_a_regions_pair_both_filled_on_a_row_reads_as_the_items_year_says(tmp_path):
    """One county's 执行数 and 预算数 both filled on a row (一、2018年末… of 2020's table): the same figure twice is that
    figure; two figures, the executed one — 2018 is history (ingest/figure_pairs.py; before: both columns refused
    for the whole table). The other regions read as before."""
    _, expected = region_reading(CALC / "debt_calc_titleless.xlsx")
    _, ws = pairs_workbook(tmp_path / "both.xlsx", "分地区", both_in="金凤区")
    sheet, got = region_reading(tmp_path / "both.xlsx")
    assert {(line[1], line[2], line[4]) for line in got} == {(line[1], line[2], line[4]) for line in expected}
    assert not sheet.rejects and not sheet.reason
    wb = load_workbook(tmp_path / "both.xlsx")
    ws = wb.active
    (county,) = [cell for row in ws.iter_rows() for cell in row if cell.value == "金凤区"]
    first = next(r for r in range(county.row, ws.max_row + 1) if str(ws.cell(r, 1).value or "").startswith("一、"))
    ws.cell(first, county.column + 1, ws.cell(first, county.column).value + 7)   # 预算数 differs from 执行数
    wb.save(tmp_path / "differ.xlsx")
    sheet, got = region_reading(tmp_path / "differ.xlsx")
    assert {(line[1], line[2], line[4]) for line in got} == {(line[1], line[2], line[4]) for line in expected}
    assert not sheet.rejects


def test_a_second_item_column_is_named_in_a_note(tmp_path):
    """项目 | 本地区 | … | 项目 again (a second table beside the first): only the first item column is read, and the
    second is named in the sheet's note — before, it was dropped without a word."""
    wb = load_workbook(CALC / "debt_calc_titleless.xlsx")
    ws = wb.active
    head = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "项目")
    extra = ws.max_column + 1
    for r in range(head, ws.max_row + 1):
        ws.cell(r, extra, ws.cell(r, 1).value)
    wb.save(tmp_path / "extra.xlsx")
    sheet, _ = region_reading(tmp_path / "extra.xlsx")
    letter = get_column_letter(extra)
    assert f"{letter}「项目」" in (sheet.reason or "")


def test_a_pair_under_the_band_naming_no_region_is_refused(tmp_path):
    """其他 over 执行数 | 预算数 under 分地区: 其他/执行数 is no one region's figure — refused as 其他 alone is (a reject
    per column naming sheet, column and header), not read as the whole region's 执行数."""
    _, expected = region_reading(CALC / "debt_calc_titleless.xlsx")
    pairs_workbook(tmp_path / "other.xlsx", "分地区")
    wb = load_workbook(tmp_path / "other.xlsx")
    ws = wb.active
    (county,) = [cell for row in ws.iter_rows() for cell in row if cell.value == "金凤区"]
    county.value = "其他"
    wb.save(tmp_path / "other.xlsx")
    sheet, got = region_reading(tmp_path / "other.xlsx")
    assert {(line[1], line[2], line[4]) for line in got} == {
        (line[1], line[2], line[4]) for line in expected if line[2] != "region:金凤区"}
    pair = [get_column_letter(county.column + i) for i in (0, 1)]
    assert sorted((r.sheet, r.source_column) for r in sheet.rejects) == [(ws.title, letter) for letter in pair]
    assert all("分地区/其他/" in r.reason for r in sheet.rejects)
