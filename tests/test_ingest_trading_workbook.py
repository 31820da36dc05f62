"""Trading exports saved as workbooks (the platform's 导出Excel): .xlsx written by openpyxl and .xls by a BIFF writer
(xlwt, as WPS saves it), with what such exports carry — a title row above the header, Chinese labels, dates as date
cells, amounts in 万元 as floating-point numbers, a line break inside a title, a blank row, a bad amount, a second
sheet continuing the first — through the real trading loader into DuckDB."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from openpyxl import Workbook

from dagster_project.ingest import framework
from dagster_project.ingest.trading import load_trading_file
from dagster_project.ingest.trading_workbook import value_text
from dagster_project.sample.formats import save_html_xls, save_spreadsheet_xml, save_xls

HEADER = ["项目编号", "标段(包)编号", "公告类型", "公告标题", "发布时间", "中标金额(万元)", "投标人数"]


def _export(sheets: dict[str, list[list]], title: str | None = "公共资源交易信息导出（2018年）") -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        if title:
            ws.append([title])
            ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
        ws.append(HEADER)
        for row in rows:
            ws.append(row)
    return wb


ROWS = [
    ["W1", "W1-001", "中标结果公告", "银川市教育局\n设备采购中标结果", dt.datetime(2018, 6, 4, 9, 30), 12.345678, 4],
    [None, None, None, None, None, None, None],  # a blank row, as exports leave between groups
    ["W2", "W2-001", "交易公告", "银川市水务局管网改造招标公告", dt.datetime(2018, 7, 1, 10, 0), 0.1 + 0.2, 3],
    ["W3", "W3-001", "中标结果公告", "石嘴山市设备采购结果", dt.datetime(2018, 8, 1, 9, 0), "待定", 2],
]


def _load(raw, wh):
    con = duckdb.connect(str(wh))
    try:
        report = framework.load_family(con, raw, "trading", load_trading_file)
        loaded = {r[0]: r[1:] for r in con.execute(
            "SELECT project_code, source_file, source_row, notice_name, notice_send_time, bid_amount_yuan, bidder_count "
            "FROM raw.trading_bulletins ORDER BY source_file, source_row").fetchall()}
        rejects = con.execute("SELECT source_file, source_row, source_column, raw_value, reason, sheet "
                              "FROM raw.load_rejects ORDER BY source_file, source_row").fetchall()
        files = {r[0]: r[1:] for r in con.execute(
            "SELECT source_file, status, rows_in, rows_loaded, rows_rejected, reason FROM raw.load_files").fetchall()}
    finally:
        con.close()
    return report, loaded, rejects, files


def test_value_text_reads_cells_as_a_person_does():
    assert [value_text(v) for v in (480000.0, 0.1 + 0.2, 12.345678, 3, dt.datetime(2018, 6, 4, 9, 30), "  ", None,
                                    dt.date(2018, 6, 4), 0.00005, 1234567.891)] == \
        ["480000", "0.3", "12.345678", "3", "2018-06-04 09:30:00", None, None, "2018-06-04", "0.00005", "1234567.891"]


@pytest.mark.parametrize("xlsx_name, xls_name", [
    ("交易信息_导出.xlsx", "交易信息_导出.xls"),
    # WPS and users rename workbooks: an .xlsx saved as "….xls", an Excel 97 file named "….xlsx". calamine picks its
    # reader by the name, so both were refused ("Invalid OLE", "Could not find EOCD"): read by content now
    ("导出_实为xlsx.xls", "导出_实为xls.xlsx")])
def test_xlsx_and_xls_exports_load_with_sheet_rows(gongkai_env, xlsx_name, xls_name):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    (raw / "trading").mkdir(parents=True)
    _export({"交易信息": ROWS}).save(raw / "trading" / xlsx_name)
    xls_rows = [[f"X{r[0][1:]}" if r[0] else None, *r[1:]] for r in ROWS]
    save_xls(_export({"Sheet1": xls_rows}), raw / "trading" / xls_name)

    report, loaded, rejects, files = _load(raw, wh)
    assert report.rejected == [], files
    for code, rel in (("W", f"trading/{xlsx_name}"), ("X", f"trading/{xls_name}")):
        # the title row is row 1, the header row 2: records keep the sheet rows Excel shows (the blank row 4 skipped)
        assert loaded[f"{code}1"] == (rel, 3, "银川市教育局\n设备采购中标结果", dt.datetime(2018, 6, 4, 9, 30),
                                      Decimal("123456.78"), 4)
        assert loaded[f"{code}2"][1:] == (5, "银川市水务局管网改造招标公告", dt.datetime(2018, 7, 1, 10, 0),
                                          Decimal("3000.00"), 3)
        assert f"{code}3" not in loaded  # its amount is no number: a row reject naming sheet row 6 and the column
        [reject] = [r for r in rejects if r[0] == rel]
        sheet = "交易信息" if code == "W" else "Sheet1"
        assert reject[1:4] == (6, "中标金额(万元)", "待定") and reject[5] == sheet
        assert reject[4].startswith(f"工作表「{sheet}」第6行")
        status, rows_in, rows_loaded, rows_rejected, reason = files[rel]
        assert (status, rows_in, rows_loaded, rows_rejected) == ("loaded_with_rejects", 3, 2, 1)  # in = loaded + rejected
        assert "表头在第2行" in reason


def test_an_html_table_saved_as_xls_loads_like_the_workbook(gongkai_env):
    # the platform's 导出Excel as many web systems write it: an HTML table (gbk) named .xls
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    (raw / "trading").mkdir(parents=True)
    save_html_xls(_export({"交易信息": ROWS}), raw / "trading" / "交易信息_网页导出.xls")

    report, loaded, rejects, files = _load(raw, wh)
    rel = "trading/交易信息_网页导出.xls"
    assert report.rejected == [], files
    assert loaded["W1"] == (rel, 3, "银川市教育局\n设备采购中标结果", dt.datetime(2018, 6, 4, 9, 30),
                            Decimal("123456.78"), 4)
    assert loaded["W2"][1:] == (5, "银川市水务局管网改造招标公告", dt.datetime(2018, 7, 1, 10, 0), Decimal("3000.00"), 3)
    [reject] = [r for r in rejects if r[0] == rel]
    assert reject[1:4] == (6, "中标金额(万元)", "待定") and reject[5] == "表1"
    assert files[rel][:4] == ("loaded_with_rejects", 3, 2, 1)


def test_a_template_export_over_sheets_streams_in_order(gongkai_env):
    # a Java system's 导出Excel: XML Spreadsheet 2003 named .xls, the export continued on a second sheet after a
    # sheet of notes — read in one pass per part (headers first), records numbered over both sheets
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    (raw / "trading").mkdir(parents=True)
    more = [["W4", "W4-001", "交易公告", "固原市某局招标公告", dt.datetime(2018, 9, 1, 9, 0), None, None]]
    wb = _export({"交易信息": ROWS, "说明": [], "交易信息(2)": more})
    wb["说明"].delete_rows(1, 3)
    wb["说明"]["A1"] = "本表由系统导出"
    save_spreadsheet_xml(wb, raw / "trading" / "交易信息_模板导出.xls")

    report, loaded, rejects, files = _load(raw, wh)
    rel = "trading/交易信息_模板导出.xls"
    assert report.rejected == [], files
    assert loaded["W1"] == (rel, 1, "银川市教育局\n设备采购中标结果", dt.datetime(2018, 6, 4, 9, 30),
                            Decimal("123456.78"), 4)
    assert loaded["W2"][1] == 2 and loaded["W4"][1:3] == (4, "固原市某局招标公告")
    [reject] = [r for r in rejects if r[0] == rel]
    assert reject[1:4] == (3, "中标金额(万元)", "待定") and reject[5] == "交易信息"
    assert files[rel][:4] == ("loaded_with_rejects", 4, 3, 1)
    assert "说明" in files[rel][4] and "交易信息(2)" in files[rel][4]


def test_an_export_continued_on_a_second_sheet_is_one_table(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    (raw / "trading").mkdir(parents=True)
    first = [["S1", "S1-001", "交易公告", "第一页", dt.datetime(2018, 1, 2, 9, 0), 1, 2]]
    second = [["S2", "S2-001", "交易公告", "第二页", dt.datetime(2018, 1, 3, 9, 0), "x", 2],
              ["S3", "S3-001", "交易公告", "第二页", dt.datetime(2018, 1, 4, 9, 0), 2, 2]]
    wb = _export({"Sheet1": first, "Sheet2": second}, title=None)
    wb.create_sheet("说明").append(["本表由平台导出"])  # a note sheet: not a table, said so
    wb.save(raw / "trading" / "big_export.xlsx")

    report, loaded, rejects, files = _load(raw, wh)
    assert {k: v[1] for k, v in loaded.items()} == {"S1": 1, "S3": 3}  # records numbered over both sheets
    # the reject names the sheet and its row; source_row is the record's place among all records
    assert [(r[1], r[2], r[5]) for r in rejects] == [(2, "中标金额(万元)", "Sheet2")]
    assert rejects[0][4].startswith("工作表「Sheet2」第2行")
    reason = files["trading/big_export.xlsx"][-1]
    assert "「Sheet1」→ 第1–1条" in reason and "「Sheet2」→ 第2–3条" in reason and "说明" in reason


def test_a_workbook_without_a_trading_header_is_refused_naming_its_sheets(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    (raw / "trading").mkdir(parents=True)
    wb = Workbook()
    wb.active.title = "预算表"
    wb.active.append(["科目", "金额"])
    wb.save(raw / "trading" / "not_trading.xlsx")
    report, _loaded, _rejects, files = _load(raw, wh)
    assert report.rejected == ["trading/not_trading.xlsx"]
    assert "not a trading export" in files["trading/not_trading.xlsx"][-1] and "预算表" in files["trading/not_trading.xlsx"][-1]


def test_a_sheet_too_large_to_read_is_refused_and_the_rest_loads(gongkai_env, monkeypatch):
    # a sheet over MAX_CELLS is refused whole with "export it as CSV" (one file must not take the run's memory)
    from dagster_project.ingest import trading_workbook

    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    (raw / "trading").mkdir(parents=True)
    _export({"交易信息": ROWS}).save(raw / "trading" / "large.xlsx")
    _export({"交易信息": ROWS[:1]}, title=None).save(raw / "trading" / "small.xlsx")
    monkeypatch.setattr(trading_workbook, "MAX_CELLS", 2 * len(HEADER) * 2)  # the small one: 2 rows of 7 columns
    report, loaded, _rejects, files = _load(raw, wh)
    assert report.rejected == ["trading/large.xlsx"] and "export it as CSV" in files["trading/large.xlsx"][-1]
    assert set(loaded) == {"W1"}


def test_a_damaged_export_is_refused_whole_and_the_rest_loads(gongkai_env):
    # a download cut short: the sheet's XML ends half-way (as a broken transfer leaves it)
    import io
    import zipfile

    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    (raw / "trading").mkdir(parents=True)
    whole = io.BytesIO()
    _export({"交易信息": ROWS}).save(whole)
    cut = io.BytesIO()
    with zipfile.ZipFile(whole) as zin, zipfile.ZipFile(cut, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info, data[: len(data) // 2] if info.filename == "xl/worksheets/sheet1.xml" else data)
    (raw / "trading" / "cut.xlsx").write_bytes(cut.getvalue())
    _export({"交易信息": ROWS[:1]}, title=None).save(raw / "trading" / "good.xlsx")
    report, loaded, _rejects, files = _load(raw, wh)
    assert report.rejected == ["trading/cut.xlsx"] and "not a readable workbook" in files["trading/cut.xlsx"][-1]
    assert set(loaded) == {"W1"}


CALC_FILES = Path(__file__).parent / "fixtures" / "calc_files"  # made by LibreOffice Calc: see MAKE.md there


def test_a_csv_opened_in_calc_and_saved_as_a_workbook_keeps_no_code_it_lost(gongkai_env):
    # Calc (as Excel) opening a trading CSV makes an 18-digit code of digits only a number of 15 significant digits.
    # Written out whole, 916403007668852605 came back as 916403007668852608 from the .xls and …992 from the .xlsx:
    # a code that looks right and is another publisher's (or no one's) — now the exponent form a person sees, with
    # the 15 digits the workbook holds (Calc's two writers round the 15th digit differently: no more is known)
    import csv
    import shutil

    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    (raw / "trading").mkdir(parents=True)
    for suffix in ("xls", "xlsx"):
        shutil.copy(CALC_FILES / f"trading_opened.{suffix}", raw / "trading" / f"trading_opened.{suffix}")
    with (CALC_FILES / "trading_opened.csv").open(encoding="utf-8", newline="") as handle:
        written = list(csv.DictReader(handle))

    report, _, _, _ = _load(raw, wh)
    assert report.rejected == []
    fields = ("tenderer_code", "tender_agency_code", "win_bidder_code", "pm_code")
    con = duckdb.connect(str(wh))
    try:
        loaded = con.execute(f"SELECT source_file, source_row, {', '.join(fields)} FROM raw.trading_bulletins "
                             "ORDER BY source_file, source_row").fetchall()
    finally:
        con.close()
    assert len(loaded) == 2 * len(written)
    for source_file, row, *codes in loaded:
        record = written[row - 2]  # the header is row 1
        for field, code in zip(fields, codes):
            original = record[field.upper()]
            if not original:
                assert code is None
            elif not original.isdigit():
                assert code == original  # 11640000432620297X stayed text
            elif len(original) <= 15:
                assert code == original  # a number of up to 15 digits is the digits written
            else:
                # read as the exponent form with the 15 digits the workbook holds (value_text), which is no code: a
                # party's code so damaged is stored NULL, no long code made up of lost digits (trading_bulletins.yaml)
                assert code is None, (field, code)


@pytest.mark.parametrize("form", ["xlsx", "xml"])
def test_a_hidden_sheet_of_an_older_export_is_not_read(gongkai_env, form):
    # A clerk keeps last month's export in the same workbook as a hidden sheet: no one opening the file sees it, and
    # the budget readers skip such a sheet (test_calc_files); its rows are no bulletins here either, and the note
    # names it. Excel's XML Spreadsheet says so in the sheet's options, written after its table.
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    (raw / "trading").mkdir(parents=True)
    older = [["OLD1", "OLD1-001", "交易公告", "旧导出的公告", dt.datetime(2018, 5, 1, 9, 0), 1.0, 3]]
    wb = _export({"旧版": older, "交易信息": ROWS})
    wb["旧版"].sheet_state = "hidden"
    target = raw / "trading" / "交易信息_导出.xls"
    if form == "xlsx":
        wb.save(target.with_suffix(".xlsx"))
        target = target.with_suffix(".xlsx")
    else:
        save_spreadsheet_xml(wb, target)
        text = target.read_text(encoding="utf-8")
        first_table_end = text.index("</Table>") + len("</Table>")
        target.write_text(text[:first_table_end] + '<WorksheetOptions xmlns="urn:schemas-microsoft-com:office:excel">'
                          "<Visible>SheetHidden</Visible></WorksheetOptions>" + text[first_table_end:], encoding="utf-8")
    report, loaded, rejects, files = _load(raw, wh)
    assert report.rejected == []
    assert sorted(loaded) == ["W1", "W2"]              # W3's 待定 is a reject; OLD1 is not read
    (status, *_, reason), = files.values()
    assert status.startswith("loaded") and "隐藏的工作表未读取 (hidden sheets, not read): 旧版" in reason
    assert "没有交易表头" not in reason        # it is not said to lack a trading header: it has one
