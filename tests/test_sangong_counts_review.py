"""Review of the 三公 counts (wave 19, v16): layouts and texts departments publish that the first reading got wrong —
each test failed on the merged code (33b8ab7). Files made as publishers make them: openpyxl workbooks in the finance
system's export layout (tests/blind_disclosure.py), a 说明 sheet for the narrative.

- count columns beside one row per cost, each count filled on its own cost's row only (团组数 beside 因公出国（境）费):
  the blank cells of the other rows (合计 first) were counts of 0 and the table's count — a NARR_COUNT_MISMATCH failure
  against a narrative stating the very counts the table gives;
- count columns under a 预算数 group (the year's planned counts beside the 决算 ones): budget_trips_abroad read as an
  amount in the table's unit (3 → 30,000 元);
- the 因公出国（境） | 公务接待 groups over 团组数 | 人数 | 金额: their 金额 was a bare amount (the 出国 cost unkeyed) or a
  duplicate ignored (the 接待 cost lost) — the 三公 identity 合计 = 出国 + 车 + 接待 without its parts;
- the narrative's counts of another scope read as the year's: 上年购置公务用车2辆 (this year none), 预算安排团组3个 (2
  organised), 公务接待32批次 of which 国内公务接待30批次 (the table counts the domestic ones);
- a unit's publisher line printed on one line, unit first (预算单位：…中心　预算主管部门：…委员会): the department's;
- counts in Chinese numerals (两个团组, 购置公务用车一辆, 二百一十人次): not read (a NARR_COUNT_MISSING warning).
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from blind_disclosure import write_workbook
from dagster_project.ingest.workbook import parse_workbook

HEALTH = "宁夏回族自治区卫生健康委员会"
HEALTH_CODE = "11640000MB0000001H"
WAN = Decimal(10_000)
TITLE = "2024年度部门一般公共预算财政拨款“三公”经费支出决算表"
COUNTS = dict(trips_abroad=2, persons_abroad=5, vehicles_bought=1, vehicles_held=12, receptions=30,
              reception_persons=210)


def _sangong(parsed):
    return next(s for s in parsed.sheets if s.status == "parsed" and "sangong" in s.table_keys[-1])


def _stated(texts: list[str], tmp_path: Path) -> dict:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "说明"
    for text in [f"{HEALTH}2024年度部门决算公开说明", "二、“三公”经费财政拨款支出决算情况说明", *texts]:
        sheet.append([text])
    book.save(tmp_path / "说明.xlsx")
    return {s.statement_key: s.count_value for s in parse_workbook(tmp_path / "说明.xlsx").statements
            if s.count_value is not None}


# one row per cost, the counts beside: each filled on its own cost's row (the others blank or `-`)
ROWS_WITH_COUNT_COLUMNS = dict(
    name=TITLE, publisher=f"编制部门：{HEALTH}", unit="金额单位：万元",
    head=[[("项目", 1, 1), ("预算数", 1, 1), ("决算数", 1, 1), ("因公出国（境）团组数（个）", 1, 1),
           ("因公出国（境）人次数（人）", 1, 1), ("公务用车购置数（辆）", 1, 1), ("公务用车保有量（辆）", 1, 1),
           ("国内公务接待批次（个）", 1, 1), ("国内公务接待人次（人）", 1, 1)]],
    rows=[["合计", "40.00", "35.50", "", "", "", "", "", ""],
          ["1.因公出国（境）费", "10.00", "8.40", "2", "5", "-", "-", "-", "-"],
          ["2.公务用车购置及运行费", "24.00", "22.70", "", "", "1", "12", "", ""],
          ["（1）公务用车购置费", "12.00", "11.50", "", "", "", "", "", ""],
          ["（2）公务用车运行费", "12.00", "11.20", "", "", "", "", "", ""],
          ["3.公务接待费", "6.00", "4.40", "", "", "", "", "30", "210"]])
NARRATIVE = ("2024年度“三公”经费财政拨款支出决算为35.50万元。其中：因公出国（境）费8.40万元，组织因公出国（境）团组2个、"
             "5人次；公务用车购置及运行费22.70万元，其中购置公务用车1辆，年末公务用车保有量12辆；公务接待费4.40万元，"
             "国内公务接待30批次、210人次。")


def test_count_columns_under_a_budget_group_are_counts_not_amounts(tmp_path):
    """预算数 | 决算数 groups, each over 合计 | 因公出国（境）费 | 团组数 | 人次数 | 购置数: the planned counts are
    counts of the budget column (never 3 × 万元), the year's counts those under 决算数."""
    counts = [("因公出国（境）团组数（个）", 1, 1), ("因公出国（境）人次数（人）", 1, 1), ("公务用车购置数（辆）", 1, 1)]
    table = dict(name=TITLE, publisher=f"编制部门：{HEALTH}", unit="金额单位：万元",
                 head=[[("预算数", 5, 1), ("决算数", 5, 1)],
                       [("合计", 1, 1), ("因公出国（境）费", 1, 1)] + counts + [("合计", 1, 1), ("因公出国（境）费", 1, 1)]
                       + counts],
                 rows=[["40.00", "10.00", "3", "6", "1", "35.50", "8.40", "2", "5", "1"]])
    write_workbook(tmp_path / "决算.xlsx", [table])
    sheet = _sangong(parse_workbook(tmp_path / "决算.xlsx"))
    assert {ln.column_key: ln.amount_yuan for ln in sheet.lines} == {
        "budget_total": 40 * WAN, "budget_overseas": 10 * WAN, "total": Decimal("35.50") * WAN,
        "overseas": Decimal("8.40") * WAN}
    assert sorted((c.count_key, c.column_key, c.count_value) for c in sheet.counts) == [
        ("persons_abroad", "budget_persons_abroad", 6), ("persons_abroad", "persons_abroad", 5),
        ("trips_abroad", "budget_trips_abroad", 3), ("trips_abroad", "trips_abroad", 2),
        ("vehicles_bought", "budget_vehicles_bought", 1), ("vehicles_bought", "vehicles_bought", 1)]


