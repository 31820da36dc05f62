"""Every identity of DOMAIN.md 2.2/2.3 on real dbt: a planted gap fails beyond rounding and passes at exactly it.

A consistent department (budget and 决算 twin, all in 元) and a consistent region's debt tables are written to
the raw schema; each case copies them and moves ONE figure by the identity's tolerance (must hold) or by one
fen more (must fail). The tolerance is this test's own reading of DOMAIN.md: half a unit (0.5 元 here) per
figure compared. One `dbt build` of the models behind int_reconciliation_checks serves every case.
"""
from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from dagster_project import identifiers
from dagster_project.ingest.framework import ensure_schema
from dagster_project.paths import DBT_PROJECT_DIR
from dagster_project.row_inserts import insert_rows
from dbt_fixed_path import run_dbt, scenario_env

pytestmark = pytest.mark.slow
D = Decimal
HALF = D("0.5")   # half a unit of a 元 table
FEN = D("0.01")

# ---- a consistent department: table name per phase, lines (row, side, code, label, is_total, row_key, column, amount)
NAMES = {
    "summary": ("部门收支总表", "收入支出决算总表"),
    "revenue": ("部门收入总表", "收入决算表"),
    "expenditure": ("部门支出总表", "支出决算表"),
    "fiscal": ("财政拨款收支总表", "财政拨款收入支出决算总表"),
    "gpb": ("一般公共预算支出表", "一般公共预算财政拨款支出决算表"),
    "basic": ("一般公共预算基本支出表", "一般公共预算财政拨款基本支出决算表"),
    "sangong": ("一般公共预算“三公”经费支出表", "一般公共预算财政拨款“三公”经费支出决算表"),
    "gfb": ("政府性基金预算支出表", "政府性基金预算财政拨款收入支出决算表"),
    "scb": ("国有资本经营预算支出表", "国有资本经营预算财政拨款支出决算表"),
}


def _coded(rows, columns):
    out, r = [], 5
    for code, label, values in rows:
        for col, v in zip(columns, values):
            out.append([r, None, code, label, code is None, None, col, D(v)])
        r += 1
    return out


EXPENDITURE_ROWS = [("205", "教育支出", (300, 200, 100)), ("20501", "教育管理事务", (300, 200, 100)),
                    ("2050101", "行政运行", (300, 200, 100)), ("208", "社会保障和就业支出", (50, 50, 0)),
                    ("20805", "行政事业单位养老支出", (50, 50, 0)), ("2080505", "机关事业单位基本养老保险缴费支出", (50, 50, 0)),
                    (None, "合计", (350, 250, 100))]


def department() -> dict[str, list]:
    two = lambda side, rows: [[r, side, None, label, total, None, col, D(v)]  # noqa: E731
                              for r, label, total, cols in rows for col, v in cols.items()]
    return {
        "summary": two("income", [(5, "一般公共预算拨款收入", False, {"amount": 350}),
                                  (6, "本年收入合计", True, {"amount": 350}), (7, "收入总计", True, {"amount": 350})])
                   + two("expenditure", [(5, "教育支出", False, {"amount": 300}), (6, "社会保障和就业支出", False, {"amount": 50}),
                                         (7, "本年支出合计", True, {"amount": 350}), (8, "支出总计", True, {"amount": 350})]),
        # 财政专户管理资金 (the current template's 收入预算总表) is one of the sources 合计 sums
        "revenue": _coded([(None, "合计", (350, 330, 20)), ("205", "教育支出", (300, 280, 20)),
                           ("208", "社会保障和就业支出", (50, 50, 0))], ["total", "gpb_appropriation", "special_account"]),
        "expenditure": _coded(EXPENDITURE_ROWS, ["total", "basic", "project"]),
        "fiscal": two("income", [(5, "一般公共预算拨款", False, {"amount": 350}), (6, "政府性基金预算拨款", False, {"amount": 7}),
                                 (7, "国有资本经营预算拨款", False, {"amount": 9}), (8, "收入总计", True, {"amount": 366})])
                  + two("expenditure", [(5, "教育支出", False, {"amount": 316, "gpb": 300, "gfb": 7, "scb": 9}),
                                        (6, "社会保障和就业支出", False, {"amount": 50, "gpb": 50, "gfb": 0, "scb": 0}),
                                        (8, "支出总计", True, {"amount": 366, "gpb": 350, "gfb": 7, "scb": 9})]),
        "gpb": _coded(EXPENDITURE_ROWS, ["total", "basic", "project"]),
        "basic": _coded([("301", "工资福利支出", (250, 250, 0)), ("30101", "基本工资", (250, 250, 0)),
                         (None, "合计", (250, 250, 0))], ["total", "personnel", "public"]),
        "sangong": _coded([(None, "合计", (30, 5, 20, 8, 12, 5))],
                          ["total", "overseas", "vehicle", "vehicle_purchase", "vehicle_running", "reception"]),
        "gfb": _coded([("205", "教育支出", (7, 0, 7)), (None, "合计", (7, 0, 7))], ["total", "basic", "project"]),
        "scb": _coded([("205", "教育支出", (9, 0, 9)), (None, "合计", (9, 0, 9))], ["total", "basic", "project"]),
    }


