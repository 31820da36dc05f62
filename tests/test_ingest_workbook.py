"""The generic workbook parser, loaded through the ingest framework into a real DuckDB file.

Every workbook is built here with openpyxl, one layout variant of RAW_FORMATS.md each; expected
values are derived from the cells the test writes, never copied from a sample.
"""
from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml
from openpyxl import Workbook
from openpyxl.styles import Alignment

from dagster_project.ingest import framework
from dagster_project.ingest.workbook import load_workbook_file, parse_amount, parse_workbook
from dagster_project.paths import REPO_ROOT
from dagster_project.ingest.workbook_spec import CATALOGUE_CSV, UNITS_CSV, kind_of_table, vocabulary

YEAR = 2018
SAMPLE_RAW = REPO_ROOT / "data" / "raw"


def units() -> dict[str, Decimal]:
    with UNITS_CSV.open(encoding="utf-8") as handle:
        return {r["unit_label"]: Decimal(r["multiplier_yuan"]) for r in csv.DictReader(handle)}


def yuan(value, unit: str) -> Decimal:
    """What the parser must produce for a cell written by the test (text separators removed)."""
    if value is None or str(value).strip() in ("", "-", "—"):
        return Decimal("0.00")
    text = str(value).replace(",", "").replace("，", ",").replace(",", "")
    text = text.translate(str.maketrans("０１２３４５６７８９．", "0123456789."))
    return (Decimal(text) * units()[unit]).quantize(Decimal("0.01"))


def add_sheet(wb: Workbook, name: str, rows: list[list], merges: tuple[str, ...] = (), first: bool = False):
    ws = wb.active if first else wb.create_sheet(name)
    ws.title = name
    for row in rows:
        ws.append(row)
    for rng in merges:
        ws.merge_cells(rng)
    return ws


def save(wb: Workbook, raw: Path, rel: str) -> Path:
    path = raw / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


