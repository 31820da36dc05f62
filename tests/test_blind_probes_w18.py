"""Wave 18's probes of the debt readers (tests/fixtures/blind_debt_budget/MAKE.md, make_probes_w18.py): files made as
publishers make them — LibreOffice .xls, Chromium PDFs — and openpyxl variants, for what wave 17 left wrong.
"""
from __future__ import annotations

import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from dagster_project.ingest.workbook import parse_workbook

FIXTURES = Path(__file__).parent / "fixtures" / "blind_debt_budget"
sys.path.insert(0, str(FIXTURES))
import make_probes_w18 as probes  # noqa: E402

WAN = Decimal(10_000)
FOREIGN = "列名所示年度既非本表年度"   # the note's words (header_band.FOREIGN_YEAR_COLUMNS)


def _sheet(parsed, key: str):
    return next(s for s in parsed.sheets if key in s.table_keys)


def _one_table(path: Path, title: str, header: list, rows: list[list]):
    wb = Workbook()
    ws = wb.active
    ws.append([title])
    ws.append(["编制单位：石嘴山市财政局"] + [None] * (len(header) - 2) + ["单位：万元"])
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    (sheet,) = parse_workbook(path).sheets
    return sheet


def _accounted(sheet) -> None:
    assert sheet.rows_in == sheet.rows_loaded + sheet.rows_rejected


# ------------------------------------------------------------------------------ 1. the kinds as rows, not numbered
def test_unnumbered_kinds_each_have_their_own_refinancing():
    # LibreOffice .xls: 一般债券 / 其中：再融资债券 / 专项债券 / 其中：再融资债券 (no (一)(二)), and under 四、 each kind's
    # 其中：再融资 / 财政预算安排 — the two kinds' rows were one item (issued_refinancing …, twice in a column)
    sheet = _sheet(parse_workbook(FIXTURES / "city_debt_unnumbered_calc.xls"), "debt_1_4")
    got = [(ln.line_label.strip(), ln.row_key, ln.column_key, ln.amount_yuan) for ln in sheet.lines]
    expected = [(label.strip(), key, column, Decimal(v) * WAN) for label, key, *figures in probes.UNNUMBERED_ROWS
                for column, v in zip(("amount", "amount_own_level"), figures)]
    assert got == expected
    assert max(Counter((ln.row_key, ln.column_key) for ln in sheet.lines).values()) == 1
    _accounted(sheet)