def test_a_cost_groups_amount_beside_its_counts_is_that_cost(tmp_path):
    """因公出国（境） over 团组数 | 人数 | 金额, 公务用车 over 购置数量 | 保有量 | 购置费 | 运行费, 公务接待 over 批次 | 人次 |
    金额: each 金额 is its group's cost (the parts of 合计 = 出国 + 车 + 接待), the counts counts."""
    table = dict(name=TITLE, publisher=f"编制部门：{HEALTH}", unit="金额单位：万元",
                 head=[[("合计", 1, 2), ("因公出国（境）", 3, 1), ("公务用车", 4, 1), ("公务接待", 3, 1)],
                       [("团组数", 1, 1), ("人数", 1, 1), ("金额", 1, 1), ("购置数量", 1, 1), ("保有量", 1, 1),
                        ("购置费", 1, 1), ("运行费", 1, 1), ("批次", 1, 1), ("人次", 1, 1), ("金额", 1, 1)]],
                 rows=[["35.50", "2", "5", "8.40", "1", "12", "11.50", "11.20", "30", "210", "4.40"]])
    write_workbook(tmp_path / "决算.xlsx", [table])
    sheet = _sangong(parse_workbook(tmp_path / "决算.xlsx"))
    assert {ln.column_key: ln.amount_yuan for ln in sheet.lines} == {
        "total": Decimal("35.50") * WAN, "overseas": Decimal("8.40") * WAN, "vehicle_purchase": Decimal("11.50") * WAN,
        "vehicle_running": Decimal("11.20") * WAN, "reception": Decimal("4.40") * WAN}
    assert {c.count_key: c.count_value for c in sheet.counts} == COUNTS
    assert not sheet.warnings


@pytest.mark.parametrize("text, counts", [
    # the purchase that explains last year's higher cost is last year's: this year none
    ("公务用车购置费0万元，比上年减少25.00万元，主要原因是上年购置公务用车2辆，本年未购置公务用车；年末公务用车保有量12辆。",
     dict(vehicles_bought=0, vehicles_held=12)),
    ("全年预算安排因公出国（境）团组3个，实际组织因公出国（境）团组2个、5人次。", dict(trips_abroad=2, persons_abroad=5)),
    ("全年预算安排团组3个，实际组织团组2个、5人次。", dict(trips_abroad=2, persons_abroad=5)),
    # the table's receptions are the domestic ones (DOMAIN.md 2.2): named so, they are the count
    ("公务接待费4.40万元，共接待32批次、222人次，其中：国内公务接待30批次、210人次，外事接待2批次、12人次。",
     dict(receptions=30, reception_persons=210)),
    # an amount beside a count is no count, and the count beside the amount is read
    ("购置公务用车1辆，支出25.30万元；公务接待费4.40万元，接待30批次、210人次。",
     dict(vehicles_bought=1, receptions=30, reception_persons=210)),
], ids=["last_years_purchase", "budgeted_trips", "budgeted_trips_short", "domestic_receptions", "amounts_beside_counts"])
def test_the_narratives_counts_of_another_scope_are_not_the_years(tmp_path, text, counts):
    assert _stated([text], tmp_path) == counts