@pytest.fixture
def env(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    (raw / "budget").mkdir(parents=True)
    (raw / "debt").mkdir(parents=True)
    monkeypatch.setenv("GONGKAI_RAW_DIR", str(raw))
    monkeypatch.setenv("GONGKAI_WAREHOUSE", str(tmp_path / "wh.duckdb"))
    monkeypatch.setenv("GONGKAI_OUT_DIR", str(tmp_path / "out"))
    return raw, tmp_path / "wh.duckdb"


def load(db: Path, raw: Path, family: str):
    con = duckdb.connect(str(db))
    try:
        return framework.load_family(con, raw, family, load_workbook_file)
    finally:
        con.close()


def query(db: Path, sql: str, params=()):
    con = duckdb.connect(str(db))
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def lines(db: Path, family: str, sheet: str) -> list[dict]:
    con = duckdb.connect(str(db))
    try:
        cur = con.execute(
            f"SELECT * FROM raw.{family}_lines WHERE sheet = ? ORDER BY source_row, source_column", [sheet]
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]
    finally:
        con.close()


def sheet_row(db: Path, family: str, sheet: str) -> dict:
    con = duckdb.connect(str(db))
    try:
        cur = con.execute(f"SELECT * FROM raw.{family}_sheets WHERE sheet = ?", [sheet])
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
        assert len(rows) == 1, rows
        return dict(zip(names, rows[0]))
    finally:
        con.close()


# ---------------------------------------------------------------------------------------------------
# Layout variants
ENTITY = "宁夏回族自治区教育厅"


def summary_sheet(wb, first=False):
    """Two-sided 部门收支总表, side row merged above 项目|预算数 pairs, unit 万元 at the right."""
    income = [("一、一般公共预算拨款", 1200.5), ("二、事业收入", "1,234.50"), ("三、其他收入", None)]
    spend = [("一、教育支出", 2000), ("二、社会保障和就业支出", "435"), ("三、住房保障支出", "-")]
    rows = [
        [f"{ENTITY}{YEAR}年部门收支总表"],
        [f"部门：{ENTITY}", None, None, "单位：万元"],
        ["收    入", None, "支    出", None],
        ["项目", "预算数", "项目", "预算数"],
    ]
    for (il, ia), (el, ea) in zip(income, spend):
        rows.append([il, ia, el, ea])
    total = sum(yuan(a, "万元") for _, a in income)
    rows.append(["收入总计", float(total / 10000), "支出总计", float(total / 10000)])
    rows.append(["注：本表反映部门全部收支。"])
    add_sheet(wb, "表1", rows, ("A1:D1", "A3:B3", "C3:D3"), first=first)
    return income, spend


def test_two_sided_summary_sides_totals_units(env):
    raw, db = env
    wb = Workbook()
    income, spend = summary_sheet(wb, first=True)
    save(wb, raw, "budget/2018/教育厅.xlsx")
    report = load(db, raw, "budget")
    assert report.rejected == [] and report.rows_rejected == 0
    s = sheet_row(db, "budget", "表1")
    assert s["table_name"] == "部门收支总表" and s["phase"] == "budget" and s["fiscal_year"] == YEAR
    assert s["entity_name"] == ENTITY and s["publisher_line"] == f"部门：{ENTITY}"
    assert s["unit_label"] == "万元" and s["unit_multiplier"] == units()["万元"]
    assert s["header_row_count"] == 2 and s["status"] == "parsed"
    assert s["note_text"].startswith("注：") and not s["has_empty_note"] and not s["is_empty"]
    got = lines(db, "budget", "表1")
    by_side = {side: [l for l in got if l["side"] == side and not l["is_total"]] for side in ("income", "expenditure")}
    assert [(l["line_label"], l["amount_yuan"]) for l in by_side["income"]] == [(n, yuan(a, "万元")) for n, a in income]
    assert [(l["line_label"], l["amount_yuan"]) for l in by_side["expenditure"]] == [(n, yuan(a, "万元")) for n, a in spend]
    totals = {l["side"]: l for l in got if l["is_total"]}
    assert set(totals) == {"income", "expenditure"}
    assert totals["income"]["amount_yuan"] == sum(yuan(a, "万元") for _, a in income)
    assert {l["column_key"] for l in got} == {"amount"}
    assert s["data_row_count"] == len(income) + 1


def test_single_code_column_levels_indent_text_amounts(env):
    """科目编码 in one column (numbers, text, code+name in one cell), full-width indentation, 元."""
    raw, db = env
    rows_in = [
        # code cell, name cell, 合计, 基本支出, 项目支出
        ("205", "教育支出", "1,234.50", "１，２３４", "0.5"),
        (20501, "\u3000教育管理事务", 1234.5, 1234, 0.5),
        ("2050101", "\u3000\u3000行政运行", "-", None, "—"),
        ("2050102 一般行政管理事务", None, 12, "  7", "5"),
    ]
    rows = [
        ["附表5", None],
        [f"{ENTITY}{YEAR}年一般公共预算支出表"],
        [None, None, None, None, "单位:元"],
        ["科目编码", "科目名称", "合计", "基本支出", "项目支出"],
        [None, "合计", "1,246.50", 1241, 5.5],
    ]
    for r in rows_in:
        rows.append(list(r))
    wb = Workbook()
    ws = add_sheet(wb, "5-一般公共预算支出表", rows, first=True)
    ws.cell(row=9, column=2).alignment = Alignment(indent=3)  # a name indented by alignment only
    save(wb, raw, "budget/a.xlsx")
    load(db, raw, "budget")
    got = lines(db, "budget", "5-一般公共预算支出表")
    s = sheet_row(db, "budget", "5-一般公共预算支出表")
    assert s["unit_label"] == "元" and s["code_layout"] == "single" and s["reason"] is None
    assert s["title"] == f"{ENTITY}{YEAR}年一般公共预算支出表"
    detail = [l for l in got if not l["is_total"]]
    codes = [l["line_code"] for l in detail if l["column_key"] == "total"]
    assert codes == ["205", "20501", "2050101", "2050102"]
    assert {l["line_code"]: l["line_label"] for l in detail}["2050102"] == "一般行政管理事务"
    indents = {l["line_code"]: l["indent_level"] for l in detail}
    assert indents["205"] == 0 and indents["20501"] == 1 and indents["2050101"] == 2
    assert indents["2050102"] == 3
    keys = ["total", "basic", "project"]
    for (code, _, *amounts), code_lines in zip(rows_in, [
        [l for l in detail if l["source_row"] == 6 + i] for i in range(len(rows_in))
    ]):
        assert {l["column_key"]: l["amount_yuan"] for l in code_lines} == {
            k: yuan(a.strip() if isinstance(a, str) else a, "元") for k, a in zip(keys, amounts)
        }
    blank = [l for l in detail if l["line_code"] == "2050101" and l["column_key"] == "basic"][0]
    assert blank["value_text"] is None and blank["amount_yuan"] == 0
    sep = [l for l in detail if l["line_code"] == "205" and l["column_key"] == "total"][0]
    assert sep["value_text"] == "1,234.50"
    total = [l for l in got if l["is_total"]]
    assert {l["line_label"] for l in total} == {"合计"} and all(l["line_code"] is None for l in total)


def test_split_codes_three_merged_header_rows_and_reject(env):
    raw, db = env
    rows = [
        [f"{ENTITY}{YEAR}年一般公共预算基本支出表"],
        ["编制单位：宁夏回族自治区教育厅", None, None, None, None, None, "金额单位：千元"],
        ["经济分类科目", None, None, None, "本年预算", None, None],
        ["科目编码", None, None, "科目名称", "合计", "人员经费", "公用经费"],
        ["类", "款", "项", None, None, None, None],
        ["合计", None, None, None, 30, 20, 10],
        [301, None, None, "工资福利支出", 20, 20, None],
        [None, 1, None, "基本工资", 12, 12, None],
        [None, "02", None, "津贴补贴", 8, 8, None],
        [302, None, None, "商品和服务支出", 10, None, 10],
        [None, "01", None, "办公费", 6, None, "待定"],
        [None, "02", None, "印刷费", 4, None, 4],
    ]
    merges = ("A1:G1", "A3:D3", "E3:G3", "A4:C4", "D4:D5", "E4:E5", "F4:F5", "G4:G5", "A6:D6")
    wb = Workbook()
    add_sheet(wb, "Sheet1", rows, merges, first=True)
    save(wb, raw, "budget/b.xlsx")
    report = load(db, raw, "budget")
    s = sheet_row(db, "budget", "Sheet1")
    assert s["header_row_count"] == 3 and s["code_layout"] == "split" and s["unit_label"] == "千元"
    assert s["publisher_line"] == "编制单位：宁夏回族自治区教育厅"
    got = lines(db, "budget", "Sheet1")
    codes = sorted({(l["source_row"], l["line_code"]) for l in got if l["line_code"]})
    assert [c for _, c in codes] == ["301", "30101", "30102", "302", "30202"]
    assert {l["column_key"] for l in got} == {"total", "personnel", "public"}
    row8 = {l["column_key"]: l["amount_yuan"] for l in got if l["source_row"] == 8}
    assert row8 == {"total": yuan(12, "千元"), "personnel": yuan(12, "千元"), "public": Decimal("0.00")}
    # the 待定 row is rejected whole, naming sheet, Excel row and column
    assert not [l for l in got if l["source_row"] == 11]
    rej = query(db, "SELECT sheet, source_row, source_column, raw_value, reason FROM raw.load_rejects")
    assert len(rej) == 1
    sheet, row, col, value, reason = rej[0]
    assert (sheet, row, col, value) == ("Sheet1", 11, "G", "待定")
    assert "期望金额数字" in reason and "expected a number" in reason and "第11行" in reason
    data_rows = len(rows) - 5
    assert (report.rows_in, report.rows_loaded, report.rows_rejected) == (data_rows, data_rows - 1, 1)
    status = query(db, "SELECT status, rows_rejected FROM raw.load_files")
    assert status == [("loaded_with_rejects", 1)]


def test_formula_saved_without_its_value_is_a_row_error_not_a_zero(env):
    """openpyxl (like many scripts) writes formulas without their computed values: such a total row is
    rejected naming the formula, the other rows load, and nothing is read as 0."""
    raw, db = env
    wb = Workbook()
    summary_sheet(wb, first=True)
    ws = wb["表1"]
    total_row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "收入总计")
    ws.cell(total_row, 2).value = f"=SUM(B5:B{total_row - 1})"
    save(wb, raw, "budget/formula.xlsx")
    report = load(db, raw, "budget")
    rej = query(db, "SELECT sheet, source_row, source_column, raw_value, reason FROM raw.load_rejects")
    assert [(r[0], r[1], r[2], r[3]) for r in rej] == [("表1", total_row, "B", f"=SUM(B5:B{total_row - 1})")]
    assert "公式未保存计算结果" in rej[0][4] and "without its computed value" in rej[0][4]
    got = lines(db, "budget", "表1")
    assert not [l for l in got if l["source_row"] == total_row]
    assert {l["source_row"] for l in got} == set(range(5, total_row))
    assert report.rows_in == report.rows_loaded + report.rows_rejected and report.rows_rejected == 1


