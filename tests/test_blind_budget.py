"""Budget disclosures written from the contract, not from the sample (wave 12, blind probes): ``blind_disclosure.py``
builds a department's 2025 budget as the current Ministry template lays it out; here it is printed and saved the ways
publishers do, and each form must read like the same tables saved as a workbook.

- Chromium printing with its own page header and footer (the date and the document's title at the top, the file's
  address and ``7/17`` at the foot): the foot differs on every page only by its number; taken for text, it closed
  the table at each page's end and the table's further pages were lost.
- Chromium with a Simplified-Chinese CJK font writes 户 as the Kangxi radical U+2F3E, which NFKC folds to the
  traditional 戶: 财政专户 must read as a person reads it.
- A Word document under a workbook's name (``.xlsx``; a Word 97 ``.doc`` as ``.xls``) is refused as the Word document
  it is, naming the accepted forms, not as "no valid workbook part".
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from blind_disclosure import disclosure_html, write_workbook
from dagster_project.ingest.framework import FileRejected
from dagster_project.ingest.workbook import parse_workbook
from dagster_project.sample.formats import chromium

FIXTURES = Path(__file__).parent / "fixtures"
needs_chromium = pytest.mark.skipif(chromium() is None, reason="headless Chromium is not installed (make browser)")


def _print_with_page_furniture(html_text: str, tmp_path: Path) -> Path:
    """Chromium's print as a person gets it from Ctrl+P with “Headers and footers” on: no --no-pdf-header-footer."""
    page, target = tmp_path / "预算.html", tmp_path / "printed.pdf"
    page.write_text(html_text, encoding="utf-8")
    subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path}/profile",
                    f"--print-to-pdf={target}", page.as_uri()], check=True, capture_output=True, timeout=120)
    return target


def _facts(parsed) -> dict:
    """Every figure of every table by (table, side, code or label without spaces, row key, column), and each table's
    unit, code layout and empty/note state."""
    out = {}
    for s in parsed.sheets:
        if s.status != "parsed":
            continue
        key = s.table_keys[-1]
        out[(key, "#table")] = (s.unit_label, s.code_layout, s.is_empty, s.has_empty_note, s.entity_name, s.fiscal_year)
        for line in s.lines:
            label = re.sub(r"\s", "", line.line_label or "")
            out[(key, line.side, line.line_code or label, line.row_key, line.column_key)] = line.amount_yuan
    return out


@needs_chromium
def test_chromium_print_with_its_header_and_footer_reads_like_the_workbook(tmp_path):
    workbook = tmp_path / "预算.xlsx"
    write_workbook(workbook)
    printed = parse_workbook(_print_with_page_furniture(disclosure_html(), tmp_path))
    expected = _facts(parse_workbook(workbook))
    got = _facts(printed)
    assert {k: v for k, v in got.items() if got.get(k) != expected.get(k)} == {}
    assert got == expected
    spread = {s.table_keys[-1]: s.sheet for s in printed.sheets}
    assert re.search(r"第\d+-\d+页", spread["dept_expenditure"]), spread  # the table does run over pages
    assert printed.fiscal_year == 2025 and printed.entity_name == "宁夏回族自治区卫生健康委员会"


@needs_chromium
def test_chromium_cjk_sc_print_reads_hu_as_printed(tmp_path):
    printed = parse_workbook(_print_with_page_furniture(disclosure_html(), tmp_path))
    labels = {line.line_label for s in printed.sheets for line in s.lines}
    assert "四、财政专户管理资金收入" in labels, sorted(x for x in labels if x and "财政专" in x)


@pytest.mark.parametrize("fixture, name", [("pdf_writer/disclosure.docx", "2025年部门预算.xlsx"),
                                           ("blind_budget/notice.doc", "2025年部门预算.xls")])
def test_a_word_document_under_a_workbook_name_is_refused_as_word(tmp_path, fixture, name):
    path = tmp_path / name
    shutil.copyfile(FIXTURES / fixture, path)
    with pytest.raises(FileRejected) as refused:
        parse_workbook(path)
    reason = str(refused.value)
    assert "Word文档" in reason and "a Word document" in reason, reason
    assert ".xlsx" in reason and "text PDF" in reason  # the accepted forms are named