def test_a_units_publisher_line_on_one_line_unit_first_is_the_units(tmp_path):
    unit = "宁夏回族自治区疾病预防控制中心"
    table = dict(name="2025年单位一般公共预算支出表", unit="单位：元", publisher=f"预算单位：{unit}　　预算主管部门：{HEALTH}",
                 head=[[("科目编码", 1, 1), ("科目名称", 1, 1), ("合计", 1, 1), ("基本支出", 1, 1), ("项目支出", 1, 1)]],
                 rows=[["", "合计", "300", "100", "200"], ["2100401", "疾病预防控制机构", "300", "100", "200"]])
    write_workbook(tmp_path / "单位预算.xlsx", [table])
    parsed = parse_workbook(tmp_path / "单位预算.xlsx")
    assert [(s.status, s.entity_name) for s in parsed.sheets] == [("parsed", unit)]


# --------------------------------------------------------------------------------------- through dbt to the rules
@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    """A final whose 三公 table gives its counts as columns beside one row per cost, its narrative the same counts:
    loaded by the budget family's loader, built by dbt to marts.fct_sangong_counts, judged by the narrative suite."""
    import duckdb
    from openpyxl import load_workbook

    from test_sangong_counts import load_and_judge

    tmp = tmp_path_factory.mktemp("sangong_review")
    (tmp / "raw" / "budget").mkdir(parents=True)
    path = tmp / "raw" / "budget" / "health_final_2024.xlsx"
    write_workbook(path, [ROWS_WITH_COUNT_COLUMNS])
    book = load_workbook(path)
    notes = book.create_sheet("说明", 0)
    for row, text in enumerate((f"{HEALTH}2024年度部门决算公开说明", "二、“三公”经费财政拨款支出决算情况说明", NARRATIVE)):
        notes.cell(1 + row, 1, text)
    book.save(path)
    _, warehouse, run_id = load_and_judge(tmp, [(2024, HEALTH_CODE, HEALTH)])
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute("select count_key, table_count, table_source_row, stated_count from marts.fct_sangong_counts"
                           ).fetchall()
        findings = con.execute("select rule_id, observed from quality.findings where run_id = ? and rule_id like "
                               "'NARR_COUNT%'", [run_id]).fetchall()
    finally:
        con.close()
    return rows, findings


def test_count_columns_filled_on_their_own_costs_row_are_the_tables_counts(judged):
    """The 合计 row's blank 团组数 is no count of 0 trips: the table's count is the cell that states it."""
    rows, findings = judged
    assert {key: (table, stated) for key, table, _, stated in rows} == {k: (v, v) for k, v in COUNTS.items()}
    assert {key: row for key, _, row, _ in rows} == dict(trips_abroad=5, persons_abroad=5, vehicles_bought=6,
                                                         vehicles_held=6, receptions=9, reception_persons=9)
    assert findings == []


@pytest.mark.parametrize("text, counts", [
    ("组织因公出国（境）团组两个、六人次；购置公务用车一辆，公务用车保有量十二辆，国内公务接待三十批次、二百一十人次。",
     dict(trips_abroad=2, persons_abroad=6, vehicles_bought=1, vehicles_held=12, receptions=30, reception_persons=210)),
    # a numeral in words is read only right beside its keyword: 其中一人 after the trips is no count of people
    ("组织因公出国（境）团组2个，其中一人为技术人员。", dict(trips_abroad=2)),
    # numeral characters that are no number (十十: a typing slip) are no count, not a guess of 20
    ("组织因公出国（境）团组两个；公务用车保有量十十辆。", dict(trips_abroad=2)),
], ids=["chinese_numerals", "numeral_in_passing", "not_a_numeral"])
def test_counts_in_chinese_numerals_are_read(tmp_path, text, counts):
    assert _stated([text], tmp_path) == counts
