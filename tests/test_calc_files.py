"""Budget workbooks as LibreOffice Calc saves them (.xls through "MS Excel 97", .xlsx through its own writer, a web
page through "HTML (StarCalc)"), read to what a person opening them sees. LibreOffice is not in CI: the files it wrote are fixtures
(``fixtures/calc_files/MAKE.md``); the same content written by openpyxl is made here."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from dagster_project.ingest.workbook import HIDDEN_SHEET, parse_workbook

CALC_FILES = Path(__file__).parent / "fixtures" / "calc_files"
NAME = "宁夏回族自治区教育厅2019年部门预算"


def _source_module():
    spec = importlib.util.spec_from_file_location("calc_sources", CALC_FILES / "sources.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _lines(sheet):
    return [(line.source_row, line.line_code, line.line_label, line.indent_level, line.column_key, line.amount_yuan)
            for line in sheet.lines]


@pytest.mark.parametrize("made_by", ["calc.xls", "calc.xlsx", "openpyxl.xlsx"])
def test_a_hidden_sheet_is_no_published_table(tmp_path, made_by):
    # a clerk's workbook holding, before the published table, a hidden sheet with an earlier draft of it: read as a
    # table, the draft was a second copy of 一般公共预算支出表 with other figures — and the copy kept of two is the first
    source = _source_module()
    if made_by == "openpyxl.xlsx":
        path = source.build(tmp_path / f"{NAME}.xlsx")
    else:
        path = CALC_FILES / f"hidden_draft.{made_by.split('.')[1]}"
    published = parse_workbook(source.build(tmp_path / "published.xlsx", hidden=False), f"{NAME}.xlsx")
    (table,) = published.sheets
    assert table.status == "parsed" and len(table.lines) > 40

    parsed = parse_workbook(path, f"{NAME}{path.suffix}")
    draft, visible = parsed.sheets
    assert (draft.sheet, draft.status, draft.reason, draft.lines) == ("草稿", "unknown_table", HIDDEN_SHEET, [])
    assert draft.title == table.title  # reported by what it is titled, so a reader of the report can find it
    assert (visible.sheet, visible.status, visible.table_keys) == (table.sheet, "parsed", table.table_keys)
    assert _lines(visible) == _lines(table)
    assert (parsed.entity_name, parsed.fiscal_year, parsed.phase) == (
        published.entity_name, published.fiscal_year, published.phase)


def test_both_xlsx_readers_and_the_xls_reader_tell_a_hidden_sheet():
    from dagster_project.ingest.readers import read_xls, read_xlsx, read_xlsx_openpyxl

    path = CALC_FILES / "hidden_draft.xlsx"
    for grids in (read_xlsx(path, path.name), read_xlsx_openpyxl(path, path.name),
                  read_xls(CALC_FILES / "hidden_draft.xls", "hidden_draft.xls")):
        assert [(grid.name, grid.hidden) for grid in grids] == [("草稿", True), ("5-一般公共预算支出表", False)]


def test_a_workbook_calc_saved_as_a_web_page_reads_every_table(tmp_path):
    # Calc's web page opens with a rule, "Overview" and a link per sheet, a rule: read as the first table's top rows,
    # those lines pushed its title out of reach and 部门收支总表 was lost (an unknown table); and each table's heading
    # "Sheet 2: 2-部门收入总表" was read as its title: the publisher became "Sheet 2: 2"
    source = _source_module().first_tables(tmp_path / f"{NAME}.xlsx")
    page = CALC_FILES / "first_tables_calc_html.xls"
    published = [s for s in parse_workbook(source, source.name).sheets if s.status == "parsed"]
    read = parse_workbook(page, f"{NAME}.xls").sheets
    assert len(published) == 3 and [s.status for s in read] == ["parsed"] * 3
    for table, sheet in zip(published, read):
        assert (sheet.sheet, sheet.table_keys, sheet.title, sheet.entity_name, sheet.fiscal_year, sheet.unit_label) == (
            table.sheet, table.table_keys, table.title, table.entity_name, table.fiscal_year, table.unit_label)
        # the page's leading spaces collapse as a browser shows them: the codes give the items' levels
        assert [(line.line_code, line.line_label, line.column_key, line.amount_yuan) for line in sheet.lines] == \
            [(line.line_code, line.line_label, line.column_key, line.amount_yuan) for line in table.lines]


def test_calc_files_under_a_name_gongkai_does_not_read_are_refused_saying_what_they_are(tmp_path):
    # Calc saves in its own format (.ods) by default, and names an "XML Spreadsheet 2003" .xml: both were refused as
    # an unknown type ("文件类型 .ods 不属于 budget/ 目录可读取的格式"); the clerk now hears what the file is and what
    # to save it as — and the file stays in the manifest, refused whole
    import lzma
    import shutil

    import duckdb

    from dagster_project.ingest import framework
    from dagster_project.ingest.workbook import load_workbook_file

    raw = tmp_path / "raw"
    (raw / "budget").mkdir(parents=True)
    shutil.copy(CALC_FILES / "first_tables.ods", raw / "budget" / f"{NAME}.ods")
    with lzma.open(CALC_FILES / "budget_expenditure_calc2003.xml.xz") as packed, \
            (raw / "budget" / f"{NAME}.xml").open("wb") as out:
        shutil.copyfileobj(packed, out)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        framework.load_family(con, raw, "budget", load_workbook_file, progress=lambda _: None)
        rows = dict(con.execute("select source_file, reason from raw.load_files where status = 'rejected'").fetchall())
    finally:
        con.close()
    assert set(rows) == {f"budget/{NAME}.ods", f"budget/{NAME}.xml"}
    assert "OpenDocument spreadsheet" in rows[f"budget/{NAME}.ods"] and ".xlsx" in rows[f"budget/{NAME}.ods"]
    assert "XML Spreadsheet 2003" in rows[f"budget/{NAME}.xml"]
    assert all("不属于" not in reason for reason in rows.values())
