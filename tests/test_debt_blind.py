"""Debt tables written blind from the contract (RAW_FORMATS.md "Debt tables in the Ministry's layout", DOMAIN.md 2.3)
as finance bureaus' tools write them, read by gongkai and compared with what the files say.

- ``tests/fixtures/debt_calc/``: a district's 1-1 and 1-4 in 万元 printed by LibreOffice Calc (not in CI: the workbook
  and its print are committed, see MAKE.md there). Each sheet is wider than A4 portrait, so its last columns — the
  unit cell 单位：万元 among them — go on a page to the right, at the height of the publisher line.
- A county's final 1-1 and 1-2 in 亿元 printed to 4 decimals (openpyxl), through the whole pipeline: what counts as
  rounding in such a table. Its run carries test_debt_whole_region's books, test_privacy_typed_ids' export and the
  two blind modules' files of wave 19 (conftest.py ``debt_books_and_export_run``: one `cli run` of fixed costs for the
  five modules; among them test_blind_gov_w19's 平罗县 books of 2023–2024, none of 2019).
"""
from __future__ import annotations

import shutil
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from dagster_project.ingest.workbook import parse_workbook
from cli_pipeline import query as _query

CALC = Path(__file__).parent / "fixtures" / "debt_calc"
BLIND = Path(__file__).parent / "fixtures" / "blind_debt_budget"
sys.path.insert(0, str(BLIND))
import make_fixtures as made  # noqa: E402  (the data the blind fixtures were written from)
import make_probes_w17 as probes  # noqa: E402  (wave 17's)
import make_probes_w18 as probes18  # noqa: E402  (wave 18's)
import make_probes_w19 as probes19  # noqa: E402  (wave 19's)


def _tables(parsed) -> dict:
    return {s.table_name: (s.status, s.entity_name, s.fiscal_year, s.phase, s.unit_label,
                           Counter((ln.line_label, ln.row_key, ln.column_key, ln.amount_yuan) for ln in s.lines))
            for s in parsed.sheets}


def test_a_unit_printed_on_the_page_to_the_right_still_says_the_tables_unit():
    # Calc printed the unit cell (the sheet's last column) on the right-hand page, in the top band where page
    # headers sit, beside the publisher line of the left-hand page: taken for that page's running head, it was
    # dropped, and the tables were read in 元 — every figure 10 000 times too small, with only a note
    # "no unit stated". Read as the workbook reads: 万元, the same figures.
    workbook = parse_workbook(CALC / "debt_calc_wide.xlsx")
    printed = parse_workbook(CALC / "debt_calc_wide.pdf")
    assert printed.page_count == 4
    assert all("右侧各列在" in s.sheet for s in printed.sheets)   # each table did go on over a page to the right
    expected = _tables(workbook)
    assert {t[4] for t in expected.values()} == {"万元"} and len(expected) == 2
    assert _tables(printed) == expected


# ---- a county's final debt tables in 亿元 printed to 4 decimals (openpyxl), through the whole pipeline
COUNTY_FILE = "debt/2019/平罗县2019年决算政府债务情况表.xlsx"
REGIONS = ("region_code,region_name,level,parent_code\n640000,宁夏回族自治区,province,\n"
           "640200,石嘴山市,city,640000\n640221,平罗县,county,640200\n"
           "640202,大武口区,county,640200\n640205,惠农区,county,640200\n"
           "640300,吴忠市,city,640000\n640302,利通区,county,640300\n640303,红寺堡区,county,640300\n")
# 1-1 (regions as rows): the limit's 合计 2.2001 is 0.0001 亿元 above 一般 + 专项 — rounding of figures printed to 4
# decimals; 1-2: 1.6000 + 0.3000 − 0.2000 = 1.7000, but the year-end balance says 1.6500: 0.05 亿元 (500 万元) off
COUNTY_1_1 = [("本地区", 2.2001, 1.7, 0.5, 2.13, 1.65, 0.48), ("本级", 2.2001, 1.7, 0.5, 2.13, 1.65, 0.48)]
COUNTY_1_2 = [("一、2018年末一般债务余额", 1.6), ("二、2019年一般债务限额", 1.7), ("三、2019年一般债务发行额", 0.3),
              ("    其中：2019年地方政府一般债券发行额", 0.3), ("四、2019年一般债务还本额", 0.2),
              ("五、2019年末一般债务余额", 1.65)]
