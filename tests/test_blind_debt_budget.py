"""Budget and debt files written blind from the contract (wave 16, probe X4) and made as publishers make them:
``tests/fixtures/blind_debt_budget/`` (MAKE.md there) — a department's budget printed by headless Chromium, a city's
budget debt tables and a county's final ones saved as BIFF8 .xls by LibreOffice Calc. Each is read against the data
``make_fixtures.py`` wrote it from; where a test needs a variant, it is built from the same data with openpyxl.

What these files found:
- a note under a regions-as-rows 1-1 naming 限额 (注：…2024年债务限额待下达后另行公开) made the table read as items-as-rows:
  five of its six columns refused;
- 1-2 / 1-3 / 1-4 titled without a year (the years only in their items) had no year: their items were matched
  against any year's wording (五、2023年末余额 read as the opening balance, 2023年还本 as the 2024 budget's), and the
  pipeline reported the city's 2024 debt tables as not published and items missing;
- 其中：2023年新增专项债务限额 in 2024's 1-3 (the year before's new limit) was ``new_limit`` beside 六、2024年新增 …;
- a 三公 table with one row per cost under 2023年预算数 | 2024年预算数 read last year's column as the year's figures
  (and a final table's 预算数 | 决算数 read the budget as the final figures).
"""
from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest

from dagster_project.ingest.workbook import parse_workbook

FIXTURES = Path(__file__).parent / "fixtures" / "blind_debt_budget"
sys.path.insert(0, str(FIXTURES))
import make_fixtures as made  # noqa: E402  (the data the fixtures were written from)

WAN, YI = Decimal(10_000), Decimal(100_000_000)
CITY_XLS = FIXTURES / "city_debt_budget_calc.xls"


def _sheet(parsed, name: str):
    return next(s for s in parsed.sheets if s.sheet == name)


def _by_cell(sheet) -> dict:
    return {(ln.line_label.strip(), ln.row_key, ln.column_key): ln.amount_yuan for ln in sheet.lines}


@pytest.fixture(scope="module")
def city():
    return parse_workbook(CITY_XLS)


def _city_xlsx(tmp_path: Path) -> Path:
    path = tmp_path / "石嘴山市2024年政府债务情况表.xlsx"
    made.city_debt_budget_book().save(path)
    return path


# ---------------------------------------------------------------------------------------------- 1-1 with a note
def _expected_1_1() -> dict:
    return {(label.strip(), None, column): Decimal(v) * WAN
            for label, *figures in made.rows_1_1() for column, v in zip(made.COLUMNS_1_1, figures)}


def test_a_note_naming_a_limit_under_a_regions_as_rows_table_leaves_its_columns_read(city, tmp_path):
    for parsed in (city, parse_workbook(_city_xlsx(tmp_path))):
        sheet = _sheet(parsed, "表1-1")
        assert sheet.rejects == [] and sheet.note_text == made.NOTE_1_1
        assert _by_cell(sheet) == _expected_1_1()


# ---------------------------------------------------------------------------------------------- tables naming no year
def _expected_items(items: list[tuple], columns: list[str], unit: Decimal) -> dict:
    return {(label.strip(), key, column): Decimal(str(v or 0)) * unit
            for label, key, values in items for column, v in zip(columns, values)}


ROLL_FORWARD_COLUMNS = ["amount", "amount_own_level", "region:大武口区", "region:惠农区"]


@pytest.mark.parametrize("name, items", [("表1-2", made.ITEMS_1_2), ("表1-3", made.ITEMS_1_3)])
def test_a_roll_forward_titled_without_a_year_is_of_the_files_year(city, name, items):
    sheet = _sheet(city, name)
    assert (sheet.fiscal_year, sheet.phase, sheet.entity_name) == (made.YEAR, "budget", made.CITY)
    assert _by_cell(sheet) == _expected_items(items, ROLL_FORWARD_COLUMNS, WAN)