@pytest.mark.parametrize("rows, expected", [
    # 其中 directly under a total row (合计) is the total's: the whole's 再融资, not the kind's above it
    ([["四、2024年地方政府债务还本预算数", 10], ["一般债务", 4], ["其中：再融资", 3], ["专项债务", 6], ["其中：再融资", 5],
      ["合计", 10], ["其中：再融资", 8]],
     # (the 合计 restates the section's total: its own item, judged against the heading's — wave 19, debt_parts.py)
     ["budget_principal_total", "budget_principal_general", "budget_principal_general_refinancing", "budget_principal_special",
      "budget_principal_special_refinancing", "budget_principal_total_repeated", "budget_principal_refinancing"]),
    # the kinds listed under a 其中 (其中：一般债券 / 专项债券) are the whole's parts: the 其中：再融资 after them is the whole's
    ([["一、2023年地方政府债券发行额", 10], ["其中：一般债券", 4], ["专项债券", 6], ["其中：再融资债券", 3]],
     ["issued_total", "issued_general", "issued_special", "issued_refinancing"]),
    # the sample's print: 其中：再融资债券 level with the plain kinds above it, none with its own — the whole's
    ([["一、2023年地方政府债券发行额", 10], ["  一般债券", 4], ["  专项债券", 6], ["  其中：再融资债券", 3]],
     ["issued_total", "issued_general", "issued_special", "issued_refinancing"]),
    # indented below the last kind: that kind's own
    ([["一、2023年地方政府债券发行额", 10], ["  一般债券", 4], ["  专项债券", 6], ["      其中：再融资债券", 3]],
     ["issued_total", "issued_general", "issued_special", "issued_special_refinancing"]),
    # plain siblings (一般债券 / 专项债券 / 再融资债券, no 其中): the 再融资 is the whole's, no kind's
    ([["一、2023年地方政府债券发行额", 10], ["一般债券", 4], ["专项债券", 6], ["再融资债券", 3]],
     ["issued_total", "issued_general", "issued_special", "issued_refinancing"]),
    # each plain kind with its own 其中, then a plain 再融资债券 level with the kinds: the whole's (a 其中 list names an item
    # once — it was the 专项's 再融资 again, one item twice in a column)
    ([["一、2023年地方政府债券发行额", 10], ["一般债券", 4], ["其中：再融资债券", 1], ["专项债券", 6], ["其中：再融资债券", 2],
      ["再融资债券", 3]],
     ["issued_total", "issued_general", "issued_general_refinancing", "issued_special", "issued_special_refinancing",
      "issued_refinancing"]),
    # …or numbered as the third of the kinds ((三), the two kinds above it unnumbered): the whole's, no kind's
    ([["一、2023年地方政府债券发行额", 10], ["一般债券", 4], ["其中：再融资债券", 1], ["专项债券", 6], ["其中：再融资债券", 2],
      ["（三）再融资债券", 3]],
     ["issued_total", "issued_general", "issued_general_refinancing", "issued_special", "issued_special_refinancing",
      "issued_refinancing"]),
    # a plain kind's own list numbered from (一): the kind's
    ([["四、2024年地方政府债务还本预算数", 10], ["一般债务", 4], ["（一）再融资", 3], ["（二）财政预算安排", 1], ["专项债务", 6],
      ["（一）再融资", 5], ["（二）财政预算安排", 1]],
     ["budget_principal_total", "budget_principal_general", "budget_principal_general_refinancing",
      "budget_principal_general_funded", "budget_principal_special", "budget_principal_special_refinancing",
      "budget_principal_special_funded"]),
    # the whole's sources first under a total, then each plain kind with its own
    ([["四、2024年地方政府债务还本预算数", 10], ["其中：再融资", 8], ["财政预算安排", 2], ["一般债务", 4], ["其中：再融资", 3],
      ["专项债务", 6], ["其中：再融资", 5]],
     ["budget_principal_total", "budget_principal_refinancing", "budget_principal_funded", "budget_principal_general",
      "budget_principal_general_refinancing", "budget_principal_special", "budget_principal_special_refinancing"]),
])
def test_a_qizhong_row_belongs_to_the_row_it_is_under(tmp_path, rows, expected):
    sheet = _one_table(tmp_path / "service.xlsx", "石嘴山市2024年地方政府债券发行及还本付息情况表", ["项目", "本地区"], rows)
    assert [ln.row_key for ln in sheet.lines] == expected
    _accounted(sheet)


# ------------------------------------------------------------------------------ 2. the kinds as rows and as columns
def test_a_1_4_listing_the_kinds_as_rows_and_columns_reads_each_cell_once():
    # LibreOffice .xls, 合计 | 一般债券 | 专项债券 over 一、发行额 / (一)一般债券 / (二)专项债券 …: the *_total row's 一般债券
    # cell was re-read as issued_general, as the (一)一般债券 row's 合计 cell is — one item twice
    sheet = _sheet(parse_workbook(FIXTURES / "county_debt_kinds_both_calc.xls"), "debt_1_4")
    got = sorted((ln.row_key, ln.column_key, ln.amount_yuan) for ln in sheet.lines)
    expected = sorted((key, column, Decimal(str(v or 0)) * WAN) for _, key, *figures in probes.BOTH_ROWS
                      for column, v in zip(probes.BOTH_COLUMNS, figures))
    assert got == expected
    _accounted(sheet)


def test_a_1_4_with_the_kinds_as_columns_only_still_reads_the_total_rows_cells_as_the_kinds(tmp_path):
    # no kind rows: the *_total row's 一般债券 / 专项债券 cells are its kinds' items, as before
    sheet = _one_table(tmp_path / "k.xlsx", "平罗县2024年地方政府债券发行及还本付息情况表", ["项目", "合计", "一般债券", "专项债券"],
                       [["一、2023年地方政府债券发行额", 30, 12, 18], ["（一）新增债券", 20, 8, 12]])
    assert sorted((ln.row_key, ln.column_key) for ln in sheet.lines) == sorted([
        ("issued_total", "amount"), ("issued_general", "amount"), ("issued_special", "amount"),
        ("issued_new", "amount"), ("issued_new", "amount_general"), ("issued_new", "amount_special")])