def test_uncached_formula_detection_reads_the_saved_xml(tmp_path):
    """What scripts write (<f> with <v/>) is uncached; Excel's empty-string result of a text formula
    (t="str", <v></v>) and any saved value are not."""
    import zipfile

    from dagster_project.ingest.workbook import uncached_formulas

    wb = Workbook()
    ws = wb.active
    ws.title = "表1"
    ws["B5"], ws["B6"], ws["B7"] = 1, "=SUM(B5:B5)", '=IF(B5=0,"",B5)'
    script = tmp_path / "script.xlsx"
    wb.save(script)
    assert uncached_formulas(script) == {"表1": {(6, 2): "=SUM(B5:B5)", (7, 2): '=IF(B5=0,"",B5)'}}

    excel = tmp_path / "excel.xlsx"  # the same sheet as Excel saves it: results kept
    with zipfile.ZipFile(script) as src, zipfile.ZipFile(excel, "w") as out:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode("utf-8")
                text = text.replace('<c r="B6"><f>SUM(B5:B5)</f><v />', '<c r="B6"><f>SUM(B5:B5)</f><v>1</v>')
                text = text.replace('<c r="B7"><f>', '<c r="B7" t="str"><f>').replace("<v />", "<v></v>")
                data = text.encode("utf-8")
            out.writestr(item, data)
    assert uncached_formulas(excel) == {}


def test_debt_region_table_in_yi_yuan(env):
    raw, db = env
    regions = [("本地区", 100.5, 40.25, 60.25, 90, 30, 60), ("本级", 50, 20, 30, 45, 15, 30),
               ("银川市", 30.5, 10.25, 20.25, 25, 10, 15), ("石嘴山市", 20, 10, 10, 20, 5, 15)]
    rows = [
        [f"表1-1 宁夏回族自治区{YEAR}年地方政府债务限额及余额情况表"],
        [None, None, None, None, None, None, "单位：亿元"],
        ["地区", f"{YEAR - 1}年债务限额", None, None, f"{YEAR - 1}年债务余额（预计执行数）", None, None],
        [None, "小计", "一般债务", "专项债务", "小计", "一般债务", "专项债务"],
        *[list(r) for r in regions],
    ]
    wb = Workbook()
    add_sheet(wb, "1-1", rows, ("A1:G1", "A3:A4", "B3:D3", "E3:G3"), first=True)
    save(wb, raw, "debt/宁夏2018债务.xlsx")
    load(db, raw, "debt")
    s = sheet_row(db, "debt", "1-1")
    assert s["table_name"] == "地方政府债务限额及余额情况表" and s["entity_name"] == "宁夏回族自治区"
    assert s["unit_multiplier"] == units()["亿元"]
    got = lines(db, "debt", "1-1")
    keys = ["limit_total", "limit_general", "limit_special", "balance_total", "balance_general", "balance_special"]
    for label, *values in regions:
        mine = {l["column_key"]: l["amount_yuan"] for l in got if l["line_label"] == label}
        assert mine == {k: yuan(v, "亿元") for k, v in zip(keys, values)}
    assert not any(l["is_total"] for l in got)