REGION_COLUMNS = ["limit_total", "limit_general", "limit_special", "balance_total", "balance_general", "balance_special"]


def debt() -> dict[str, list]:
    region_rows = [("本地区", True, (100, 60, 40, 80, 50, 30)), ("本级", False, (40, 25, 15, 30, 20, 10)),
                   ("银川市", False, (60, 35, 25, 50, 30, 20))]
    cols = REGION_COLUMNS
    items = lambda rows: [[r, None, None, label, False, key, "amount", D(v)]  # noqa: E731
                          for r, (key, label, v) in enumerate(rows, start=5)]
    return {
        "地方政府债务限额及余额情况表": [[r, None, None, label, total, None, c, D(v)]
                               for r, (label, total, vals) in enumerate(region_rows, start=5) for c, v in zip(cols, vals)],
        "地方政府一般债务余额情况表": items([("opening_balance", "上年初余额", 100), ("prior_limit", "上年限额", 130),
                                  ("issued", "举借额", 30), ("repaid", "还本额", 10), ("closing_balance", "年末余额", 120)]),
        "地方政府债券发行及还本付息情况表": items([
            ("issued_total", "发行额", 30), ("issued_general", "一般债券", 20), ("issued_special", "专项债券", 10),
            ("principal_total", "还本额", 12), ("principal_general", "一般债务", 7), ("principal_special", "专项债务", 5),
            ("interest_total", "付息额", 6), ("interest_general", "一般债务", 4), ("interest_special", "专项债务", 2),
            ("issued_new", "新增债券", 18), ("issued_refinancing", "再融资债券", 12),
            ("budget_principal_total", "还本预算数", 15), ("budget_principal_general", "一般债务", 9),
            ("budget_principal_special", "专项债务", 6), ("budget_principal_refinancing", "再融资", 11),
            ("budget_principal_funded", "财政预算安排", 4), ("budget_interest_total", "付息预算数", 7),
            ("budget_interest_general", "一般债务", 5), ("budget_interest_special", "专项债务", 2),
            # each kind's own sources (the kinds as rows, a 其中：再融资 under each)
            ("budget_principal_general_refinancing", "其中：再融资", 5),
            ("budget_principal_general_funded", "财政预算安排", 4),
            ("budget_principal_special_refinancing", "其中：再融资", 6),
            ("budget_principal_special_funded", "财政预算安排", 0),
            # each section's total stated again on a 合计 row under its parts (ingest/debt_parts.py: *_repeated)
            ("issued_total_repeated", "合计", 30), ("principal_total_repeated", "合计", 12),
            ("interest_total_repeated", "合计", 6), ("budget_principal_total_repeated", "合计", 15),
            ("budget_interest_total_repeated", "合计", 7)]) + kind_cells(),
        # the region's 政府一般债务限额和余额情况表 (the general public budget's own debt table): items as rows
        "政府一般债务限额和余额情况表": items([("prior_balance", "上年末余额", 100), ("limit", "本年限额", 130),
                                    ("issued", "本年发行额", 30), ("repaid", "本年还本额", 10), ("balance", "年末余额", 120)]),
        # the region's 一般公共预算收入表 by name only (no code): a section over its items indented one level (9th field:
        # the label's indent), the book's total last
        "一般公共预算收入表": [[r, None, None, label, total, None, "amount", D(v), indent]
                         for r, (label, total, v, indent) in enumerate((("一、税收收入", False, 100, 0), ("增值税", False, 60, 1),
                                                                     ("企业所得税", False, 40, 1),
                                                                     ("一般公共预算收入合计", True, 100, 0)), start=5)],
        # the region's 社会保险基金 table: 合计 (amount) over one column per fund
        "社会保险基金预算收入表": [[5, None, None, "一、社会保险费收入", False, None, column, D(v)]
                          for column, v in (("amount", 300), ("fund_resident_pension", 100),
                                            ("fund_public_pension", 200))],
    }


