"""Wave 17's probes of the budget and debt readers (tests/fixtures/blind_debt_budget/MAKE.md, make_probes_w17.py):
files made as publishers make them — Chromium PDFs printed from HTML tables, LibreOffice .xls — and openpyxl variants.

- a column headed with a year that is neither the table's nor the year before (2025年预算数 in a 2024 final account,
  2023年决算数 in a 2025 budget) took the year-free alias it contains (预算数 → budget): read as the table's own measure;
- a budget's 1-1 titled with the year of its figures (2018年… in the 2019 budget) was the 2018 budget's table;
- a kinds-as-rows 1-4's 其中：再融资 under (一)一般 and under (二)专项 were one item, twice in a column.
The pipeline side (identities per kind, 合计 = 一般 + 专项 across a row's cells) is in tests/test_debt_blind.py.
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
import make_fixtures as made  # noqa: E402
import make_probes_w17 as probes  # noqa: E402

WAN = Decimal(10_000)
FOREIGN = "列名所示年度既非本表年度"   # the note's words (header_band.FOREIGN_YEAR_COLUMNS)


def _sheet(parsed, key: str):
    return next(s for s in parsed.sheets if key in s.table_keys)


# ------------------------------------------------------------------------------------------ a column of another year
def test_a_final_accounts_next_year_budget_column_is_not_read_as_its_budget():
    # Chromium PDF: 2024年决算数 over 合计 | 基本支出 | 项目支出 and 2025年预算数 merged down beside it; the 三公 table one
    # row per cost under 2024年决算数 | 2025年预算数 — 2025年预算数 was each table's `budget` (预算数 is in it)
    parsed = parse_workbook(FIXTURES / "department_final_chromium.pdf")
    spending, sangong = _sheet(parsed, "deptf_gpb_expenditure"), _sheet(parsed, "deptf_sangong")
    for sheet in (spending, sangong):
        assert (sheet.status, sheet.fiscal_year, sheet.phase) == ("parsed", probes.FINAL_YEAR, "final")
        assert {ln.column_key for ln in sheet.lines} <= {"total", "basic", "project", "amount"}, sheet.column_map
        assert FOREIGN in (sheet.reason or "") and f"「{probes.FINAL_YEAR + 1}年预算数」" in sheet.reason
    finals = {(label, cost): Decimal(str(final)) * WAN for label, cost, final, _ in probes.SANGONG_FINAL}
    assert {(ln.line_label.strip(), ln.row_key): ln.amount_yuan for ln in sangong.lines} == finals
    total = next(ln for ln in spending.lines if ln.is_total and ln.column_key == "total")
    leaves = sum(Decimal(str(b + p)) for code, _, b, p in made.function_rows() if len(code) == 3)
    assert total.amount_yuan == leaves * WAN


def _one_table(path: Path, title: str, header: list, rows: list[list]) -> object:
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


# every table kind a year-free alias reaches, with its only figure column of another year: that column was read as
# the table's measure (a 2023 final's figures as the 2025 budget); now it is no column, named in the sheet's reason
FOREIGN_CASES = [
    ("classified final", "石嘴山市生态环境局2024年一般公共预算财政拨款支出决算表", ["科目编码", "科目名称", "2025年预算数"],
     [["201", "一般公共服务支出", 12]]),
    ("sangong final", "石嘴山市生态环境局2024年一般公共预算财政拨款“三公”经费支出决算表", ["项目", "2022年决算数"],
     [["公务接待费", 3]]),
    ("summary budget", "石嘴山市生态环境局2025年部门收支总表", ["项目", "2023年决算数", "项目", "2023年决算数"],
     [["一、一般公共预算拨款收入", 10, "一、一般公共服务支出", 10]]),
    ("debt 1-2 budget", "石嘴山市2025年地方政府一般债务余额情况表", ["项目", "2022年决算数"], [["一、2023年末一般债务余额", 10]]),
    ("debt 1-4 budget", "石嘴山市2025年地方政府债券发行及还本付息情况表", ["项目", "2023年决算数"], [["一、2024年债券发行额", 10]]),
    ("government debt budget", "石嘴山市2025年政府一般债务限额和余额情况表", ["项目", "2023年决算数"], [["2024年一般债务限额", 10]]),
]


@pytest.mark.parametrize("case", FOREIGN_CASES, ids=[c[0] for c in FOREIGN_CASES])
def test_a_column_of_another_year_is_read_as_no_measure_of_the_table_and_said_so(tmp_path, case):
    _, title, header, rows = case
    sheet = _one_table(tmp_path / "t.xlsx", title, header, rows)
    assert not sheet.lines, [(ln.row_key, ln.column_key) for ln in sheet.lines]
    assert FOREIGN in (sheet.reason or ""), sheet.reason       # the sheet's reason (a reject when nothing else is read)
    assert f"「{header[-1]}」" in sheet.reason


def test_the_tables_own_year_and_the_year_before_still_read_as_before(tmp_path):
    # 2023年预算数 | 2024年预算数 in 2024's budget: last year's and this year's; 2024年决算数 | 2025年预算数 in 2025's budget:
    # the year before's final (prior_year of a 2025 table) and the figure
    sheet = _one_table(tmp_path / "a.xlsx", "石嘴山市生态环境局2024年一般公共预算“三公”经费支出表",
                       ["项目", "2023年预算数", "2024年预算数"], [["公务接待费", 3, 2]])
    assert {ln.column_key: ln.amount_yuan for ln in sheet.lines} == {"prior_year": 3 * WAN, "amount": 2 * WAN}
    sheet = _one_table(tmp_path / "b.xlsx", "石嘴山市生态环境局2025年一般公共预算支出表",
                       ["科目编码", "科目名称", "2024年决算数", "2025年预算数"], [["201", "一般公共服务支出", 9, 12]])
    assert {ln.column_key: ln.amount_yuan for ln in sheet.lines} == {"prior_year": 9 * WAN, "amount": 12 * WAN}
    assert FOREIGN not in (sheet.reason or "")


# ------------------------------------------------------------------------------------------ the budget a 1-1 serves
def test_a_budget_1_1_titled_with_its_figures_year_is_the_next_years_budgets():
    # LibreOffice .xls, 1-1 … 1-4 on separate sheets: 1-1 titled 石嘴山市2018年… over 2018年债务限额 | 2018年末债务余额 in
    # the 2019 budget (its 1-2 … 1-4 titled 2019年) — it was read as 2018's and the 2019 budget lacked a 1-1
    parsed = parse_workbook(FIXTURES / "city_debt_2019_calc.xls")
    years = {s.table_keys[0]: s.fiscal_year for s in parsed.sheets}
    assert years == {"debt_1_1": 2019, "debt_1_2": 2019, "debt_1_3": 2019, "debt_1_4": 2019}
    one = _sheet(parsed, "debt_1_1")
    assert one.entity_name == made.CITY and "此表为 2019 年预算的表1-1" in one.reason
    assert (parsed.fiscal_year, parsed.phase) == (2019, "budget")
    whole = {ln.column_key: ln.amount_yuan for ln in one.lines if ln.line_label == "本地区"}
    assert whole["balance_total"] == sum(Decimal(v[3]) for v in [probes.OWN, *probes.LOWER.values()]) * WAN


def _book_1_1(title: str, limit_head: str, balance_head: str, more: list[tuple[str, str]] = ()) -> Workbook:
    wb = Workbook()
    ws = wb.active
    ws.title = "1-1"
    ws.append([title])
    ws.append(["编制单位：石嘴山市财政局", None, None, None, None, None, "单位：万元"])
    ws.append(["地区", limit_head, None, None, balance_head, None, None])
    ws.append([None, "合计", "一般债务", "专项债务", "合计", "一般债务", "专项债务"])
    ws.merge_cells("A3:A4"), ws.merge_cells("B3:D3"), ws.merge_cells("E3:G3")
    ws.append(["本地区", 30, 14, 16, 28, 13, 15])
    for name, item_title in more:
        other = wb.create_sheet(name)
        other.append([item_title])
        other.append(["编制单位：石嘴山市财政局", "单位：万元"])
        other.append(["项目", "本地区"])
        other.append(["一、2017年末一般债务余额实际数", 24])
    return wb


@pytest.mark.parametrize("title, limit_head, balance_head, more, year, redated", [
    # the budget year's title over last year's figures: as published
    ("石嘴山市2019年地方政府债务限额及余额情况表", "2018年债务限额", "2018年末债务余额", [], 2019, False),
    # the figures' year in the title and headers: the next year's budget
    ("石嘴山市2018年地方政府债务限额及余额情况表", "2018年债务限额", "2018年末债务余额", [], 2019, True),
    # headers without a year, the file's other tables of 2019: the file's budget
    ("石嘴山市2018年地方政府债务限额及余额情况表", "债务限额", "债务余额",
     [("1-2", "石嘴山市2019年地方政府一般债务余额情况表")], 2019, True),
    # the file's other tables of the title's year: the file's budget, whatever the headers say
    ("石嘴山市2019年地方政府债务限额及余额情况表", "2019年债务限额", "2019年末债务余额",
     [("1-2", "石嘴山市2019年地方政府一般债务余额情况表")], 2019, False),
    # nothing says which year the figures are of: the title's
    ("石嘴山市2018年地方政府债务限额及余额情况表", "债务限额", "债务余额", [], 2018, False),
    # a final account's 1-1 states its own year's figures
    ("石嘴山市2018年地方政府债务限额及余额决算情况表", "2018年债务限额", "2018年末债务余额", [], 2018, False),
    # a mid-year adjustment's 1-1 states its own year's adjusted limit (review of wave 17: it was the next budget's)
    ("石嘴山市2018年地方政府债务限额及余额情况表（预算调整）", "2018年调整后债务限额", "2018年末债务余额预计数", [], 2018,
     False),
    ("石嘴山市2018年预算调整方案地方政府债务限额及余额情况表", "2018年债务限额", "2018年末债务余额", [], 2018, False),
])
def test_which_budget_a_1_1_serves(tmp_path, title, limit_head, balance_head, more, year, redated):
    _book_1_1(title, limit_head, balance_head, more).save(tmp_path / "debt.xlsx")
    one = parse_workbook(tmp_path / "debt.xlsx").sheets[0]
    assert one.fiscal_year == year
    assert ("预算的表1-1" in (one.reason or "")) is redated


# ------------------------------------------------------------------------------------------ each kind's 再融资
def test_each_debt_kinds_refinancing_is_its_own_item():
    # LibreOffice .xls: (一)一般债券 / 其中：再融资债券 / (二)专项债券 / 其中：再融资债券, and under 四、还本预算数 each kind's
    # 其中：再融资 and 财政预算安排 — the two kinds' rows were one item (issued_refinancing, budget_principal_refinancing …)
    sheet = _sheet(parse_workbook(FIXTURES / "city_debt_2019_calc.xls"), "debt_1_4")
    got = [(ln.line_label.strip(), ln.row_key, ln.column_key, ln.amount_yuan) for ln in sheet.lines]
    expected = [(label.strip(), key, column, Decimal(v) * WAN) for label, key, *figures in probes.KIND_ROWS
                for column, v in zip(("amount", "amount_own_level"), figures)]
    assert sorted(got, key=str) == sorted(expected, key=str)
    assert max(Counter((ln.row_key, ln.column_key) for ln in sheet.lines).values()) == 1


def test_a_total_refinancing_beside_the_kinds_listed_with_qizhong_stays_the_issuances(tmp_path):
    # 其中：一般债券 / 专项债券 / 其中：再融资债券 (the kinds not numbered): the 再融资 is the whole issuance's, as before
    wb = Workbook()
    ws = wb.active
    ws.append(["石嘴山市2019年地方政府债券发行及还本付息情况表"])
    ws.append(["编制单位：石嘴山市财政局", "单位：万元"])
    ws.append(["项目", "金额"])
    for row in (["一、2018年地方政府债券发行额", 10], ["其中：一般债券", 4], ["专项债券", 6], ["其中：再融资债券", 3]):
        ws.append(row)
    wb.save(tmp_path / "service.xlsx")
    (sheet,) = parse_workbook(tmp_path / "service.xlsx").sheets
    assert [ln.row_key for ln in sheet.lines] == ["issued_total", "issued_general", "issued_special", "issued_refinancing"]


# ------------------------------------------------------------------------------------------ review (wave 17, v9)
@pytest.mark.parametrize("rows, expected", [
    # the whole's sources numbered after the kinds ((三)再融资债券 beside (一)一般 / (二)专项): siblings of the kinds,
    # not the 专项's own — they were issued_special_refinancing / budget_principal_special_* (a false kind identity)
    ([["一、2023年地方政府债券发行额", 10], ["（一）一般债券", 4], ["（二）专项债券", 6], ["（三）再融资债券", 3]],
     ["issued_total", "issued_general", "issued_special", "issued_refinancing"]),
    ([["四、2024年地方政府债券还本预算数", 10], ["（一）一般债务", 4], ["（二）专项债务", 6], ["（三）再融资", 7],
      ["（四）财政预算安排", 3]],
     ["budget_principal_total", "budget_principal_general", "budget_principal_special", "budget_principal_refinancing",
      "budget_principal_funded"]),
    # the kinds numbered under the sources ((一)新增债券 / 1.一般债券 / 2.专项债券 / (二)再融资债券): a row numbered a
    # level above the kind's closes it — (二)再融资债券 was the 专项's own issued_special_refinancing
    ([["一、2023年地方政府债券发行额", 10], ["（一）新增债券", 7], ["1.一般债券", 3], ["2.专项债券", 4],
      ["（二）再融资债券", 3], ["1.一般债券", 1], ["2.专项债券", 2]],
     ["issued_total", "issued_new", "issued_general", "issued_special", "issued_refinancing", "issued_general",
      "issued_special"]),
    # a deeper numbering under a kind (1.再融资 under (一)一般债务) is the kind's own, as its 其中 rows
    ([["四、2024年地方政府债券还本预算数", 10], ["（一）一般债务", 4], ["1.再融资", 3], ["2.财政预算安排", 1],
      ["（二）专项债务", 6], ["1.再融资", 5], ["2.财政预算安排", 1]],
     ["budget_principal_total", "budget_principal_general", "budget_principal_general_refinancing",
      "budget_principal_general_funded", "budget_principal_special", "budget_principal_special_refinancing",
      "budget_principal_special_funded"]),
    # the same with 1、 (Arabic digits: another level than 一、 — a list's 1、 is no sibling of the section's 四、)
    ([["四、2024年地方政府债券还本预算数", 10], ["（一）一般债务", 4], ["1、再融资", 3], ["2、财政预算安排", 1],
      ["（二）专项债务", 6], ["1、再融资", 5], ["2、财政预算安排", 1]],
     ["budget_principal_total", "budget_principal_general", "budget_principal_general_refinancing",
      "budget_principal_general_funded", "budget_principal_special", "budget_principal_special_refinancing",
      "budget_principal_special_funded"]),
])
def test_a_numbered_row_beside_a_kind_is_no_item_of_that_kind(tmp_path, rows, expected):
    sheet = _one_table(tmp_path / "service.xlsx", "石嘴山市2024年地方政府债券发行及还本付息情况表", ["项目", "本地区"], rows)
    assert [ln.row_key for ln in sheet.lines] == expected


def test_a_printed_1_4_numbered_on_three_levels_gives_each_row_its_own_item():
    # Chromium PDF (make_probes_w17.county_levels_html): 1.一般债券 / 2.专项债券 under (一)新增 and (二)再融资债券, and
    # (三)再融资 / (四)财政预算安排 beside (一)一般 / (二)专项债务 — (二)再融资债券 was the 专项's own, (三)/(四) too
    sheet = _sheet(parse_workbook(FIXTURES / "county_debt_levels_chromium.pdf"), "debt_1_4")
    got = [(ln.line_label.strip(), ln.row_key, ln.column_key, ln.amount_yuan) for ln in sheet.lines]
    expected = [(label.strip(), key, column, Decimal(v) * WAN) for label, key, *figures in probes.LEVEL_ROWS
                for column, v in zip(("amount", "amount_own_level"), figures)]
    assert got == expected


def test_a_1_1_titled_the_year_before_whose_headers_name_the_year_before_that_keeps_its_title(tmp_path):
    # a 2023 budget's own 1-1 (2022年债务限额 | 2022年末债务余额, as a 2023 budget shows) in a file of 2024 tables: its
    # title names the budget it serves, not its figures' year — it was re-dated to 2024 with a note saying its figures
    # were of 2023 (and the 2024 budget then had a 1-1 of 2022's figures)
    _book_1_1("石嘴山市2023年地方政府债务限额及余额情况表", "2022年债务限额", "2022年末债务余额",
              [("1-2", "石嘴山市2024年地方政府一般债务余额情况表")]).save(tmp_path / "debt.xlsx")
    one = parse_workbook(tmp_path / "debt.xlsx").sheets[0]
    assert one.fiscal_year == 2023 and "预算的表1-1" not in (one.reason or "")


def test_a_final_table_titled_without_a_year_is_its_final_columns_year_not_the_next_budgets(tmp_path):
    # a 三公 决算表 alone, its title naming no year, under 2024年决算数 | 2025年预算数: the 2024 final's (its 决算数), the
    # 2025 budget beside it unread — it was the 2025 final's, 2024's figures its prior_year and 2025's its `budget`
    sheet = _one_table(tmp_path / "f.xlsx", "一般公共预算财政拨款“三公”经费支出决算表",
                       ["项目", "2024年决算数", "2025年预算数"], [["公务接待费", 3, 2]])
    assert (sheet.fiscal_year, sheet.phase) == (2024, "final")
    assert {ln.column_key: ln.amount_yuan for ln in sheet.lines} == {"amount": 3 * WAN}
    assert "「2025年预算数」" in sheet.reason
    # a budget's table the same way is the later year's, as before (2023年决算数 | 2024年预算数: the 2024 budget's)
    sheet = _one_table(tmp_path / "b.xlsx", "一般公共预算“三公”经费支出表",
                       ["项目", "2023年决算数", "2024年预算数"], [["公务接待费", 3, 2]])
    assert sheet.fiscal_year == 2024 and {ln.column_key for ln in sheet.lines} == {"prior_year", "amount"}