ROLL_FORWARD_ITEMS = [
    ("一、{a}年末地方政府一般债务余额实际数", "opening_balance"),
    ("二、{b}年地方政府一般债务限额", "prior_limit"),
    ("三、{b}年地方政府一般债务发行额", "issued"),
    ("    其中：中央转贷地方的国际金融组织和外国政府贷款", "issued_foreign_onlent"),
    ("          {b}年地方政府一般债券发行额", "issued_bonds"),
    ("    其中：再融资债券", "issued_refinancing"),
    ("四、{b}年地方政府一般债务还本额", "repaid"),
    ("五、{b}年末地方政府一般债务余额预计执行数", "closing_balance"),
    ("六、{c}年地方财政赤字", "deficit"),
    ("七、{c}年地方政府一般债务限额", "limit"),
]
SERVICE_ITEMS = [
    ("一、{b}年地方政府债券发行额", "issued_total"), ("其中：一般债券", "issued_general"),
    ("专项债券", "issued_special"), ("其中：再融资债券", "issued_refinancing"),
    ("二、{b}年地方政府债务还本额", "principal_total"), ("其中：一般债务", "principal_general"),
    ("专项债务", "principal_special"), ("三、{b}年地方政府债务付息额", "interest_total"),
    ("其中：一般债务", "interest_general"), ("专项债务", "interest_special"),
    ("四、{c}年地方政府债务还本预算数", "budget_principal_total"),
    ("其中：再融资债券", "budget_principal_refinancing"), ("财政预算安排", "budget_principal_funded"),
    ("五、{c}年地方政府债务付息预算数", "budget_interest_total"),
]


def item_sheet(wb, name, title, items, year_labels, first=False):
    rows = [[title], ["项目", "预算数"]]
    for i, (label, _) in enumerate(items):
        rows.append([label.format(**year_labels), i + 1.25])
    add_sheet(wb, name, rows, first=first)


def test_debt_item_rows_get_row_keys_budget_and_final(env):
    raw, db = env
    wb = Workbook()
    y = {"a": YEAR - 2, "b": YEAR - 1, "c": YEAR}
    item_sheet(wb, "1-2", f"宁夏回族自治区{YEAR}年地方政府一般债务余额情况表", ROLL_FORWARD_ITEMS, y, first=True)
    item_sheet(wb, "1-4", f"宁夏回族自治区{YEAR}年地方政府债券发行及还本付息情况表", SERVICE_ITEMS, y)
    # the final form speaks of the fiscal year itself: opening = Y-1 年末, closing = Y 年末
    yf = {"a": YEAR - 1, "b": YEAR, "c": YEAR + 1}
    item_sheet(wb, "决算1-2", f"宁夏回族自治区{YEAR}年地方政府一般债务余额决算情况表", ROLL_FORWARD_ITEMS[:8], yf)
    save(wb, raw, "debt/items.xlsx")
    load(db, raw, "debt")
    for sheet, items in (("1-2", ROLL_FORWARD_ITEMS), ("1-4", SERVICE_ITEMS), ("决算1-2", ROLL_FORWARD_ITEMS[:8])):
        got = lines(db, "debt", sheet)
        assert [l["row_key"] for l in got] == [k for _, k in items], sheet
        assert [l["amount_yuan"] for l in got] == [yuan(i + 1.25, "元") for i in range(len(items))]
    assert sheet_row(db, "debt", "决算1-2")["phase"] == "final"


def test_bond_use_text_columns(env):
    raw, db = env
    projects = [("银川市某学校建设项目", "P18640100-0001", "教育", "银川市教育局", "某学校", "专项债券", 1.5, "2018-06-01"),
                ("平罗县某道路项目", "P18640221-0002", "交通", "平罗县交通局", "平罗县公路段", "一般债券", "2,000", "2018-07-15")]
    rows = [[f"宁夏回族自治区{YEAR}年地方政府债券资金使用情况表"], [None] * 8 + ["单位：万元"],
            ["序号", "项目名称", "项目编号", "项目领域", "主管部门", "实施单位", "债券性质", "债券规模", "发行时间"]]
    for i, p in enumerate(projects, 1):
        rows.append([i, *p])
    wb = Workbook()
    add_sheet(wb, "债券使用", rows, first=True)
    save(wb, raw, "debt/bond.xlsx")
    load(db, raw, "debt")
    got = lines(db, "debt", "债券使用")
    for p in projects:
        mine = {l["column_key"]: l for l in got if l["line_label"] == p[0]}
        assert {k: mine[k]["value_text"] for k in ("project_name", "project_code", "project_area",
                "competent_department", "implementing_unit", "bond_type", "issue_date")} == dict(zip(
                ("project_name", "project_code", "project_area", "competent_department", "implementing_unit",
                 "bond_type", "issue_date"), (*p[:6], p[7])))
        assert mine["bond_amount"]["amount_yuan"] == yuan(p[6], "万元")
        assert mine["project_code"]["amount_yuan"] is None


def test_sangong_final_three_header_rows_with_budget_group(env):
    raw, db = env
    budget = [10, 2, 5, 1, 4, 3]
    final = [9, 2, 4.5, 1, 3.5, 2.5]
    parts = ["合计", "因公出国（境）费", "公务用车购置及运行费", None, None, "公务接待费"]
    rows = [
        [f"{ENTITY}{YEAR}年一般公共预算财政拨款“三公”经费支出决算表"],
        [None] * 11 + ["单位：万元"],
        ["预算数", None, None, None, None, None, "决算数", None, None, None, None, None],
        parts + parts,
        [None, None, "小计", "购置费", "运行费", None] * 2,
        budget + final,
    ]
    merges = ("A3:F3", "G3:L3", "C4:E4", "I4:K4", "A4:A5", "B4:B5", "F4:F5", "G4:G5", "H4:H5", "L4:L5")
    wb = Workbook()
    add_sheet(wb, "表7", rows, merges, first=True)
    save(wb, raw, "budget/sg.xlsx")
    load(db, raw, "budget")
    got = {l["column_key"]: l["amount_yuan"] for l in lines(db, "budget", "表7")}
    keys = ["total", "overseas", "vehicle", "vehicle_purchase", "vehicle_running", "reception"]
    assert got == {**{f"budget_{k}": yuan(v, "万元") for k, v in zip(keys, budget)},
                   **{k: yuan(v, "万元") for k, v in zip(keys, final)}}
    assert sheet_row(db, "budget", "表7")["header_row_count"] == 3