def kind_cells() -> list[list]:
    """The 再融资债券 row's cells beside its 合计 (row 15: items()' 11th row) in 一般债券 | 专项债券 columns, and under
    本级 (合计 | 一般债券 | 专项债券): 合计 = 一般 + 专项 across the row."""
    return [[15, None, None, "再融资债券", False, "issued_refinancing", column, D(v)]
            for column, v in (("amount_general", 5), ("amount_special", 7), ("amount_own_level", 6),
                              ("own_level_general", 2), ("own_level_special", 4))]


def move(lines, delta, *, row=None, side=None, column=None, row_key=None, label=None):
    """Add delta to the matching figure(s); exactly one must match."""
    hits = [ln for ln in lines if (row is None or ln[0] == row) and (side is None or ln[1] == side)
            and (column is None or ln[6] == column) and (row_key is None or ln[5] == row_key)
            and (label is None or ln[3] == label)]
    assert len(hits) == 1, hits
    hits[0][7] += delta


# identity -> (table, locator, figures compared); department identities then debt identities
DEPT_CASES = {
    "row_total_basic_project": ("expenditure", dict(label="行政运行", column="total"), 3),
    "row_total_personnel_public": ("basic", dict(label="基本工资", column="total"), 3),
    "sangong_total": ("sangong", dict(column="total"), 4),
    "sangong_vehicle": ("sangong", dict(column="vehicle"), 3),
    "revenue_total_sources": ("revenue", dict(label="合计", column="total"), 3),  # 合计, 一般公共预算拨款, 财政专户
    "hierarchy_children": ("expenditure", dict(label="教育管理事务", column="project"), 2),
    "hierarchy_total_level1": ("expenditure", dict(label="合计", column="project"), 3),
    "summary_income_vs_expenditure": ("summary", dict(label="收入总计"), 2),
    "summary_income_vs_revenue": ("summary", dict(label="本年收入合计"), 2),
    "summary_expenditure_vs_expenditure": ("summary", dict(label="本年支出合计"), 2),
    "summary_lei_vs_expenditure": ("summary", dict(label="教育支出"), 2),
    "revenue_code_vs_expenditure": ("revenue", dict(label="教育支出", column="total"), 2),
    "expenditure_basic_vs_basic_table": ("expenditure", dict(label="合计", column="basic"), 2),
    "gpb_basic_vs_basic_table": ("gpb", dict(label="合计", column="basic"), 2),
    "fiscal_summary_gpb": ("gpb", dict(label="合计", column="total"), 2),
    "fiscal_summary_gfb": ("gfb", dict(label="合计", column="total"), 2),
    "fiscal_summary_scb": ("scb", dict(label="合计", column="total"), 2),
}
DEBT_CASES = {
    "debt_limit_parts": ("地方政府债务限额及余额情况表", dict(label="本级", column="limit_total"), 3),
    "debt_balance_parts": ("地方政府债务限额及余额情况表", dict(label="银川市", column="balance_total"), 3),
    "debt_region_sum": ("地方政府债务限额及余额情况表", dict(label="本地区", column="limit_special"), 3),
    "debt_roll_forward": ("地方政府一般债务余额情况表", dict(row_key="closing_balance"), 4),
    "debt_issued_parts": ("地方政府债券发行及还本付息情况表", dict(row_key="issued_total"), 3),
    "debt_principal_parts": ("地方政府债券发行及还本付息情况表", dict(row_key="principal_total"), 3),
    "debt_interest_parts": ("地方政府债券发行及还本付息情况表", dict(row_key="interest_total"), 3),
    # moved on a part, not the total: the total's other identity (发行 = 一般 + 专项, 还本预算 = 一般 + 专项) still holds
    "debt_issued_sources": ("地方政府债券发行及还本付息情况表", dict(row_key="issued_new"), 3),
    "gov_debt_roll_forward": ("政府一般债务限额和余额情况表", dict(row_key="balance"), 4),
    "ssf_total_funds": ("社会保险基金预算收入表", dict(label="一、社会保险费收入", column="amount"), 3),
    "label_sections": ("一般公共预算收入表", dict(label="一、税收收入"), 3),
    "debt_budget_principal_parts": ("地方政府债券发行及还本付息情况表", dict(row_key="budget_principal_general"), 3),
    "debt_budget_principal_sources": ("地方政府债券发行及还本付息情况表", dict(row_key="budget_principal_funded"), 3),
    "debt_budget_interest_parts": ("地方政府债券发行及还本付息情况表", dict(row_key="budget_interest_total"), 3),
    "debt_budget_principal_general_sources": ("地方政府债券发行及还本付息情况表",
                                              dict(row_key="budget_principal_general_funded"), 3),
    "debt_budget_principal_special_sources": ("地方政府债券发行及还本付息情况表",
                                              dict(row_key="budget_principal_special_funded"), 3),
    # a section's 合计 row against its heading
    **{f"debt_{section}_repeated": ("地方政府债券发行及还本付息情况表", dict(row_key=f"{section}_total_repeated"), 2)
       for section in ("issued", "principal", "interest", "budget_principal", "budget_interest")},
    # a row that is no *_total: its 合计 against its 一般债券 + 专项债券 cells (and under 本级)
    "debt_kind_columns_parts": ("地方政府债券发行及还本付息情况表",
                                dict(row_key="issued_refinancing", column="amount_general"), 3),
    "debt_kind_columns_own_level_parts": ("地方政府债券发行及还本付息情况表",
                                          dict(row_key="issued_refinancing", column="own_level_general"), 3),
}
# balance ≤ limit: no tolerance; at exactly the limit it holds, one fen above it fails
CEILING_CASES = {
    "debt_limit_total_covers_balance": dict(label="本级", column="balance_total", room=D(10)),
    "debt_limit_general_covers_balance": dict(label="银川市", column="balance_general", room=D(5)),
    "debt_limit_special_covers_balance": dict(label="本级", column="balance_special", room=D(5)),
    # 1-2/1-3 items as rows: the year-end balance ≤ that year's limit (the limit is lowered onto the balance)
    "debt_item_limit_covers_balance": dict(table="地方政府一般债务余额情况表", row_key="prior_limit", room=D(10), sign=-1),
    "gov_debt_limit_covers_balance": dict(table="政府一般债务限额和余额情况表", row_key="limit", room=D(10), sign=-1),
}
PHASES = (("budget", 0), ("final", 1))
BASE_YEAR = 2030
CLEAN_DEPARTMENT = (identifiers.make_uscc("11640000MB99990000"[:17]), BASE_YEAR)
CLEAN_DEBT = ("640000", BASE_YEAR)