# ------------------------------------------------------------------------------ 4. a final's 1-1 titled without 决算
def test_a_final_accounts_1_1_titled_without_juesuan_is_the_finals_table():
    # LibreOffice .xls: 1-1 titled 2024年宁夏回族自治区地方政府债务限额及余额情况表 beside a 1-2 titled …决算情况表 — it was
    # the 2024 budget's 1-1 (and the file half a budget)
    parsed = parse_workbook(FIXTURES / "region_debt_final_calc.xls")
    one = _sheet(parsed, "debtf_1_1")
    assert (one.table_keys, one.fiscal_year, one.phase) == (("debtf_1_1",), probes.FINAL_YEAR, "final")
    assert "决算" in one.reason and "预算的表1-1" not in one.reason
    assert (parsed.fiscal_year, parsed.phase) == (probes.FINAL_YEAR, "final")
    whole = {ln.column_key: ln.amount_yuan for ln in one.lines if ln.line_label == "全区"}
    assert whole["balance_total"] == Decimal(probes.FINAL_REGIONS[0][4]) * 100_000_000
    _accounted(one)


def _book_1_1(path: Path, title: str, limit_head: str, balance_head: str, more: list[tuple[str, str]] = ()):
    wb = Workbook()
    ws = wb.active
    ws.title = "1-1"
    ws.append([title])
    ws.append(["编制单位：宁夏回族自治区财政厅", None, None, None, None, None, "单位：亿元"])
    ws.append(["地区", limit_head, None, None, balance_head, None, None])
    ws.append([None, "合计", "一般债务", "专项债务", "合计", "一般债务", "专项债务"])
    ws.merge_cells("A3:A4"), ws.merge_cells("B3:D3"), ws.merge_cells("E3:G3")
    ws.append(["全区", 33, 14, 19, 31, 13, 18])
    for name, item_title in more:
        other = wb.create_sheet(name)
        other.append([item_title])
        other.append(["编制单位：宁夏回族自治区财政厅", "单位：亿元"])
        other.append(["项目", "决算数"])
        other.append(["一、2023年末一般债务余额", 12.5])
    wb.save(path)
    return parse_workbook(path).sheets[0]


TITLE_2024 = "2024年宁夏回族自治区地方政府债务限额及余额情况表"


@pytest.mark.parametrize("limit_head, balance_head, more, year, phase", [
    # alone, its headers naming 决算 / 执行: a final's (it was the 2025 budget's: a budget's headers naming its title's year)
    ("2024年债务限额决算数", "2024年末债务余额决算数", [], 2024, "final"),
    ("2024年债务限额", "2024年末债务余额执行数", [], 2024, "final"),
    # the file's other tables finals of its year: a final's, whatever its headers say
    ("2024年债务限额", "2024年末债务余额", [("1-2", "2024年宁夏回族自治区地方政府一般债务余额决算情况表")], 2024, "final"),
    # as before: alone with the headers of its title's year and no 决算 / 执行, the next budget's
    ("2024年债务限额", "2024年末债务余额", [], 2025, "budget"),
    # a budget's 1-1 showing last year's executed balance (2023年末…执行数 in 2024's): the 2024 budget's, as titled
    ("2023年债务限额", "2023年末债务余额执行数", [], 2024, "budget"),
    # beside a budget's tables of the next year: the figures'-year title rule holds (the 2025 budget's)
    ("2024年债务限额", "2024年末债务余额执行数", [("1-2", "宁夏回族自治区2025年地方政府一般债务余额情况表")], 2025, "budget"),
])
def test_a_1_1_is_a_finals_when_its_headers_or_its_file_say_so(tmp_path, limit_head, balance_head, more, year, phase):
    one = _book_1_1(tmp_path / "debt.xlsx", TITLE_2024, limit_head, balance_head, more)
    assert (one.fiscal_year, one.phase) == (year, phase)
    assert one.table_keys == (("debtf_1_1",) if phase == "final" else ("debt_1_1",))