def test_empty_tables_with_and_without_note_and_missing_unit(env):
    raw, db = env
    wb = Workbook()
    header = ["科目编码", "科目名称", "合计", "基本支出", "项目支出"]
    add_sheet(wb, "表8", [[f"{ENTITY}{YEAR}年政府性基金预算支出表"], ["单位：万元"], header,
                         [None, "合计", None, None, None],
                         ["本部门无政府性基金预算支出，故本表为空表。"]], first=True)
    add_sheet(wb, "表9", [[f"{ENTITY}{YEAR}年国有资本经营预算支出表"], header, [None, "合计", "-", "-", "-"]])
    save(wb, raw, "budget/empty.xlsx")
    load(db, raw, "budget")
    with_note = sheet_row(db, "budget", "表8")
    assert with_note["is_empty"] and with_note["has_empty_note"] and "空表" in with_note["note_text"]
    without = sheet_row(db, "budget", "表9")
    assert without["is_empty"] and not without["has_empty_note"] and without["note_text"] is None
    # no unit printed: multiplier 1, NULL label and a warning, still parsed
    assert without["unit_label"] is None and without["unit_multiplier"] == 1 and without["status"] == "parsed"
    assert "no unit" in without["reason"]


def test_corrupt_file_unknown_sheet_and_sheet_error_do_not_stop_the_rest(env):
    raw, db = env
    (raw / "budget" / "broken.xlsx").write_bytes(b"PK\x03\x04 this is not really a zip")
    wb = Workbook()
    summary_sheet(wb, first=True)
    add_sheet(wb, "封面", [["宁夏回族自治区教育厅2018年部门预算"], ["目录"]])
    # a known table whose header cannot be found: a sheet error, rows counted as rejected
    add_sheet(wb, "表3", [[f"{ENTITY}{YEAR}年部门支出总表"], ["甲", "乙"], ["1", "2"]])
    save(wb, raw, "budget/good.xlsx")
    report = load(db, raw, "budget")
    assert report.rejected == ["budget/broken.xlsx"] and report.loaded == ["budget/good.xlsx"]
    reason = query(db, "SELECT reason FROM raw.load_files WHERE source_file = 'budget/broken.xlsx'")[0][0]
    assert "budget/broken.xlsx" in reason and "不是可读取的Excel工作簿" in reason
    cover = sheet_row(db, "budget", "封面")
    assert cover["status"] == "unknown_table" and cover["reason"]
    assert lines(db, "budget", "封面") == []
    bad = sheet_row(db, "budget", "表3")
    assert bad["status"] == "error" and "表头" in bad["reason"]
    assert query(db, "SELECT count(*) FROM raw.load_rejects WHERE sheet = '表3'")[0][0] == 1
    assert sheet_row(db, "budget", "表1")["status"] == "parsed"
    (rows_in, loaded, rejected), = query(
        db, "SELECT rows_in, rows_loaded, rows_rejected FROM raw.load_files WHERE source_file = 'budget/good.xlsx'")
    assert rejected == 2 and rows_in == loaded + rejected


def test_rerun_unchanged_then_changed_file_replaces_only_its_rows(env):
    raw, db = env
    wb = Workbook()
    summary_sheet(wb, first=True)
    save(wb, raw, "budget/one.xlsx")
    wb2 = Workbook()
    summary_sheet(wb2, first=True)
    path2 = save(wb2, raw, "budget/two.xlsx")
    load(db, raw, "budget")
    snapshot = query(db, "SELECT * EXCLUDE (load_id) FROM raw.budget_lines ORDER BY ALL")
    second = load(db, raw, "budget")
    assert second.loaded == [] and len(second.unchanged) == 2
    assert query(db, "SELECT * EXCLUDE (load_id) FROM raw.budget_lines ORDER BY ALL") == snapshot
    # change one amount in two.xlsx: its rows are replaced, one.xlsx untouched
    wb3 = Workbook()
    summary_sheet(wb3, first=True)
    wb3.active["B5"] = 7
    wb3.save(path2)
    third = load(db, raw, "budget")
    assert third.loaded == ["budget/two.xlsx"]
    one_before = [r for r in snapshot if r[0] == "budget/one.xlsx"]
    after = query(db, "SELECT * EXCLUDE (load_id) FROM raw.budget_lines ORDER BY ALL")
    assert [r for r in after if r[0] == "budget/one.xlsx"] == one_before
    changed = query(db, "SELECT amount_yuan FROM raw.budget_lines WHERE source_file = 'budget/two.xlsx' "
                        "AND source_row = 5 AND source_column = 'B'")
    assert changed == [(yuan(7, "万元"),)]
    assert len([r for r in after if r[0] == "budget/two.xlsx"]) == len([r for r in snapshot if r[0] == "budget/two.xlsx"])