def test_debt_service_titled_without_a_year_is_of_the_files_year(city):
    sheet = _sheet(city, "表1-4")
    assert sheet.fiscal_year == made.YEAR
    total_column = [ln for ln in sheet.lines if ln.source_column == "B"]  # 合计 (一般债券 | 专项债券: C, D)
    assert {ln.line_label.strip(): ln.row_key for ln in total_column} == {
        label.strip(): key for label, key, *_ in made.ITEMS_1_4}
    assert {ln.row_key: ln.amount_yuan for ln in total_column if ln.row_key} == {
        key: Decimal(str(total)) * YI for _, key, total, *_ in made.ITEMS_1_4 if key}


def test_a_table_naming_no_year_in_a_file_of_two_years_stays_without_one(tmp_path):
    # the file's other tables name two years: which one the table is of is not told — no year, never a guess
    book = made.city_debt_budget_book()
    book["表1-4"]["A1"] = f"{made.CITY}{made.YEAR - 1}年地方政府债券发行及还本付息情况表"
    book.save(tmp_path / "two_years.xlsx")
    parsed = parse_workbook(tmp_path / "two_years.xlsx")
    assert [_sheet(parsed, n).fiscal_year for n in ("表1-1", "表1-2", "表1-3", "表1-4")] == \
        [made.YEAR, None, None, made.YEAR - 1]


# ---------------------------------------------------------------------------------------------- 三公 one row per cost
def _sangong_expected(prior_column: str) -> dict:
    return {(label, cost, column): Decimal(str(v)) * WAN
            for label, cost, before, now in made.SANGONG for column, v in ((prior_column, before), ("amount", now))}


def test_a_sangong_table_by_cost_reads_the_tables_year_chromium_print():
    parsed = parse_workbook(FIXTURES / "department_chromium.pdf")
    sheet = next(s for s in parsed.sheets if s.table_keys and s.table_keys[-1] == "dept_sangong")
    assert (sheet.fiscal_year, sheet.unit_label) == (made.YEAR, "万元")
    assert _by_cell(sheet) == _sangong_expected("prior_year")


def _sangong_book(path: Path, title: str, heads: list[str]) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append([title])
    ws.append([f"编制部门：{made.DEPARTMENT}", None, None, "单位：万元"])
    ws.append(["项目", *heads, "增减额"])
    for label, _, before, now in made.SANGONG:
        ws.append([label, before, now, round(now - before, 2)])
    wb.save(path)


@pytest.mark.parametrize("title, heads, prior_column", [
    (f"{made.DEPARTMENT}2024年一般公共预算“三公”经费支出表", ["上年预算数", "本年预算数"], "prior_year"),
    (f"{made.DEPARTMENT}2023年一般公共预算财政拨款“三公”经费支出决算表", ["2023年预算数", "2023年决算数"], "budget"),
    (f"{made.DEPARTMENT}2023年一般公共预算财政拨款“三公”经费支出决算表", ["预算数", "决算数"], "budget"),
])
def test_a_sangong_table_by_cost_reads_the_tables_own_column(tmp_path, title, heads, prior_column):
    _sangong_book(tmp_path / "sangong.xlsx", title, heads)
    (sheet,) = parse_workbook(tmp_path / "sangong.xlsx").sheets
    assert _by_cell(sheet) == _sangong_expected(prior_column)
    assert not any("重复的列" in w for w in sheet.warnings)


# ---------------------------------------------------------------------------------------------- what already worked
def test_the_department_print_reads_its_expenditure_over_two_pages():
    parsed = parse_workbook(FIXTURES / "department_chromium.pdf")
    sheet = next(s for s in parsed.sheets if s.table_keys and s.table_keys[-1] == "dept_gpb_expenditure")
    assert "4-5" in sheet.sheet and sheet.rejects == []  # over two pages, its repeated header no data
    got = {(ln.line_code, ln.column_key): ln.amount_yuan for ln in sheet.lines if ln.line_code}
    rows = made.function_rows()
    assert got == {(code, column): Decimal(str(v)) * WAN for code, _, basic, project in rows
                   for column, v in (("total", round(basic + project, 2)), ("basic", basic), ("project", project))}
    fund = next(s for s in parsed.sheets if s.table_keys and s.table_keys[-1] == "dept_gfb_expenditure")
    assert fund.is_empty and fund.has_empty_note