@pytest.mark.parametrize("limit_head, balance_head", [("2024年债务限额", "2024年末债务余额"), ("债务限额", "债务余额")])
def test_a_finals_1_1_titled_with_the_year_it_is_published_is_that_finals(tmp_path, limit_head, balance_head):
    # the 2024 final accounts, published in 2025: the 1-1 titled 2025年… (no 决算) beside the 1-2 titled 2024年…决算情况表
    # — it was the 2025 budget's 1-1 in a final's file (the 2025 budget then counted a 1-1 it never published)
    one = _book_1_1(tmp_path / "debt.xlsx", "2025年宁夏回族自治区地方政府债务限额及余额情况表", limit_head, balance_head,
                    [("1-2", "2024年宁夏回族自治区地方政府一般债务余额决算情况表")])
    assert (one.table_keys, one.fiscal_year, one.phase) == (("debtf_1_1",), 2024, "final")
    assert "2025" in one.reason and "决算" in one.reason
    whole = {ln.column_key: ln.amount_yuan for ln in one.lines if ln.line_label == "全区"}
    assert (whole["limit_total"], whole["balance_total"]) == (33 * 100_000_000, 31 * 100_000_000)
    _accounted(one)


@pytest.mark.parametrize("limit_head, balance_head", [("2024年调整后债务限额", "2024年末债务余额预计数"),
                                                      ("2024年债务限额调整数", "2024年末债务余额")])
def test_an_adjustments_1_1_whose_headers_say_so_keeps_its_year(tmp_path, limit_head, balance_head):
    # the 2024 预算调整方案's 1-1, titled without 调整 but its limit header 调整后 / 调整数: the 2024 limit after the
    # adjustment, as when its title says 调整 — it was moved to the 2025 budget (its headers name its title's year)
    one = _book_1_1(tmp_path / "adjust.xlsx", TITLE_2024, limit_head, balance_head)
    assert (one.table_keys, one.fiscal_year, one.phase) == (("debt_1_1",), 2024, "budget")
    assert "2025" not in (one.reason or "")
    _accounted(one)


@pytest.mark.parametrize("top, sub, merges, phase", [
    # 地区 | 2023年执行数 (债务限额 | 债务余额) | 2024年预算数 (债务限额): last year's executed figures beside this year's limit
    (["2023年执行数", None, "2024年预算数"], ["债务限额", "债务余额", "债务限额"], ["A3:A4", "B3:C3"], "budget"),
    # one header row: 2023年债务限额执行数 | 2023年末债务余额执行数 | 2024年债务限额
    (["2023年债务限额执行数", "2023年末债务余额执行数", "2024年债务限额"], None, [], "budget"),
    # the years in words: 上年执行数 | 本年预算数 (上年 is 2023 under a 2024 title)
    (["上年执行数", None, "本年预算数"], ["债务限额", "债务余额", "债务限额"], ["A3:A4", "B3:C3"], "budget"),
    # a final's 1-1 beside last year's for comparison: 2023年决算数 | 2024年决算数 — its own year's 决算 is there
    (["2024年决算数", None, "2023年决算数"], ["债务限额", "债务余额", "债务余额"], ["A3:A4", "B3:C3"], "final"),
], ids=["executed over its figures", "executed in each header", "last year in words", "final beside last year's"])
def test_a_1_1_alone_is_a_finals_by_its_headers_only_when_they_close_its_own_year(tmp_path, top, sub, merges, phase):
    # a 1-1 alone in its file, titled 2024: 执行数 / 决算数 of 2023 are a 2024 budget's last-year figures — it was read as
    # the 2024 final accounts' 1-1 (its 执行 a final's word, whatever year the header gives it)
    wb = Workbook()
    ws = wb.active
    ws.title = "表1-1"
    ws.append(["石嘴山市2024年地方政府债务限额及余额情况表"])
    ws.append(["编制单位：石嘴山市财政局", None, None, "单位：万元"])
    ws.append(["地区", *top])
    if sub:
        ws.append([None, *sub])
    for cells in merges:
        ws.merge_cells(cells)
    ws.append(["本地区", 565, 545, 600])
    ws.append(["本级", 300, 280, 320])
    wb.save(tmp_path / "debt_1_1.xlsx")
    (one,) = parse_workbook(tmp_path / "debt_1_1.xlsx").sheets
    assert (one.table_keys, one.fiscal_year, one.phase) == ((("debt_1_1",), 2024, "budget") if phase == "budget"
                                                            else (("debtf_1_1",), 2024, "final"))
    assert ("决算的表1-1" in (one.reason or "")) == (phase == "final")
    _accounted(one)