@pytest.mark.parametrize("title_year, prefix, name", [
    ("2024年度", "单位", "收入支出决算总表"), ("2024年", "部门", "支出决算表"), ("2019年", "部门", "一般公共预算支出表"),
    ("2025年", "预算单位", "一般公共预算支出表")])
def test_a_template_title_without_entity_takes_the_publisher_line_not_its_prefix(tmp_path, title_year, prefix, name):
    """The Ministry template's titles name no entity ('2024年度单位收入支出决算总表'): the 单位/部门 before the table name is
    the template's prefix, and the publisher line (编制单位：…) names who published."""
    entity = "宁夏回族自治区疾病预防控制中心"
    table = dict(name=f"{title_year}{prefix}{name}", publisher=f"编制单位：{entity}", unit="金额单位：万元",
                 head=[[("科目编码", 1, 1), ("科目名称", 1, 1), ("合计", 1, 1), ("基本支出", 1, 1), ("项目支出", 1, 1)]],
                 rows=[["", "合计", "30.00", "10.00", "20.00"], ["2100401", "疾病预防控制机构", "30.00", "10.00", "20.00"]])
    if "总表" in name:
        table.update(head=[[("项目", 1, 1), ("决算数", 1, 1), ("项目", 1, 1), ("决算数", 1, 1)]],
                     rows=[["本年收入合计", "30.00", "本年支出合计", "30.00"], ["总计", "30.00", "总计", "30.00"]])
    path = tmp_path / "决算.xlsx"
    write_workbook(path, [table])
    parsed = parse_workbook(path)
    assert [(s.status, s.entity_name) for s in parsed.sheets] == [("parsed", entity)]
    assert parsed.entity_name == entity


FINAL_EXPLANATIONS = [
    ("第一部分　单位概况", None), ("一、主要职能", "承担全区疾病预防控制工作。"), ("二、机构设置", "内设科室20个。"),
    ("第二部分　2024年度单位决算情况说明", None),
    ("一、收入支出决算总体情况说明", "2024年度收入总计{total}万元，支出总计{total}万元。"),
    ("二、“三公”经费财政拨款支出决算情况说明", "2024年度“三公”经费财政拨款支出决算为17.50万元，完成预算的87.5%。"),
    ("三、政府采购支出情况说明", "2024年度政府采购支出总额500.00万元，其中：政府采购货物支出300.00万元。"),
    ("四、国有资产占用情况说明", "截至2024年12月31日，资产总额合计2,000.00万元，共有车辆6辆。"),
]
FINAL_TABLES = [
    dict(name="2024年度单位收入支出决算总表", publisher="编制单位：宁夏回族自治区疾病预防控制中心", unit="金额单位：万元",
         head=[[("收入", 2, 1), ("支出", 2, 1)], [("项目", 1, 1), ("决算数", 1, 1), ("项目", 1, 1), ("决算数", 1, 1)]],
         rows=[["一、一般公共预算财政拨款收入", "4,403.88", "一、卫生健康支出", "4,403.88"],
               ["本年收入合计", "4,403.88", "本年支出合计", "4,403.88"], ["总计", "4,403.88", "总计", "4,403.88"]]),
    dict(name="2024年度单位一般公共预算财政拨款“三公”经费支出决算表", publisher="编制单位：宁夏回族自治区疾病预防控制中心",
         unit="金额单位：万元",
         head=[[("预算数", 6, 1), ("决算数", 6, 1)],
               [("合计", 1, 2), ("因公出国（境）费", 1, 2), ("公务用车购置及运行费", 3, 1), ("公务接待费", 1, 2)] * 2,
               [("小计", 1, 1), ("购置费", 1, 1), ("运行费", 1, 1)] * 2],
         rows=[["20.00", "5.00", "12.00", "0.00", "12.00", "3.00", "17.50", "4.20", "11.10", "0.00", "11.10", "2.20"]]),
]


