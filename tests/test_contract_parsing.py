"""Fast parser checks for the layouts the contract root (tests/contract_raw.py) found the parser missing:
a header row that is blank only because a merged cell above reaches into it, 本年预算 amount headers in
two-sided summaries and debt item tables, and table names worded as the finance ministry's template does."""
from __future__ import annotations

from decimal import Decimal

from openpyxl import Workbook

from dagster_project.ingest.workbook import parse_workbook
from dagster_project.ingest.workbook_spec import _read_table_aliases, vocabulary


def _save(tmp_path, build) -> list:
    wb = Workbook()
    ws = wb.active
    ws.title = "表1"
    build(ws)
    path = tmp_path / "t.xlsx"
    wb.save(path)
    return parse_workbook(path).sheets


def test_three_row_header_with_split_codes_under_a_two_row_merged_cell(tmp_path):
    leaves = {"2010601": Decimal("95"), "2010602": Decimal("20")}

    def build(ws):
        ws["A1"] = "西吉县2016年一般公共预算本级支出表"
        ws["E2"] = "单位：万元"
        ws["A3"] = "功能分类科目编码"
        ws.merge_cells("A3:C4")          # row 4 holds no value at all: only the merge reaches it
        ws["D3"] = "科目名称"
        ws.merge_cells("D3:D5")
        ws["E3"] = "预算数"
        ws.merge_cells("E3:E5")
        for col, part in zip("ABC", "类款项"):
            ws[f"{col}5"] = part
        ws.append([201, None, None, "一般公共服务支出", float(sum(leaves.values()))])
        ws.append([None, 6, None, "\u3000财政事务", float(sum(leaves.values()))])
        for code, amount in leaves.items():
            ws.append([None, 6, int(code[-2:]), "\u3000\u3000行政运行", float(amount)])

    (sheet,) = _save(tmp_path, build)
    assert sheet.status == "parsed", sheet.reason
    assert sheet.code_layout == "split"
    codes = {ln.line_code: ln.amount_yuan for ln in sheet.lines}
    assert codes == {"201": sum(leaves.values()) * 10000, "20106": sum(leaves.values()) * 10000,
                     **{c: v * 10000 for c, v in leaves.items()}}


def test_summary_and_debt_items_with_this_year_budget_headers(tmp_path):
    def build(ws):
        ws["A1"] = "宁夏回族自治区民政厅2020年部门收支总表"
        ws["D2"] = "金额单位:万元"
        ws["A3"], ws["C3"] = "收入", "支出"
        ws.merge_cells("A3:B3")
        ws.merge_cells("C3:D3")
        ws.append(["收入项目", "本年预算", "支出项目", "本年预算"])
        ws.append(["一般公共预算拨款", "1,234.50", "社会保障和就业支出", "1,234.50"])
        ws.append(["收入总计", "1,234.50", "支出总计", "1,234.50"])

    (sheet,) = _save(tmp_path, build)
    assert sheet.status == "parsed", sheet.reason
    by_side = {(ln.side, ln.line_label): ln.amount_yuan for ln in sheet.lines}
    assert by_side[("income", "一般公共预算拨款")] == Decimal("12345000.00")
    assert by_side[("expenditure", "支出总计")] == Decimal("12345000.00")


def test_template_wording_of_a_table_name_resolves_to_the_catalogue_name():
    vocab = vocabulary()
    aliases = _read_table_aliases()
    assert aliases
    catalogue_names = {t.table_name for t in vocab.tables}
    for alias, canonical in aliases:
        assert canonical in catalogue_names
        table = vocab.table_for_title(f"宁夏回族自治区水利厅2015年{alias}")
        assert table is not None and table.table_name == canonical, alias