# ---------------------------------------------------------------------------------------------------
# Pure helpers and spec coverage
@pytest.mark.parametrize("value, ok, amount", [
    (None, True, "0"), ("", True, "0"), ("-", True, "0"), ("—", True, "0"), ("1,234.50", True, "1234.50"),
    ("１，２３４", True, "1234"), (0.1, True, "0.1"), (12, True, "12"), ("待定", False, "0"),
    ("#REF!", False, "0"), ("12%", False, "0"), (True, False, "0"),
    # accounting negatives and the minus sign U+2212; a bracket around a sign or text is not a number
    ("(1,234.50)", True, "-1234.50"), ("（１２）", True, "-12"), ("\u221212.5", True, "-12.5"),
    ("(-5)", False, "0"), ("(待定)", False, "0"), ("()", False, "0"),
])
def test_parse_amount(value, ok, amount):
    assert parse_amount(value) == (ok, Decimal(amount))


def test_every_catalogue_table_has_a_spec_kind_and_every_kind_names_catalogue_keys():
    spec = yaml.safe_load((Path(__file__).parents[1] / "dagster_project/ingest/specs/workbook_tables.yaml")
                          .read_text(encoding="utf-8"))
    with CATALOGUE_CSV.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    keys = [r["table_key"] for r in rows if r["book"] != "explanation"]
    # required explanations are no tables: each has its headings in the narrative spec instead
    narrative = yaml.safe_load((Path(__file__).parents[1] / "dagster_project/ingest/specs/narrative_sections.yaml")
                               .read_text(encoding="utf-8"))
    assert {r["table_name_zh"] for r in rows if r["book"] == "explanation"} == set(narrative["sections"])
    # the figures an explanation states are read against catalogue tables
    with (CATALOGUE_CSV.parent / "ref_narrative_figures.csv").open(encoding="utf-8") as handle:
        figures = list(csv.DictReader(handle))
    assert {f["table_key"] for f in figures} <= set(keys) and {f["statement_key"] for f in figures} <= set(
        narrative["statements"])
    listed = {k for kind in spec["kinds"].values() for k in kind["tables"]} | set(spec.get("table_overrides", {}))
    assert set(keys) <= listed, set(keys) - listed
    assert listed <= set(keys), listed - set(keys)
    for key in keys:
        kind, _ = kind_of_table(spec, (key,))
        assert kind in spec["kinds"]


def test_longest_catalogue_name_wins():
    vocab = vocabulary()
    assert vocab.table_for_title("XX2018年一般公共预算本级支出表").table_name == "一般公共预算本级支出表"
    assert vocab.table_for_title("XX 2018年 一般公共预算“三公”经费支出表").table_name.endswith("“三公”经费支出表")
    assert vocab.table_for_title("XX2018年一般公共预算财政拨款支出决算表").phase == "final"


# ---------------------------------------------------------------------------------------------------
# More layout variants seen in published workbooks
def test_one_header_row_debt_regions_and_sangong_subtotal(env):
    """合计|一般债务|专项债务 printed twice without the group row; 小计 as the vehicle subtotal."""
    raw, db = env
    wb = Workbook()
    regions = [("本地区", 10, 4, 6, 9, 3, 6), ("本级", 4, 2, 2, 3, 1, 2), ("兴庆区", 6, 2, 4, 6, 2, 4)]
    add_sheet(wb, "Sheet1", [[f"银川市{YEAR}年地方政府债务限额及余额情况表"], ["单位:万元"],
                             ["地区", "合计", "一般债务", "专项债务", "合计", "一般债务", "专项债务"],
                             *[list(r) for r in regions]], first=True)
    sangong = [f"{YEAR}年预算数", 10, 2, 5, 1, 4, 3]
    add_sheet(wb, "Sheet2", [[f"银川市{YEAR}年一般公共预算“三公”经费支出表"], ["单位：元"],
                             ["项目", "合计", "因公出国（境）费", "小计", "公务用车购置费", "公务用车运行费", "公务接待费"],
                             sangong])
    save(wb, raw, "debt/yc.xlsx")
    load(db, raw, "debt")
    keys = ["limit_total", "limit_general", "limit_special", "balance_total", "balance_general", "balance_special"]
    got = lines(db, "debt", "Sheet1")
    for label, *values in regions:
        assert {l["column_key"]: l["amount_yuan"] for l in got if l["line_label"] == label} == {
            k: yuan(v, "万元") for k, v in zip(keys, values)}
    sg = {l["column_key"]: l["amount_yuan"] for l in lines(db, "debt", "Sheet2")}
    assert sg == {k: yuan(v, "元") for k, v in zip(
        ["total", "overseas", "vehicle", "vehicle_purchase", "vehicle_running", "reception"], sangong[1:])}
    assert {l["row_key"] for l in lines(db, "debt", "Sheet2")} == {"current_year"}


def test_final_debt_table_worded_like_the_budget_and_government_debt_items(env):
    """A final roll-forward that reuses the budget wording ({Y-2}年末 …) still gets the right keys."""
    raw, db = env
    wb = Workbook()
    y = {"a": YEAR - 2, "b": YEAR - 1, "c": YEAR}
    item_sheet(wb, "表20", f"宁夏回族自治区{YEAR}年地方政府一般债务余额决算情况表", ROLL_FORWARD_ITEMS, y, first=True)
    gov_items = [(f"{YEAR - 1}年一般债务限额", "prior_limit"), (f"{YEAR - 1}年末一般债务余额", "prior_balance"),
                 (f"{YEAR}年一般债务限额", "limit")]
    add_sheet(wb, "表6", [[f"宁夏回族自治区{YEAR}年政府一般债务限额和余额情况表"], ["单位：亿元"], ["项目", "预算数"],
                         *[[label, i + 1] for i, (label, _) in enumerate(gov_items)]])
    save(wb, raw, "debt/f.xlsx")
    load(db, raw, "debt")
    assert [l["row_key"] for l in lines(db, "debt", "表20")] == [k for _, k in ROLL_FORWARD_ITEMS]
    assert [l["row_key"] for l in lines(db, "debt", "表6")] == [k for _, k in gov_items]
    assert [l["amount_yuan"] for l in lines(db, "debt", "表6")] == [yuan(i + 1, "亿元") for i in range(3)]