@needs_chromium
def test_a_final_accounts_narrative_states_its_totals_and_not_the_procurement_total_as_one(tmp_path):
    """决算 wording: ‘“三公”经费财政拨款支出决算为17.50万元’ is the 三公 total; ‘政府采购支出总额500.00万元’ under 政府采购 and
    the assets' ‘资产总额合计’ are their sections' own figures, not the expenditure or income total the tables hold."""
    html_text = disclosure_html(FINAL_TABLES, FINAL_EXPLANATIONS, "宁夏回族自治区疾病预防控制中心", "2024年度单位决算")
    parsed = parse_workbook(_print_with_page_furniture(html_text, tmp_path))
    stated = sorted((s.statement_key, s.section, s.amount_yuan) for s in parsed.statements if s.amount_yuan is not None)
    assert stated == [("expenditure_total", "决算编制说明", 44038800), ("income_total", "决算编制说明", 44038800),
                      ("sangong_total", "“三公”经费情况说明", 175000)]
    sangong = next(s for s in parsed.sheets if s.table_keys[-1] == "deptf_sangong")
    assert next(line.amount_yuan for line in sangong.lines if line.column_key == "total") == 175000
    assert {s.table_name for s in parsed.sections} >= {"政府采购情况说明", "国有资产占用情况说明", "“三公”经费情况说明"}


def test_a_writer_pdf_whose_footer_runs_the_page_number_into_its_text_reads_like_the_workbook(tmp_path):
    """LibreOffice Writer (fixtures/blind_budget/MAKE.md) sets the footer ``<department>　　第 N 页`` as one run without
    the spaces, ``…委员会第 7 页``: still a running foot, so the 支出总表 goes on over its next page."""
    import sys

    sys.path.insert(0, str(FIXTURES / "blind_budget"))
    from make_writer_footer import fixture_tables

    workbook = tmp_path / "预算.xlsx"
    write_workbook(workbook, fixture_tables())
    printed = parse_workbook(FIXTURES / "blind_budget" / "writer_footer.pdf")
    assert _facts(printed) == _facts(parse_workbook(workbook))
    assert [s.sheet for s in printed.sheets] == ["表1（第2-3页）", "表2（第4页）"]


def test_a_calc_print_of_a_two_sided_summary_wider_than_the_paper_reads_like_the_workbook(tmp_path):
    """LibreOffice Calc (fixtures/blind_budget/MAKE.md) prints 收入 | 预算数 on page 1 and 支出 | 预算数 with the unit line on
    page 2, both with the same column rules (the columns repeat their widths): page 1 ends far above its foot, so page
    2 is its columns to the right, not its next rows — read apart, the expenditure side and the unit were lost."""
    import sys

    sys.path.insert(0, str(FIXTURES / "blind_budget"))
    from make_calc_wide import fixture_tables

    workbook = tmp_path / "预算.xlsx"
    write_workbook(workbook, fixture_tables("calc_summary"))
    printed = parse_workbook(FIXTURES / "blind_budget" / "calc_summary.pdf")
    assert _facts(printed) == _facts(parse_workbook(workbook))
    assert [s.sheet for s in printed.sheets] == ["表1（第1页，右侧各列在第2页）"]


def test_a_calc_print_of_the_sangong_table_over_three_pages_keeps_its_unit_and_header(tmp_path):
    """The 三公 table in 万元, seven columns, printed by Calc over three pages side by side: page 2 cuts the two-level
    header (公务用车购置及运行费 over 小计 | 购置费 | 运行费, beside 合计 merged down two rows on page 1) and page 3
    holds 机关运行经费预算数 under `单位：万元`, a line at a height where page 2 has none. Read apart, the figures were
    taken in 元 (58.36 元 for 583,600 元) and the vehicle columns were lost."""
    import sys

    sys.path.insert(0, str(FIXTURES / "blind_budget"))
    from make_calc_wide import fixture_tables

    workbook = tmp_path / "预算.xlsx"
    write_workbook(workbook, fixture_tables("calc_sangong"))
    printed = parse_workbook(FIXTURES / "blind_budget" / "calc_sangong.pdf")
    assert _facts(printed) == _facts(parse_workbook(workbook))
    assert [(s.sheet, s.unit_label) for s in printed.sheets] == [("表1（第1页，右侧各列在第2-3页）", "万元")]