def scenario():
    """(entities, sheets, expectations): expectations map (publisher, year, identity) -> must hold."""
    entities, sheets, expect = [], [], {}
    clean_name = "宁夏回族自治区测试无误厅"
    entities.append((CLEAN_DEPARTMENT[0], clean_name))
    for phase, p in PHASES:
        for key, lines in department().items():
            sheets.append((f"budget/{clean_name}{phase}.xlsx", NAMES[key][p], clean_name, BASE_YEAR, phase, lines))
    for name, lines in debt().items():
        sheets.append((f"debt/{BASE_YEAR}.xlsx", name, "宁夏回族自治区", BASE_YEAR, "budget", lines))
    for i, (identity, (table, where, figures)) in enumerate(sorted(DEPT_CASES.items())):
        for j, holds in enumerate((True, False)):
            name = f"宁夏回族自治区测试{i:02d}{'甲乙'[j]}厅"
            code = identifiers.make_uscc(f"11640000MB{i:04d}{j}{j}{j}"[:17])
            entities.append((code, name))
            for phase, p in PHASES:
                tables = department()
                move(tables[table], HALF * figures + (0 if holds else FEN), **where)
                for key, lines in tables.items():
                    sheets.append((f"budget/{name}{phase}.xlsx", NAMES[key][p], name, BASE_YEAR, phase, lines))
                expect[(code, BASE_YEAR, identity, phase)] = holds
    year = BASE_YEAR
    for identity, (table, where, figures) in sorted(DEBT_CASES.items()):
        for holds in (True, False):
            year += 1
            tables = debt()
            move(tables[table], HALF * figures + (0 if holds else FEN), **where)
            for name, lines in tables.items():
                sheets.append((f"debt/{year}.xlsx", name, "宁夏回族自治区", year, "budget", lines))
            expect[("640000", year, identity, "budget")] = holds
    # 1-1 with its whole-region row printed 全市 (no 本地区, not a total label): the region sum still reads it
    for holds in (True, False):
        year += 1
        tables = debt()
        for line in tables["地方政府债务限额及余额情况表"]:
            if line[3] == "本地区":
                line[3], line[4] = "全市", False
        move(tables["地方政府债务限额及余额情况表"], HALF * 3 + (0 if holds else FEN), label="全市", column="limit_special")
        for name, lines in tables.items():
            sheets.append((f"debt/{year}.xlsx", name, "宁夏回族自治区", year, "budget", lines))
        expect[("640000", year, "debt_region_sum", "budget")] = holds
    # 1-1 with items as rows and regions as columns (本地区 | 本级 | 银川市): the same figures, the region sum per item row
    for holds in (True, False):
        year += 1
        tables = debt()
        scope = {"本地区": "amount", "本级": "amount_own_level"}
        items = sorted({line[6] for line in tables["地方政府债务限额及余额情况表"]}, key=REGION_COLUMNS.index)
        tables["地方政府债务限额及余额情况表"] = [
            [5 + items.index(col), None, None, f"{col}", False, col, scope.get(label, f"region:{label}"), v]
            for _, _, _, label, _, _, col, v in tables["地方政府债务限额及余额情况表"]]
        move(tables["地方政府债务限额及余额情况表"], HALF * 3 + (0 if holds else FEN), row_key="limit_special",
             column="amount")
        for name, lines in tables.items():
            sheets.append((f"debt/{year}.xlsx", name, "宁夏回族自治区", year, "budget", lines))
        expect[("640000", year, "debt_region_sum_items_as_rows", "budget")] = holds
    for identity, where in sorted(CEILING_CASES.items()):
        for holds in (True, False):
            year += 1
            tables = debt()
            room = where["room"]
            locator = {k: v for k, v in where.items() if k in ("label", "column", "row_key")}
            move(tables[where.get("table", "地方政府债务限额及余额情况表")],
                 where.get("sign", 1) * (room + (0 if holds else FEN)), **locator)
            for name, lines in tables.items():
                sheets.append((f"debt/{year}.xlsx", name, "宁夏回族自治区", year, "budget", lines))
            expect[("640000", year, identity, "budget")] = holds
    return entities, sheets, expect