# ------------------------------------------------------------------------------ 3. a header naming a range of years
def test_a_column_headed_with_a_range_of_years_is_no_column_of_the_table():
    # Chromium PDF: 项目 | 2024年预算数 | 2023—2024年预算数 in the 2024 budget's 1-2 — the range column was a second `amount`
    # (dropped as a duplicate only because the other came first)
    sheet = _sheet(parse_workbook(FIXTURES / "city_debt_range_chromium.pdf"), "debt_1_2")
    assert "amount" in sheet.column_map.values() and list(sheet.column_map.values()).count("amount") == 1
    assert {ln.source_column for ln in sheet.lines} == {"B"}
    assert {ln.row_key: ln.amount_yuan for ln in sheet.lines} == {
        key: Decimal(own) * WAN for _, key, own, _ in probes.RANGE_ROWS}
    assert FOREIGN in sheet.reason and f"「{probes.RANGE_HEAD}」" in sheet.reason
    _accounted(sheet)


@pytest.mark.parametrize("head", ["2023—2024年预算数", "2023-2024年预算数", "2023至2024年预算数", "2023年-2024年预算数",
                                  "2023～2024年预算数",
                                  # the dash as GB2312 decodes it (A1AA → U+2015 ―, GBK's is U+2014 —): a label pasted
                                  # from a GB2312 page; the wave dash of a Japanese-locale font (U+301C 〜)
                                  b"2023\xa1\xaa2024\xc4\xea\xd4\xa4\xcb\xe3\xca\xfd".decode("gb2312"),
                                  "2023〜2024年预算数",
                                  # the end year in two digits, as spoken (二〇二三至二四年)
                                  "2023-24年预算数", "2023年至24年预算数"])
def test_a_range_of_years_alone_is_not_read_as_the_tables_figure(tmp_path, head):
    # the range column the only figure column (it was the table's `amount`, as 2024年预算数 in it matched)
    sheet = _one_table(tmp_path / "r.xlsx", "石嘴山市生态环境局2024年一般公共预算“三公”经费支出表", ["项目", head],
                       [["公务接待费", 3]])
    assert not sheet.lines and FOREIGN in sheet.reason and f"「{head}」" in sheet.reason
    _accounted(sheet)


# ------------------------------------------------------------------------------ 5. a table moved to the next year
ITEMS_1_2 = [["一、2022年末一般债务余额实际数", 240, None], ["二、2023年一般债务限额", 265, None],
             ["三、2023年一般债务发行额", 40, None], ["四、2023年一般债务还本额", 32, None],
             ["五、2023年末一般债务余额执行数", 248, None], ["六、2024年一般债务限额", None, 280]]


def _book_1_2(path: Path, title: str, with_1_1: bool):
    wb = Workbook()
    ws = wb.active
    ws.title = "1-2"
    ws.append([title])
    ws.append(["编制单位：石嘴山市财政局", None, "单位：万元"])
    ws.append(["项目", "2023年执行数", "2024年预算数"])
    for row in ITEMS_1_2:
        ws.append(row)
    if with_1_1:
        other = wb.create_sheet("1-1")
        other.append(["石嘴山市2024年地方政府债务限额及余额情况表"])
        other.append(["编制单位：石嘴山市财政局", None, "单位：万元"])
        other.append(["地区", "2023年债务限额", "2023年末债务余额"])
        other.append(["本地区", 300, 280])
    wb.save(path)
    return parse_workbook(path).sheets[0]


