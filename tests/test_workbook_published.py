"""The workbook parser beyond the RAW_FORMATS.md variants: amount parsing, the catalogue's coverage by the
table spec, the layouts seen in published workbooks (one header row, titles over two rows, units inside
titles, contents pages, merged header cells) and the bundled sample's workbooks, which must parse and reject
only what its ground truth plants.

Workbooks are built here with openpyxl; expected values are derived from the cells the test writes.
"""
from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from openpyxl import Workbook

from dagster_project.ingest import framework
from dagster_project.ingest.workbook import parse_amount, parse_workbook
from dagster_project.ingest.workbook_spec import CATALOGUE_CSV, kind_of_table, vocabulary
from workbook_support import (ENTITY, ROLL_FORWARD_ITEMS, SAMPLE_RAW, YEAR, add_sheet, env, item_sheet,  # noqa: F401
                              lines, load, save, sheet_row, yuan)


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