def _insert(con, table: str, rows: list[dict]) -> None:
    if not rows:
        return
    insert_rows(con, table, [["test", "0" * 64, *r.values()] for r in rows], ["load_id", "source_sha256", *rows[0]])


def load(con, entities, sheets) -> None:
    ensure_schema(con)
    _insert(con, "raw.registry_regions", [dict(source_file="registry/regions.csv", source_row=2, region_code="640000",
                                               region_name="宁夏回族自治区", level="province", parent_code=None)])
    _insert(con, "raw.registry_entities", [
        dict(source_file=f"registry/entities_{BASE_YEAR}.csv", source_row=i + 2, fiscal_year=BASE_YEAR, entity_code=c,
             entity_name=n, region_code="640000", entity_kind="department", budget_approved_on=None, final_approved_on=None)
        for i, (c, n) in enumerate(entities)])
    sheet_rows, line_rows = {"budget": [], "debt": []}, {"budget": [], "debt": []}
    for index, (path, table_name, entity, year, phase, lines) in enumerate(sheets):
        family, sheet = path.split("/")[0], f"表{index}"
        sheet_rows[family].append(dict(
            source_file=path, sheet=sheet, sheet_index=index, title=f"{entity}{year}年{table_name}", table_name=table_name,
            entity_name=entity, fiscal_year=year, phase=phase, unit_label="元", unit_multiplier=1, code_layout="single",
            is_empty=False, has_empty_note=False, note_text=None, status="parsed"))
        for r, side, code, label, total, row_key, col, amount, *indent in lines:
            line_rows[family].append(dict(
                source_file=path, sheet=sheet, source_row=r, table_name=table_name, side=side, line_code=code,
                line_label=label, indent_level=indent[0] if indent else 0, is_total=total, row_key=row_key,
                column_key=col, source_column="C",
                value_text=str(amount), amount_yuan=amount))
    for family in ("budget", "debt"):
        _insert(con, f"raw.{family}_sheets", sheet_rows[family])
        _insert(con, f"raw.{family}_lines", line_rows[family])