def test_final_tables_stacked_on_one_sheet_and_a_bond_amount_to_be_decided(tmp_path):
    parsed = parse_workbook(FIXTURES / "county_debt_final_calc.xls")
    assert [(s.table_keys, s.fiscal_year, s.phase) for s in parsed.sheets] == [
        (("debtf_1_1",), 2023, "final"), (("debtf_1_2",), 2023, "final"), (("debtf_bond_use",), 2023, "final")]
    roll = parsed.sheets[1]
    assert {ln.row_key: ln.amount_yuan for ln in roll.lines} == {k: Decimal(v) * WAN for _, k, v in made.FINAL_1_2}
    (reject,) = parsed.rejects
    row = next(i for i, b in enumerate(made.BONDS) if b[7] == "待定")
    assert (reject.sheet, reject.source_column, reject.raw_value) == ("债券使用", "H", "待定")
    assert reject.source_row == 3 + 1 + row  # title, publisher line, header, then the bond rows


# the budget book's own debt table: the year before's new limit beside that year's limit
GOVERNMENT_DEBT = [("一、2023年一般债务限额", "prior_limit", 500000), ("    其中：2023年新增一般债务限额", "prior_new_limit", 40000),
                   ("二、2023年末一般债务余额", "prior_balance", 480000), ("三、2024年新增一般债务限额", "new_limit", 20000),
                   ("四、2024年一般债务限额", "limit", 520000)]


def test_the_year_befores_new_limit_is_its_own_item_in_the_governments_debt_table(tmp_path):
    # before, 其中：2023年新增一般债务限额 was a second prior_limit (the limit balance ≤ limit reads), 40 000 beside 500 000
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append([f"{made.CITY}{made.YEAR}年政府一般债务限额和余额情况表"])
    ws.append([f"编制单位：{made.CITY}财政局", "单位：万元"])
    ws.append(["项目", "预算数"])
    for label, _, amount in GOVERNMENT_DEBT:
        ws.append([label, amount])
    wb.save(tmp_path / "gov_debt.xlsx")
    (sheet,) = parse_workbook(tmp_path / "gov_debt.xlsx").sheets
    assert sheet.table_keys[-1] == "gov_general_debt"
    assert _by_cell(sheet) == {(label.strip(), key, "amount"): Decimal(v) * WAN for label, key, v in GOVERNMENT_DEBT}


def _tables(parsed) -> dict:
    return {s.table_keys[-1]: (s.fiscal_year, s.phase, s.unit_label, _by_cell(s)) for s in parsed.sheets}


def test_the_city_tables_printed_by_chromium_read_like_the_workbook(city):
    # 1-1's title wrapped over two lines (…债务限额 / 及余额情况表) named no table on either: the table stood under no
    # title, refused — and with it went the year the other tables, titled without one, take from the file
    printed = parse_workbook(FIXTURES / "city_debt_chromium.pdf")
    assert [s.status for s in printed.sheets] == ["parsed"] * 4
    assert _tables(printed) == _tables(city)


def test_a_sangong_table_titled_without_a_year_is_of_the_latest_year_its_header_names(tmp_path):
    # the year came from the first header cell naming one (2023年预算数): the table was 2023's, its 2024 column no year's
    _sangong_book(tmp_path / "sangong.xlsx", f"{made.DEPARTMENT}一般公共预算“三公”经费支出表",
                  [f"{made.YEAR - 1}年预算数", f"{made.YEAR}年预算数"])
    (sheet,) = parse_workbook(tmp_path / "sangong.xlsx").sheets
    assert sheet.fiscal_year == made.YEAR
    assert _by_cell(sheet) == _sangong_expected("prior_year")


def test_a_debt_service_table_with_the_kinds_as_rows_gives_every_line_its_item():
    # the Ministry's 1-4 with （一）一般债务 | （二）专项债务 under 四、还本预算数 and 五、付息预算数 (LibreOffice .xls): those
    # rows had no item, so the budget year's principal and interest by kind were read as no figure of the table
    sheet = _sheet(parse_workbook(FIXTURES / "county_debt_service_calc.xls"), "表1-4")
    assert (sheet.fiscal_year, sheet.unit_label) == (made.SERVICE_YEAR, "万元")
    expected = [(label.strip(), key, column, Decimal(v) * WAN) for label, key, *figures in made.KIND_ROWS_1_4
                for column, v in zip(("amount", "amount_own_level"), figures)]   # a 其中：再融资 of each kind: twice
    got = [(ln.line_label.strip(), ln.row_key, ln.column_key, ln.amount_yuan) for ln in sheet.lines]
    assert sorted(got, key=str) == sorted(expected, key=str)