YI = 100_000_000


def _county_book(path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "1-1"
    ws.append(["平罗县2019年地方政府债务限额及余额决算情况表"])
    ws.merge_cells("A1:G1")
    ws.append(["编制单位：平罗县财政局", None, None, None, None, None, "单位：亿元"])
    ws.append(["地区", "2019年债务限额", None, None, "2019年末债务余额", None, None])
    ws.append([None, "合计", "一般债务", "专项债务", "合计", "一般债务", "专项债务"])
    ws.merge_cells("A3:A4"), ws.merge_cells("B3:D3"), ws.merge_cells("E3:G3")
    for row in COUNTY_1_1:
        ws.append(list(row))
    ws = wb.create_sheet("1-2")
    ws.append(["平罗县2019年地方政府一般债务余额决算情况表"])
    ws.merge_cells("A1:B1")
    ws.append(["编制单位：平罗县财政局", "单位：亿元"])
    ws.append(["项目", "决算数"])
    for row in COUNTY_1_2:
        ws.append(list(row))
    for sheet in wb.worksheets:
        for row in sheet.iter_rows(min_row=4):
            for cell in row:
                if isinstance(cell.value, float):
                    cell.number_format = "0.0000"
    wb.save(path)


# A budget 1-1 in 万元 whose parts a formula computed from 元 (stored 3.441395, 1.934; the number format prints 3.44 and
# 1.93) and whose total was typed as printed (5.37): the printed table adds up (review R2)
STORED_FILE = "debt/2019/平罗县2019年预算政府债务情况表.xlsx"
STORED_1_1 = [("本地区", 5.37, 3.441395, 1.934, 5.37, 3.441395, 1.934)]
OWN_FILES = (COUNTY_FILE, STORED_FILE)


def _stored_digits_book(path: Path) -> None:
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws.title = "1-1"
    ws.append(["平罗县2019年地方政府债务限额及余额预算情况表"])
    ws.merge_cells("A1:G1")
    ws.append(["编制单位：平罗县财政局", None, None, None, None, None, "单位：万元"])
    ws.append(["地区", "2019年债务限额", None, None, "2019年末债务余额", None, None])
    ws.append([None, "合计", "一般债务", "专项债务", "合计", "一般债务", "专项债务"])
    ws.merge_cells("A3:A4"), ws.merge_cells("B3:D3"), ws.merge_cells("E3:G3")
    for row in STORED_1_1:
        ws.append(list(row))
    for cell in ws[5][1:]:
        cell.number_format = "0.00"
    wb.save(path)


# wave 17 (tests/fixtures/blind_debt_budget/make_probes_w17.py): 石嘴山市's 2019 budget 1-1 … 1-4 (its 1-1 titled 2018年, the
# year of its figures; its 1-4's debt kinds as rows, each kind's budgeted principal off its own sources) and 平罗县's 2019
# final 1-4 with the kinds as columns, one row's 合计 off 一般 + 专项
CITY_2019_FILE = "debt/2019/石嘴山市2019年预算政府债务情况表.xls"
FINAL_1_4_FILE = "debt/2019/平罗县2019年决算债券发行及还本付息情况表.xls"
# wave 18 (make_probes_w18.py): 石嘴山市's 2024 budget 1-4 with its debt kinds as plain rows (each kind off its own
# sources) and 平罗县's 2024 budget 1-4 listing the kinds both as rows and as columns (every identity holds)
UNNUMBERED_FILE = "debt/2024/石嘴山市2024年预算债券发行及还本付息情况表.xls"
BOTH_FILE = "debt/2024/平罗县2024年预算债券发行及还本付息情况表.xls"
# wave 19 (make_probes_w19.py): 惠农区's 2024 budget 1-4 whose totals leave their kinds blank, 大武口区's with a 合计 row
# inside its sections
BLANK_KINDS_FILE = "debt/2024/惠农区2024年预算债券发行及还本付息情况表.xls"
SECTIONS_FILE = "debt/2024/大武口区2024年预算债券发行及还本付息情况表.xls"
# review v15 of wave 19 (tests/fixtures/review_w19_v15): 吴忠市's 1-1 whose 本级 leaves its limit split blank, 利通区's
# 1-4 with a section heading blank over its stated kinds, 红寺堡区's with a 合计 cell blank beside its kinds
REVIEW = Path(__file__).parent / "fixtures" / "review_w19_v15"
REVIEW_FILES = {"city_1_1_unstated_split_calc.xls": "debt/2024/吴忠市2024年预算地方政府债务限额及余额情况表.xls",
                "district_1_4_blank_heading_calc.xls": "debt/2024/利通区2024年预算债券发行及还本付息情况表.xls",
                "county_1_4_blank_total_cell_calc.xls": "debt/2024/红寺堡区2024年预算债券发行及还本付息情况表.xls"}


def write_raw(raw: Path) -> None:
    """This module's books in a raw root that holds the sample's registry and portal: 平罗县 and 石嘴山市 added to
    its regions (the sample has neither), 平罗县's 2019 final accounts approved."""
    with (raw / "registry" / "regions.csv").open("a", encoding="utf-8") as fh:
        fh.write(REGIONS.split("\n", 2)[2])          # the rows below 640000's (the sample's own)
    with (raw / "registry" / "approvals.csv").open("a", encoding="utf-8") as fh:
        fh.write("640221,2019,final,2020-08-20\n")
    (raw / "debt" / "2019").mkdir(parents=True, exist_ok=True)
    _county_book(raw / COUNTY_FILE)
    _stored_digits_book(raw / STORED_FILE)
    shutil.copy(SERVICE_XLS, raw / SERVICE_FILE)
    shutil.copy(BLIND / "city_debt_2019_calc.xls", raw / CITY_2019_FILE)         # wave 17's probes (make_probes_w17.py)
    shutil.copy(BLIND / "county_debt_final_1_4_calc.xls", raw / FINAL_1_4_FILE)
    (raw / "debt" / "2024").mkdir(parents=True, exist_ok=True)
    shutil.copy(BLIND / "city_debt_unnumbered_calc.xls", raw / UNNUMBERED_FILE)  # wave 18's (make_probes_w18.py)
    shutil.copy(BLIND / "county_debt_kinds_both_calc.xls", raw / BOTH_FILE)
    shutil.copy(BLIND / "county_debt_blank_kinds_calc.xls", raw / BLANK_KINDS_FILE)  # wave 19's (make_probes_w19.py)
    shutil.copy(BLIND / "district_debt_sections_calc.xls", raw / SECTIONS_FILE)
    for name, target in REVIEW_FILES.items():
        shutil.copy(REVIEW / name, raw / target)


@pytest.fixture(scope="module")
def county_warehouse(debt_books_and_export_run):
    # one run with test_debt_whole_region's books and test_privacy_typed_ids' export (conftest.py): the findings and
    # checks read here are of this module's own files (OWN_FILES, SERVICE_FILE)
    return debt_books_and_export_run / "warehouse.duckdb"



def test_a_roll_forward_off_by_less_than_one_unit_of_a_yi_yuan_table_is_a_failure(county_warehouse):
    # The tolerance was half a unit of the table per figure: in 亿元, 0.5 亿元 × 4 figures, so a year-end balance
    # 500 万元 off the roll-forward was "rounding" (RECON_ROUNDING, info). Figures printed to 4 decimals round to
    # 0.0001 亿元: the gap is the publisher's, not rounding.
    got = _query(county_warehouse, """
        select rule_id, severity, source_file, sheet, observed, expected from quality.findings
        where rule_id in ('DEBT_ROLL_FORWARD', 'RECON_ROUNDING') and sheet = '1-2'
          and source_file in (?, ?)""", OWN_FILES)
    opening, issued, repaid, closing = (Decimal(str(COUNTY_1_2[i][1])) for i in (0, 2, 4, 5))
    assert [(r[0], r[1], r[2], r[3]) for r in got] == [("DEBT_ROLL_FORWARD", "failure", COUNTY_FILE, "1-2")]
    assert abs(Decimal(got[0][4]) - Decimal(got[0][5])) == (opening + issued - repaid - closing) * YI


def test_a_gap_of_the_last_printed_decimal_is_still_rounding(county_warehouse):
    # 合计 2.2001 against 一般 1.7000 + 专项 0.5000: 1 万元, within half of 0.0001 亿元 for each of the three figures
    got = _query(county_warehouse, """
        select identity_id, is_consistent, is_rounding, difference_yuan, tolerance_yuan
        from intermediate.int_reconciliation_checks where source_file = '%s' and identity_id = 'debt_limit_parts'
        order by source_row""" % COUNTY_FILE)
    step = Decimal("0.0001") * YI
    assert [r[1:] for r in got] == [(True, True, -step, Decimal("1.5") * step)] * len(COUNTY_1_1)


def test_figures_a_workbook_stores_unrounded_are_judged_as_printed(county_warehouse):
    # 3.44 + 1.93 = 5.37 as printed; stepping by the stored digits (3.441395) failed the table by 53.95 元
    got = _query(county_warehouse, """
        select identity_id, is_consistent from intermediate.int_reconciliation_checks
        where source_file = '%s' and identity_id in ('debt_limit_parts', 'debt_balance_parts')""" % STORED_FILE)
    assert got and all(consistent for _, consistent in got), got


# 1-4 with the debt kinds as rows (LibreOffice .xls, tests/fixtures/blind_debt_budget/MAKE.md): its 四、还本预算数 was
# no identity's — only issuance, principal and interest had DEBT_PARTS — so a budgeted principal off its parts passed
SERVICE_XLS = BLIND / "county_debt_service_calc.xls"
SERVICE_FILE = "debt/2019/平罗县2019年预算债券发行及还本付息情况表.xls"


def test_every_sum_of_parts_of_a_1_4_is_judged_and_its_gap_is_a_finding_naming_the_cell(county_warehouse):
    got = _query(county_warehouse, """
        select rule_id, severity, sheet, source_row, detail, observed, expected from quality.findings
        where source_file = ? and rule_id like 'DEBT_%' order by source_row""", [SERVICE_FILE])
    # the planted gap (四、还本预算数 ≠ 一般 + 专项), and — since each kind's 再融资 is its own item (wave 17) — 专项 85
    # against its own 再融资 60 + 财政预算安排 20, the same 5 万元 seen from the kind's side
    gaps = (made.SERVICE_GAP, made.SERVICE_KIND_GAP)
    rows = [4 + [r[1] for r in made.KIND_ROWS_1_4].index(item) for _, item, *_ in gaps]  # title, publisher, header
    assert [(r[0], r[1], r[2], r[3]) for r in got] == [("DEBT_PARTS", "failure", "表1-4", row) for row in rows], got
    for (label, item, column, total, parts), finding in zip(gaps, got):
        assert f"列 column {column} 本地区" in finding[4] and item in finding[4], finding[4]
        assert {Decimal(finding[5]), Decimal(finding[6])} == {Decimal(total) * 10_000, Decimal(parts) * 10_000}
    checks = _query(county_warehouse, """
        select identity_id, position_column, is_consistent from intermediate.int_reconciliation_checks
        where source_file = ?""", [SERVICE_FILE])
    judged = {(i, c): ok for i, c, ok in checks}
    # every kind split and each kind's budgeted principal's sources, in 本地区 and 本级; 发行 = 新增 + 再融资 needs a 新增
    # row, the whole's 再融资 + 财政预算安排 a row of each (here each kind has its own)
    expected = {(i, c) for i in ("debt_issued_parts", "debt_principal_parts", "debt_interest_parts",
                                 "debt_budget_principal_parts", "debt_budget_principal_general_sources",
                                 "debt_budget_principal_special_sources",
                                 "debt_budget_interest_parts") for c in ("amount", "amount_own_level")}
    assert set(judged) == expected
    assert sorted(k for k, ok in judged.items() if not ok) == [("debt_budget_principal_parts", "amount"),
                                                               ("debt_budget_principal_special_sources", "amount")]


# ---- wave 17's probes through the pipeline (make_probes_w17.py; the reading itself: tests/test_blind_probes_w17.py)

def test_a_budget_1_1_titled_with_its_figures_year_counts_for_the_budget_it_serves(county_warehouse):
    # 石嘴山市2018年地方政府债务限额及余额情况表 (2018年债务限额 | 2018年末债务余额) in the 2019 budget: its sheet, its
    # positions and its required items are the 2019 budget's, like 1-2 … 1-4 of the same file — it was 2018's, and the
    # 2019 budget had no 1-1
    sheets = _query(county_warehouse, """
        select table_key, publisher_code, fiscal_year from intermediate.int_sheets_resolved
        where source_file = ? order by table_key""", [CITY_2019_FILE])
    assert sheets == [(key, "640200", 2019) for key in ("debt_1_1", "debt_1_2", "debt_1_3", "debt_1_4")]
    positions = _query(county_warehouse, """
        select distinct fiscal_year, phase from marts.fct_debt_positions where source_file = ? and table_key = 'debt_1_1'
        """, [CITY_2019_FILE])
    assert positions == [(2019, "budget")]
    required = _query(county_warehouse, """
        select fiscal_year, count(*), bool_and(passes) from intermediate.int_detail_checks
        where source_file = ? and rule_id = 'DEBT_ITEM_MISSING' and table_key = 'debt_1_1' group by 1""", [CITY_2019_FILE])
    assert required == [(2019, 6, True)]


def test_each_kinds_budgeted_principal_is_judged_against_its_own_sources(county_warehouse):
    # the whole adds up (120 000 = 再融资 90 000 + 财政预算安排 30 000) while each kind is 5 000 万元 off its own: read as one
    # 再融资 item the two gaps cancelled out unseen
    _assert_each_kind_gap_found(county_warehouse, CITY_2019_FILE, probes.KIND_ROWS, probes.KIND_GAPS)


def test_a_1_4_row_whose_total_is_not_its_kinds_is_a_finding_naming_row_and_column(county_warehouse):
    # 合计 | 一般债券 | 专项债券 columns: the *_total rows' kind cells are items (DEBT_PARTS judged them), but a row such as
    # （二）再融资债券 was judged across its cells by no identity: 12 against 5 + 4 passed
    label, item, column, total, parts = probes.ROW_GAP
    got = _query(county_warehouse, """
        select rule_id, severity, sheet, source_row, detail, observed, expected from quality.findings
        where source_file = ? and rule_id like 'DEBT_%'""", [FINAL_1_4_FILE])
    row = 4 + [r[0] for r in probes.FINAL_1_4].index(label)
    assert [(r[0], r[1], r[2], r[3]) for r in got] == [("DEBT_PARTS", "failure", "1-4", row)], got
    assert "debt_kind_columns_parts" in got[0][4] and item in got[0][4] and f"列 column {column} " in got[0][4]
    assert {Decimal(got[0][5]), Decimal(got[0][6])} == {Decimal(total) * 10_000, Decimal(parts) * 10_000}
    judged = _query(county_warehouse, """
        select source_row, is_consistent from intermediate.int_reconciliation_checks
        where source_file = ? and identity_id = 'debt_kind_columns_parts' order by source_row""", [FINAL_1_4_FILE])
    # every row that is no *_total and prints its kinds: 新增 and 再融资
    assert judged == [(row - 1, True), (row, False)]


# ---- wave 18's probes through the pipeline (make_probes_w18.py; the reading itself: tests/test_blind_probes_w18.py)

def test_plain_kinds_budgeted_principal_is_judged_against_their_own_sources(county_warehouse):
    # 一般债务 / 其中：再融资 / 财政预算安排 / 专项债务 / … written without (一)(二): each kind 5 万元 off its own sources, the
    # whole adding up — read as the whole's 再融资 (twice) the gaps went unseen
    _assert_each_kind_gap_found(county_warehouse, UNNUMBERED_FILE, probes18.UNNUMBERED_ROWS, probes18.UNNUMBERED_GAPS)


def test_a_1_4_with_the_kinds_as_rows_and_columns_is_judged_once_per_cell_and_holds(county_warehouse):
    # 合计 | 一般债券 | 专项债券 over 一、发行额 / (一)一般债券 / (二)专项债券 …: every identity holds — the *_total row's
    # 一般债券 cell and the (一)一般债券 row's 合计 cell were one item twice
    findings = _query(county_warehouse, """
        select rule_id, detail from quality.findings where source_file = ? and rule_id like 'DEBT_%'""", [BOTH_FILE])
    assert findings == []
    checks = _query(county_warehouse, """
        select identity_id, position_column, bool_and(is_consistent) from intermediate.int_reconciliation_checks
        where source_file = ? group by 1, 2""", [BOTH_FILE])
    judged = {(i, c): ok for i, c, ok in checks}
    assert all(judged.values()), judged
    for identity in ("debt_issued_parts", "debt_principal_parts", "debt_interest_parts", "debt_budget_principal_parts"):
        assert (identity, "amount") in judged, judged


# ---- wave 19's probes through the pipeline (make_probes_w19.py; the reading itself: tests/test_blind_probes_w19.py)

def test_a_1_4_total_whose_kinds_are_blank_states_no_split_and_no_zeros(county_warehouse):
    # 一、发行额 | 120.5 | 空 | 空 (and （一）新增债券 the same): a DEBT_PARTS failure (120.5 ≠ 0 + 0) and 0 一般 / 0 专项
    # issuance in the mart — now the split is not stated: no identity over it, no figure for it, the item still there
    findings = _query(county_warehouse, """
        select rule_id, detail from quality.findings where source_file = ? and rule_id like 'DEBT_%'""",
                      [BLANK_KINDS_FILE])
    assert findings == []
    checks = _query(county_warehouse, """
        select identity_id, source_row, is_consistent from intermediate.int_reconciliation_checks
        where source_file = ? order by 1, 2""", [BLANK_KINDS_FILE])
    rows = {item: 4 + i for i, (_, item, *_) in enumerate(probes19.BLANK_KIND_ROWS)}
    # every split stated is judged (and holds); 发行 = 新增 + 再融资 too; the 新增 row's kinds and 发行's are not
    assert checks == sorted([("debt_budget_interest_parts", rows["budget_interest_total"], True),
                             ("debt_budget_principal_parts", rows["budget_principal_total"], True),
                             ("debt_interest_parts", rows["interest_total"], True),
                             ("debt_issued_sources", rows["issued_total"], True),
                             ("debt_kind_columns_parts", rows["issued_refinancing"], True),
                             ("debt_principal_parts", rows["principal_total"], True)])
    measures = _query(county_warehouse, """
        select row_key, measure, amount_yuan from marts.fct_debt_positions
        where source_file = ? and source_row in (?, ?, ?) order by source_row, row_key, measure""",
                      [BLANK_KINDS_FILE, rows["issued_total"], rows["issued_new"], rows["budget_interest_total"]])
    assert measures == [("issued_total", "amount", Decimal("1205000.00")),
                        ("issued_new", "amount", Decimal("705000.00")),
                        ("budget_interest_general", "amount", Decimal("220000.00")),
                        ("budget_interest_special", "amount", Decimal("0.00")),  # a leaf left blank: 0
                        ("budget_interest_total", "amount", Decimal("220000.00"))]
    missing = _query(county_warehouse, """
        select observed from intermediate.int_detail_checks
        where source_file = ? and rule_id = 'DEBT_ITEM_MISSING' and not passes""", [BLANK_KINDS_FILE])
    assert missing == []


def test_a_sections_total_row_is_judged_as_its_total_and_a_repeated_one_against_the_heading(county_warehouse):
    # 二、还本额 (no figures) / （一）一般债务 32 / （二）专项债务 53 / 合计 85: the 合计 had no item, the heading read as a
    # total of 0 — so 还本额 = 一般 + 专项 failed (0 ≠ 85) and the mart stated a 0 repayment. 四、还本预算数 120 (= 40 +
    # 80) and its 合计 125: the 合计 was judged by nothing
    rows = [4 + i for i, (label, *_) in enumerate(probes19.SECTION_ROWS) if label == "合计"]
    principal = _query(county_warehouse, """
        select source_row, measure, amount_yuan from marts.fct_debt_positions
        where source_file = ? and row_key = 'principal_total' order by 1, 2""", [SECTIONS_FILE])
    assert principal == [(rows[0], "amount", Decimal("850000.00")), (rows[0], "amount_own_level", Decimal("300000.00"))]
    judged = _query(county_warehouse, """
        select identity_id, position_column, is_consistent from intermediate.int_reconciliation_checks
        where source_file = ? order by 1, 2""", [SECTIONS_FILE])
    # every split stated is judged, each repeated total against its heading; 一、's kinds (blank) are not stated
    assert judged == [(i, c, i != "debt_budget_principal_repeated" or c != "amount")
                      for i in ("debt_budget_principal_parts", "debt_budget_principal_repeated", "debt_interest_parts",
                                "debt_interest_repeated", "debt_principal_parts") for c in ("amount", "amount_own_level")]
    findings = _query(county_warehouse, """
        select rule_id, sheet, source_row, detail, observed, expected from quality.findings
        where source_file = ? and rule_id like 'DEBT_%'""", [SECTIONS_FILE])
    assert [f[:3] for f in findings] == [("DEBT_PARTS", "表1-4", rows[2])], findings   # the 合计 row that says 125
    assert "debt_budget_principal_repeated" in findings[0][3] and "列 column B 本地区" in findings[0][3], findings
    assert {Decimal(findings[0][4]), Decimal(findings[0][5])} == {Decimal(1_200_000), Decimal(1_250_000)}
    assert _query(county_warehouse, "select count(*) from raw.load_rejects where source_file = ?",
                  [SECTIONS_FILE]) == [(0,)]


def test_a_part_or_total_not_stated_is_judged_by_no_identity_and_stated_in_no_mart_row(county_warehouse):
    # a not-stated cell was dropped before the identities: 本地区 = 本级 + 利通区 on 一般 / 专项 limits summed 利通区's alone
    # (265 ≠ 125: a false DEBT_REGION_SUM, 本级's 一般 not stated); and a total left blank over stated kinds read as 0
    # (还本额 0 ≠ 32 + 53, and 0 repayment in the mart)
    files = list(REVIEW_FILES.values())
    marks = ", ".join("?" * len(files))
    findings = _query(county_warehouse, f"""
        select rule_id, source_file, source_row, detail from quality.findings
        where source_file in ({marks}) and rule_id like 'DEBT_%'""", files)
    assert findings == []
    judged = _query(county_warehouse, """
        select column_key, is_consistent from intermediate.int_reconciliation_checks
        where source_file = ? and identity_id = 'debt_region_sum' order by 1""", [files[0]])
    # every column every row states is judged (and holds); the limit's 一般 / 专项 are not (本级's unknown)
    assert judged == [("balance_general", True), ("balance_special", True), ("balance_total", True),
                      ("limit_total", True)]
    zeros = _query(county_warehouse, f"""
        select source_file, row_key, measure from marts.fct_debt_positions
        where source_file in ({marks}) and row_key = 'principal_total'""", files)
    assert zeros == []
    parts = _query(county_warehouse, """
        select measure, amount_yuan from marts.fct_debt_positions
        where source_file = ? and row_key in ('principal_general', 'principal_special') order by 1, 2""", [files[1]])
    assert parts == [("amount", Decimal(320_000)), ("amount", Decimal(530_000)), ("amount_own_level", Decimal(100_000)),
                     ("amount_own_level", Decimal(200_000))]
    assert _query(county_warehouse, f"select count(*) from raw.load_rejects where source_file in ({marks})",
                  files) == [(0,)]


def _assert_each_kind_gap_found(warehouse, source_file: str, kind_rows, gaps: dict) -> None:
    """Every kind's gap (item → (its total, the sum of its own sources), 万元) is one DEBT_PARTS finding on 表1-4's row of
    that item, naming column B 本地区 and both figures in 元 — and the file has no other DEBT_ finding."""
    got = _query(warehouse, """
        select rule_id, sheet, source_row, detail, observed, expected from quality.findings
        where source_file = ? and rule_id like 'DEBT_%' order by source_row""", [source_file])
    keys = [r[1] for r in kind_rows]
    rows = [4 + keys.index(item) for item in gaps]
    assert [(r[0], r[1], r[2]) for r in got] == [("DEBT_PARTS", "表1-4", row) for row in rows], got
    for (item, (total, parts)), finding in zip(gaps.items(), got):
        assert item in finding[3] and "列 column B 本地区" in finding[3], finding[3]
        assert {Decimal(finding[4]), Decimal(finding[5])} == {Decimal(total) * 10_000, Decimal(parts) * 10_000}