@pytest.fixture(scope="module")
def checks(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("identities")
    warehouse = tmp / "warehouse.duckdb"
    entities, sheets, expect = scenario()
    con = duckdb.connect(str(warehouse))
    try:
        load(con, entities, sheets)
    finally:
        con.close()
    env = scenario_env(tmp, warehouse)
    result = run_dbt(["build", "--select", "+int_reconciliation_checks", "--resource-type", "seed", "--resource-type",
                      "model"], env, tmp / "target", tmp / "logs")
    assert result.returncode == 0, result.stdout[-6000:]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute("""
            select c.publisher_code, c.fiscal_year, c.identity_id, s.phase, c.is_consistent, c.is_rounding,
                   c.difference_yuan, c.tolerance_yuan
            from intermediate.int_reconciliation_checks c
            join intermediate.int_sheets_resolved s
              on s.source_file = c.source_file and s.sheet = c.sheet""").fetchall()
    finally:
        con.close()
    return rows, expect


def identity_of(identity_id: str) -> str:
    """Alternatives report under their own id: map them back to the identity they read."""
    import csv

    with (DBT_PROJECT_DIR / "seeds" / "ref_line_identities.csv").open(encoding="utf-8") as fh:
        alt = {r["identity_id"]: r["alternative_of"] for r in csv.DictReader(fh)}
    return alt.get(identity_id) or identity_id


def test_every_identity_of_the_spec_is_exercised():
    import csv

    with (DBT_PROJECT_DIR / "seeds" / "ref_line_identities.csv").open(encoding="utf-8") as fh:
        primary = {r["identity_id"] for r in csv.DictReader(fh) if not r["alternative_of"]}
    assert primary == set(DEPT_CASES) | set(DEBT_CASES) | set(CEILING_CASES) | {"debt_region_sum_items_as_rows"}


def test_gap_fails_beyond_rounding_and_holds_at_exactly_the_tolerance(checks):
    rows, expect = checks
    verdicts: dict[tuple, list[bool]] = {}
    for publisher, year, identity, phase, consistent, *_ in rows:
        verdicts.setdefault((publisher, year, identity_of(identity), phase), []).append(consistent)
    wrong = []
    for key, holds in expect.items():
        got = verdicts.get(key)
        if got is None:
            wrong.append((key, "not evaluated"))
        elif holds and not all(got):
            wrong.append((key, "failed at exactly the tolerance"))
        elif not holds and all(got):
            wrong.append((key, "held beyond the tolerance"))
    assert wrong == []


def test_a_one_yuan_gap_between_two_rounded_yuan_figures_is_rounding(checks):
    rows, _ = checks
    one_yuan = [r for r in rows if r[2] == "summary_income_vs_expenditure" and r[6] and abs(r[6]) == 1]
    assert one_yuan and all(r[4] and r[5] and r[7] == 1 for r in one_yuan)


def test_consistent_tables_hold_every_identity_exactly(checks):
    """The untouched department (budget and 决算) and debt year: every identity evaluated, none off at all."""
    rows, _ = checks
    clean = [r for r in rows if (r[0], r[1]) in (CLEAN_DEPARTMENT, CLEAN_DEBT)]
    evaluated = {identity_of(r[2]) for r in clean}
    assert evaluated == set(DEPT_CASES) | set(DEBT_CASES) | set(CEILING_CASES)
    assert [r for r in clean if not r[4] or r[5]] == []