def test_title_over_two_rows_sheet_name_fallback_and_unit_in_header(env):
    raw, db = env
    wb = Workbook()
    # the table name only in the sheet name; the unit only in a header cell
    add_sheet(wb, "3-部门支出总表", [["宁夏回族自治区交通运输厅2019年部门预算"],
                                   ["科目编码", "科目名称", "合计（万元）", "基本支出（万元）", "项目支出（万元）"],
                                   ["214", "交通运输支出", 5, 3, 2]], first=True)
    # entity and table name on two title rows
    add_sheet(wb, "表2", [["宁夏回族自治区交通运输厅"], ["2019年部门收入总表"], ["单位：万元"],
                         ["单位名称", "合计", "上年结转", "一般公共预算拨款", "事业收入"],
                         ["合计", 9, 1, 8, 0], ["宁夏回族自治区交通运输厅", 9, 1, 8, "-"]])
    save(wb, raw, "budget/t.xlsx")
    load(db, raw, "budget")
    a = sheet_row(db, "budget", "3-部门支出总表")
    assert a["table_name"] == "部门支出总表" and a["unit_label"] == "万元" and a["fiscal_year"] == 2019
    assert a["entity_name"] == "宁夏回族自治区交通运输厅"
    assert {l["column_key"]: l["amount_yuan"] for l in lines(db, "budget", "3-部门支出总表")} == {
        "total": yuan(5, "万元"), "basic": yuan(3, "万元"), "project": yuan(2, "万元")}
    b = sheet_row(db, "budget", "表2")
    assert b["table_name"] == "部门收入总表" and b["entity_name"] == "宁夏回族自治区交通运输厅"
    got = lines(db, "budget", "表2")
    assert {l["column_key"] for l in got} == {"total", "carryover", "gpb_appropriation", "business_income"}
    assert [l["is_total"] for l in got if l["column_key"] == "total"] == [True, False]


# ---------------------------------------------------------------------------------------------------
# The bundled sample (or a freshly generated one): every sheet recognised, rejects exactly as planted
def _sample_root(tmp_path: Path) -> Path:
    if (SAMPLE_RAW / "ground_truth.json").exists() and any((SAMPLE_RAW / "budget").rglob("*.xlsx")):
        return SAMPLE_RAW
    generate = pytest.importorskip("dagster_project.sample.generate").generate
    out = tmp_path / "sample" / "raw"
    generate(out, 20181, 1.0, [2017, 2018, 2019])
    return out


def test_sample_workbooks_parse_and_reject_only_what_ground_truth_plants(tmp_path):
    import json

    root = _sample_root(tmp_path)
    truth = json.loads((root / "ground_truth.json").read_text(encoding="utf-8"))["ingest"]
    expected_files = {r["source_file"] for r in truth["rejected_files"]
                      if r["source_file"].split("/")[0] in ("budget", "debt")}
    expected_rows = {(r["source_file"], r["sheet"], r["source_row"], r["source_column"], r["raw_value"])
                     for r in truth["rejected_rows"] if r["source_file"].split("/")[0] in ("budget", "debt")}
    got_files, got_rows, unknown, errors = set(), set(), [], []
    for family in ("budget", "debt"):
        for path in sorted((root / family).rglob("*")):
            if not path.is_file():
                continue
            rel = path.relative_to(root).as_posix()
            try:
                wb = parse_workbook(path, rel)
            except framework.FileRejected:
                got_files.add(rel)
                continue
            for s in wb.sheets:
                if s.status == "error":
                    errors.append((rel, s.sheet, s.reason))
                # cover / explanation sheets carry no table name; every other sheet must be recognised
                if s.status == "unknown_table" and s.title and "表" in (s.title + s.sheet).replace("表格", ""):
                    unknown.append((rel, s.sheet, s.title))
                got_rows |= {(rel, r.sheet, r.source_row, r.source_column, r.raw_value) for r in s.rejects}
    assert errors == [] and unknown == []
    assert got_files == expected_files
    assert got_rows == expected_rows


def test_contents_page_column_numbering_row_and_note_before_the_total(env):
    raw, db = env
    wb = Workbook()
    add_sheet(wb, "目录", [["目录"], ["1. 收入支出决算总表"], ["2. 收入决算表"], ["3. 支出决算表"]], first=True)
    add_sheet(wb, "表3", [[f"{ENTITY}二〇一八年支出决算表"], ["单位：人民币万元"],
                         ["项目", None, "本年支出合计", "基本支出", "项目支出"],
                         ["科目编码", "科目名称", None, None, None],
                         ["栏次", None, 1, 2, 3],
                         ["205", "教育支出", "7", 4, 3]], ("A3:B3", "C3:C4", "D3:D4", "E3:E4"))
    add_sheet(wb, "表9", [[f"{ENTITY}{YEAR}年国有资本经营预算财政拨款支出决算表"], ["单位：万元"],
                         ["科目编码", "科目名称", "合计", "基本支出", "项目支出"],
                         ["本单位没有国有资本经营预算拨款收入，也没有使用国有资本经营预算拨款安排的支出，故本表无数据。"],
                         [None, "合计", None, None, None]])
    save(wb, raw, "budget/c.xlsx")
    report = load(db, raw, "budget")
    toc = sheet_row(db, "budget", "目录")
    assert toc["status"] == "unknown_table" and report.rows_rejected == 0
    t3 = sheet_row(db, "budget", "表3")
    assert t3["fiscal_year"] == YEAR and t3["unit_label"] == "万元" and t3["header_row_count"] == 2
    got = lines(db, "budget", "表3")
    assert {(l["line_code"], l["column_key"], l["amount_yuan"]) for l in got} == {
        ("205", "total", yuan(7, "万元")), ("205", "basic", yuan(4, "万元")), ("205", "project", yuan(3, "万元"))}
    t9 = sheet_row(db, "budget", "表9")
    assert t9["is_empty"] and t9["has_empty_note"] and t9["data_row_count"] == 1
    assert [l["is_total"] for l in lines(db, "budget", "表9")] == [True] * 3


