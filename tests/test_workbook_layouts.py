"""The generic workbook parser on the layout variants of RAW_FORMATS.md, loaded through the ingest framework
into a real DuckDB file: two-sided summaries, code columns, merged header rows, formulas saved without values,
debt region and item tables, 三公 tables, empty tables, corrupt files and re-runs.

Every workbook is built here with openpyxl, one layout variant each; expected values are derived from the
cells the test writes, never copied from a sample.
"""
from __future__ import annotations

from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment

from workbook_support import (ENTITY, ROLL_FORWARD_ITEMS, YEAR, add_sheet, env, item_sheet, lines, load,  # noqa: F401
                              query, save, sheet_row, units, yuan)


# ---------------------------------------------------------------------------------------------------
# Layout variants



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
    # the replaced version stays, superseded (is_retired): exactly as it was
    assert query(db, "SELECT * EXCLUDE (load_id, is_retired) FROM raw.budget_lines WHERE is_retired ORDER BY ALL") == [
        r[:-2] + r[-1:] for r in snapshot if r[0] == "budget/two.xlsx"]
    after = query(db, "SELECT * EXCLUDE (load_id) FROM raw.budget_lines WHERE NOT is_retired ORDER BY ALL")
    assert [r for r in after if r[0] == "budget/one.xlsx"] == one_before
    changed = query(db, "SELECT amount_yuan FROM raw.budget_lines WHERE source_file = 'budget/two.xlsx' "
                        "AND source_row = 5 AND source_column = 'B' AND NOT is_retired")
    assert changed == [(yuan(7, "万元"),)]
    assert len([r for r in after if r[0] == "budget/two.xlsx"]) == len([r for r in snapshot if r[0] == "budget/two.xlsx"])