@pytest.mark.parametrize("with_1_1", [True, False], ids=["beside the budget's 1-1", "alone"])
def test_a_1_2_titled_with_its_figures_year_reads_its_next_year_column_as_its_own(tmp_path, with_1_1):
    # 石嘴山市2023年…一般债务余额情况表 over 2023年执行数 | 2024年预算数 (its 六、2024年限额 under 2024年预算数): the 2024
    # budget's table — it stayed 2023's, its 2024年预算数 column unread as another year's, the 2024 limit lost
    sheet = _book_1_2(tmp_path / "d.xlsx", "石嘴山市2023年地方政府一般债务余额情况表", with_1_1)
    assert (sheet.fiscal_year, sheet.phase) == (2024, "budget")
    assert FOREIGN not in (sheet.reason or "") and "2024 年预算" in sheet.reason
    got = {(ln.row_key, ln.source_column): ln.amount_yuan for ln in sheet.lines if ln.amount_yuan}
    assert got == {("opening_balance", "B"): 240 * WAN, ("prior_limit", "B"): 265 * WAN, ("issued", "B"): 40 * WAN,
                   ("repaid", "B"): 32 * WAN, ("closing_balance", "B"): 248 * WAN, ("limit", "C"): 280 * WAN}
    _accounted(sheet)


def test_a_1_2_titled_with_its_budgets_year_keeps_it(tmp_path):
    # 2024年… over 2023年执行数 | 2024年预算数: the 2024 budget's as titled, both columns read
    sheet = _book_1_2(tmp_path / "d.xlsx", "石嘴山市2024年地方政府一般债务余额情况表", False)
    assert sheet.fiscal_year == 2024 and "预算的表" not in (sheet.reason or "")
    assert {ln.source_column for ln in sheet.lines if ln.amount_yuan} == {"B", "C"}


def test_a_budget_book_titled_with_its_figures_year_is_the_next_budgets_with_its_columns():
    # LibreOffice .xls: 1-1, 1-2, 1-3 all titled 2023年… in the 2024 budget, 1-2 / 1-3 under 2023年执行数 | 2024年预算数
    parsed = parse_workbook(FIXTURES / "city_debt_figures_year_calc.xls")
    assert {s.table_keys[0]: s.fiscal_year for s in parsed.sheets} == {"debt_1_1": 2024, "debt_1_2": 2024, "debt_1_3": 2024}
    assert (parsed.fiscal_year, parsed.phase) == (2024, "budget")
    for key, items in (("debt_1_2", probes.ITEMS_1_2_NEXT), ("debt_1_3", probes.ITEMS_1_3_NEXT)):
        sheet = _sheet(parsed, key)
        assert FOREIGN not in (sheet.reason or "")
        got = {ln.row_key: ln.amount_yuan for ln in sheet.lines}
        assert got == {k: Decimal(a if a is not None else b) * WAN for _, k, a, b in items}
        _accounted(sheet)


def test_a_final_accounts_pdfs_only_1_1_titled_without_juesuan_is_the_finals_by_its_cover():
    # Chromium PDF: cover 宁夏回族自治区 2024年度政府决算, an explanation, then the 1-1 titled without 决算 over 2024年债务限额 |
    # 2024年末债务余额 — alone, its headers naming its title's year, it was moved to the 2025 budget
    parsed = parse_workbook(FIXTURES / "region_debt_final_chromium.pdf")
    (one,) = [s for s in parsed.sheets if s.status == "parsed"]
    assert (one.table_keys, one.fiscal_year, one.phase) == (("debtf_1_1",), probes.FINAL_YEAR, "final")
    assert "封面" in one.reason and "预算的表1-1" not in one.reason
    assert (parsed.fiscal_year, parsed.phase) == (probes.FINAL_YEAR, "final")
    whole = {ln.column_key: ln.amount_yuan for ln in one.lines if ln.line_label == "全区"}
    assert whole["limit_total"] == Decimal(probes.FINAL_REGIONS[0][1]) * 100_000_000
    _accounted(one)