# ---------------------------------------------------------------------------------------------- review V7's year cases
def test_a_final_sangong_table_titled_without_a_year_is_of_the_year_the_files_other_tables_name(tmp_path):
    # a 2024 final whose 三公 table (no year in its title) heads 2024年决算数 | 2025年预算数: the latest (2025) made the
    # finals last year's figures (prior_year) and the planning column the budget; the file's year (2024) is named there
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append([f"{made.DEPARTMENT}{made.YEAR}年度收入支出决算总表"])
    ws.append([f"编制单位：{made.DEPARTMENT}", None, None, "单位：万元"])
    ws.append(["收入", None, "支出", None])
    ws.append(["项目", "决算数", "项目", "决算数"])
    ws.append(["一、一般公共预算财政拨款收入", 100, "一、一般公共服务支出", 100])
    ws.append(["收入总计", 100, "支出总计", 100])
    ws = wb.create_sheet("三公")
    ws.append([f"{made.DEPARTMENT}一般公共预算财政拨款“三公”经费支出决算表"])
    ws.append([f"编制部门：{made.DEPARTMENT}", None, None, "单位：万元"])
    ws.append(["项目", f"{made.YEAR}年决算数", f"{made.YEAR + 1}年预算数"])
    for label, _, final, _plan in made.SANGONG:
        ws.append([label, final, _plan])
    wb.save(tmp_path / "final.xlsx")
    summary, sangong = parse_workbook(tmp_path / "final.xlsx").sheets
    assert (summary.fiscal_year, summary.phase) == (made.YEAR, "final")
    assert (sangong.table_keys, sangong.fiscal_year, sangong.phase) == (("deptf_sangong",), made.YEAR, "final")
    finals = {(label, cost): Decimal(str(v)) * WAN for label, cost, v, _ in made.SANGONG}
    assert {(ln.line_label, ln.row_key): ln.amount_yuan for ln in sangong.lines if ln.column_key == "amount"} == finals
    assert not any(ln.column_key == "prior_year" for ln in sangong.lines)


def test_a_lone_yearless_1_3_reads_its_budget_years_new_limit_as_the_new_limit(tmp_path):
    # with no year known {Y-1} was any year: 六、2024年新增专项债务限额 became the year before's new limit
    book = made.city_debt_budget_book()
    for name in ("表1-1", "表1-2", "表1-4"):
        book.remove(book[name])
    book.active["A1"] = f"{made.CITY}地方政府专项债务余额情况表"
    ws = book.active
    ws.append(["    其中：上年新增专项债务限额", 70000, 30000])
    book.save(tmp_path / "only_1_3.xlsx")
    (sheet,) = parse_workbook(tmp_path / "only_1_3.xlsx").sheets
    assert sheet.fiscal_year is None
    keys = {ln.line_label.strip(): ln.row_key for ln in sheet.lines}
    assert keys["六、2024年新增专项债务限额"] == "new_limit"
    assert keys["其中：上年新增专项债务限额"] == "prior_new_limit"


def test_a_1_2_with_no_unit_or_publisher_line_takes_no_year_from_its_first_item(tmp_path):
    # its first item (一、2022年末一般债务余额实际数) stood within the lines the year is read from: the table was 2022's,
    # the file's 2024 never taken, its items matched against 2022's wording
    book = made.city_debt_budget_book()
    book["表1-2"].delete_rows(2)
    book.save(tmp_path / "city.xlsx")
    sheet = _sheet(parse_workbook(tmp_path / "city.xlsx"), "表1-2")
    assert sheet.fiscal_year == made.YEAR
    keys = {ln.line_label.strip(): ln.row_key for ln in sheet.lines}
    assert keys == {label.strip(): key for label, key, _ in made.ITEMS_1_2}