def test_fiscal_summary_year_headers_flat_debt_headers_and_merged_text_cells(env):
    raw, db = env
    wb = Workbook()
    spend = [10, 8, 2, 0]
    add_sheet(wb, "表4", [[f"{ENTITY}{YEAR}年财政拨款收支总表"], ["单位：万元"],
                         ["收   入", None, "支   出", None, None, None, None],
                         ["项目", "预算数", "项目", "合计", "一般公共预算", "政府性基金预算", "国有资本经营预算"],
                         ["一、一般公共预算拨款", 8, "一、教育支出", *spend],
                         ["二、政府性基金预算拨款", 2, None, None, None, None, None]],
              ("A3:B3", "C3:G3"), first=True)
    add_sheet(wb, "收入", [[f"宁夏回族自治区本级{YEAR}年一般公共预算收入表"], ["单位：万元"],
                         ["项目", f"{YEAR - 1}年执行数", f"{YEAR}年预算数", "预算数为上年执行数的%"],
                         ["一、税收收入", 100, 110, "110%"]])
    add_sheet(wb, "债券", [[f"宁夏回族自治区{YEAR}年地方政府债券资金使用情况表"], ["单位：万元"],
                         ["序号", "项目名称", "主管部门", "债券规模"],
                         [1, "甲项目", "教育厅", 10], [2, "乙项目", None, 20]], ("C4:C5",))
    save(wb, raw, "budget/v.xlsx")
    load(db, raw, "budget")
    exp = {l["column_key"]: l["amount_yuan"] for l in lines(db, "budget", "表4") if l["side"] == "expenditure"}
    assert exp == {k: yuan(v, "万元") for k, v in zip(["amount", "gpb", "gfb", "scb"], spend)}
    inc = [l for l in lines(db, "budget", "表4") if l["side"] == "income"]
    assert [l["line_label"] for l in inc] == ["一、一般公共预算拨款", "二、政府性基金预算拨款"]
    rev = {l["column_key"]: l["amount_yuan"] for l in lines(db, "budget", "收入")}
    assert rev == {"prior_year": yuan(100, "万元"), "amount": yuan(110, "万元")}  # the % column is not an amount
    assert sheet_row(db, "budget", "收入")["entity_name"] == "宁夏回族自治区本级"
    bond = lines(db, "budget", "债券")
    assert [l["value_text"] for l in bond if l["column_key"] == "competent_department"] == ["教育厅", "教育厅"]


def test_unit_inside_the_title_and_year_on_the_next_line(env):
    raw, db = env
    wb = Workbook()
    add_sheet(wb, "表1", [[f"{ENTITY}部门收支总表（单位：万元）"], [f"（{YEAR}年）"],
                         ["项目", "预算数", "项目", "预算数"], ["一、事业收入", 3, "一、教育支出", 3]], first=True)
    save(wb, raw, "budget/u.xlsx")
    load(db, raw, "budget")
    s = sheet_row(db, "budget", "表1")
    assert (s["table_name"], s["entity_name"], s["fiscal_year"], s["unit_label"]) == ("部门收支总表", ENTITY, YEAR, "万元")
    assert {l["amount_yuan"] for l in lines(db, "budget", "表1")} == {yuan(3, "万元")}


def test_code_and_name_under_one_merged_header(env):
    raw, db = env
    wb = Workbook()
    add_sheet(wb, "表5", [[f"{ENTITY}{YEAR}年一般公共预算支出表"], ["单位：元"], ["科目", None, "合计"],
                         [None, "合计", 5], [205, "教育支出", 5], ["20501", "　教育管理事务", 5]], ("A3:B3",), first=True)
    save(wb, raw, "budget/m.xlsx")
    load(db, raw, "budget")
    got = lines(db, "budget", "表5")
    assert [(l["line_code"], l["line_label"], l["is_total"]) for l in got] == [
        (None, "合计", True), ("205", "教育支出", False), ("20501", "教育管理事务", False)]


def test_a_fourth_header_row_is_not_read_as_rejected_data(env):
    raw, db = env
    wb = Workbook()
    add_sheet(wb, "表5", [[f"{ENTITY}{YEAR}年一般公共预算支出表"], ["单位：元"],
                         [f"{YEAR}年预算", None, None, None], ["支出功能分类科目", None, "本年预算", None],
                         ["科目编码", "科目名称", "合计", "基本支出"], ["编码", "名称", "合计", "基本支出"],
                         ["205", "教育支出", 5, 5]], ("A3:D3", "A4:B4", "C4:D4"), first=True)
    save(wb, raw, "budget/h4.xlsx")
    report = load(db, raw, "budget")
    assert report.rows_rejected == 0 and report.rows_in == 1
    assert {l["column_key"]: l["amount_yuan"] for l in lines(db, "budget", "表5")} == {
        "total": yuan(5, "元"), "basic": yuan(5, "元")}
