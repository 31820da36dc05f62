"""Budget and debt files in the forms publishers send, through one recogniser: a disclosure PDF printed from
HTML by headless Chromium (a table over three pages with its header repeated, a 三公 table in 万元 inside a 元
book, an empty table with its note, page numbers and a running head, narrative sections), the same tables as
.xls written by a BIFF writer and as .xlsx, the Ministry's debt layout, and the forms refused whole (scanned,
encrypted PDFs and workbooks, Word/WPS). Each layer is also tested on its own input: the segmenter on page items, the narrative
reader on text lines, the radical folding on characters, the parse cache on files."""
from __future__ import annotations

import base64
import struct
import zlib
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from openpyxl import Workbook
from openpyxl.styles import Alignment

from dagster_project.ingest import framework
from dagster_project.ingest.grid import TextBlock, unify_ideographs
from dagster_project.ingest.narrative import read_narrative
from dagster_project.ingest.pdf_reader import PageItem, PdfDocument
from dagster_project.ingest.segmenter import segment
from dagster_project.ingest.workbook import load_workbook_file, parse_workbook
from dagster_project.ingest.workbook_spec import vocabulary
from dagster_project.sample.formats import chromium, print_pdf, save_html_xls, save_spreadsheet_xml, save_xls

needs_chromium = pytest.mark.skipif(chromium() is None, reason="headless Chromium is not installed (make browser)")
ENTITY = "宁夏回族自治区水利厅"
# 60 项 rows under one 款: enough to run a 元 table over three A4 landscape pages
LEAVES = {f"21303{i:02d}": (Decimal(1_000_000 + i * 12_345), Decimal(i * 1_000)) for i in range(1, 61)}
CSS = """@page { size: A4 landscape; margin: 15mm;
  @top-center { content: "宁夏回族自治区水利厅2025年部门预算"; } @bottom-center { content: "- " counter(page) " -"; } }
body { font-family: 'Noto Sans CJK SC', sans-serif; font-size: 11pt; } table { border-collapse: collapse; width: 100%; }
td, th { border: 1px solid #000; padding: 3pt; } thead { display: table-header-group; } h3 { text-align: center; }
.u { display: flex; justify-content: space-between; } .t { page-break-before: always; }"""


def money(v: Decimal) -> str:
    return f"{v:,.2f}"


def disclosure_html(tbd_code: str | None = None) -> str:
    body = []
    for code, (basic, project) in LEAVES.items():
        total = money(basic + project) if code != tbd_code else "待定"
        body.append(f"<tr><td>213</td><td>03</td><td>{code[-2:]}</td><td>水利项目{code[-2:]}</td>"
                    f"<td>{total}</td><td>{money(basic)}</td><td>{money(project)}</td></tr>")
    body.append("<tr><td>…</td><td></td><td></td><td>…</td><td></td><td></td><td></td></tr>")   # template placeholder
    expenditure = (
        "<section class='t'><h3>2025年部门支出预算总表</h3><div class='u'><span>编制部门：宁夏回族自治区水利厅</span>"
        "<span>单位：元</span></div><table><thead>"
        "<tr><th colspan='3'>功能分类科目编码</th><th rowspan='2'>科目名称</th><th rowspan='2'>合计</th>"
        "<th rowspan='2'>基本支出</th><th rowspan='2'>项目支出</th></tr><tr><th>类</th><th>款</th><th>项</th></tr>"
        f"</thead><tbody>{''.join(body)}</tbody></table></section>")
    sangong = (
        "<section class='t'><h3>2025年“三公”经费和机关运行经费预算表</h3><div class='u'><span>编制部门：宁夏回族自治区水利厅"
        "</span><span>单位：万元</span></div><table><thead>"
        "<tr><th rowspan='3'>单位名称</th><th colspan='6'>“三公”经费预算数</th><th rowspan='3'>机关运行经费预算数</th></tr>"
        "<tr><th rowspan='2'>合计</th><th rowspan='2'>因公出国（境）费</th><th rowspan='2'>公务接待费</th>"
        "<th colspan='3'>公务用车购置及运行费</th></tr><tr><th>小计</th><th>购置费</th><th>运行费</th></tr></thead>"
        "<tbody><tr><td>宁夏回族自治区水利厅</td><td>58.30</td><td>10.00</td><td>8.30</td><td>40.00</td><td>25.00</td>"
        "<td>15.00</td><td>212.86</td></tr></tbody></table></section>")
    empty = (
        "<section class='t'><h3>2025年政府性基金预算支出功能分类预算表</h3><div class='u'><span>编制部门：宁夏回族自治区水利厅"
        "</span><span>单位：元</span></div><table><thead><tr><th>科目编码</th><th>科目名称</th><th>合计</th></tr></thead>"
        "<tbody><tr><td></td><td>合计</td><td>0</td></tr></tbody></table>"
        "<p>注：本部门2025年无政府性基金预算支出，故本表为空表。</p></section>")
    narrative = (
        "<section class='t'><h2>第一部分 部门概况</h2><h3>一、主要职能</h3><p>负责全区水资源管理。</p>"
        "<h3>二、机构设置</h3><p>内设处室八个。</p></section>"
        "<section class='t'><h2>第三部分 2025年部门预算情况说明</h2><h3>一、关于2025年收支预算情况的总体说明</h3>"
        "<p>2025年收入预算总计1,234.56万元，与2024年相比增加10%。</p>"
        "<p>1.一般公共预算拨款收入1,000.00万元。</p><h3>二、“三公”经费预算情况说明</h3>"
        "<p>2025年“三公”经费预算数为58.30万元。</p></section>")
    return (f"<!doctype html><html><head><meta charset='utf-8'><style>{CSS}</style></head><body>"
            f"<h1>宁夏回族自治区水利厅2025年部门预算</h1>{narrative}{expenditure}{sangong}{empty}</body></html>")


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> Path:
    if chromium() is None:
        pytest.skip("headless Chromium is not installed (make browser)")
    out = tmp_path_factory.mktemp("pdf") / "水利厅2025年部门预算.pdf"
    print_pdf(disclosure_html(tbd_code="2130342"), out)
    return out


@needs_chromium
def test_pdf_tables_over_pages_every_amount_as_printed(printed):
    parsed = parse_workbook(printed)
    assert parsed.file_format == "pdf" and parsed.page_count >= 5
    tables = {s.table_name: s for s in parsed.sheets}
    assert set(tables) == {"部门支出总表", "一般公共预算“三公”经费支出表", "政府性基金预算支出表"}
    assert all(s.status == "parsed" and s.entity_name == ENTITY and s.fiscal_year == 2025 for s in parsed.sheets)
    exp = tables["部门支出总表"]
    pages = {ln.source_page for ln in exp.lines}
    assert len(pages) >= 3 and exp.sheet.startswith("表1（第") and exp.code_layout == "split" and exp.unit_label == "元"
    # 60 data rows in, none of them a repeated header, a page number, the running head or the placeholder row
    assert exp.rows_in == 60 and exp.rows_rejected == 1 and exp.rows_loaded == 59
    got = {(ln.line_code, ln.column_key): ln.amount_yuan for ln in exp.lines}
    for code, (basic, project) in LEAVES.items():
        if code != "2130342":   # the row with 待定 is rejected whole: none of its cells is loaded
            assert (got[(code, "total")], got[(code, "basic")], got[(code, "project")]) == (basic + project, basic, project)
    (reject,) = exp.rejects
    # row 42 of 60 stands on a continuation page: the reject names that page, the row and the column
    assert reject.raw_value == "待定" and reject.source_column == "E" and reject.sheet == exp.sheet
    assert min(pages) < reject.source_page <= max(pages) and f"第{reject.source_page}页" in reject.reason
    assert "E列「合计」" in reject.reason and f"第{reject.source_row}行" in reject.reason
    sangong = tables["一般公共预算“三公”经费支出表"]
    assert sangong.unit_label == "万元"   # one table in 万元 inside a 元 book
    values = {ln.column_key: ln.amount_yuan for ln in sangong.lines}
    assert values == {"total": Decimal("583000.00"), "overseas": Decimal("100000.00"), "reception": Decimal("83000.00"),
                      "vehicle": Decimal("400000.00"), "vehicle_purchase": Decimal("250000.00"),
                      "vehicle_running": Decimal("150000.00"), "office_running": Decimal("2128600.00")}
    empty = tables["政府性基金预算支出表"]
    assert empty.is_empty and empty.has_empty_note
    # the narrative: sections present (and only those), the figures and years its 编制说明 states
    assert {s.table_name for s in parsed.sections} == {"部门主要职能", "机构设置", "预算编制说明", "“三公”经费情况说明"}
    stated = {(s.statement_key, s.amount_yuan, s.year_named) for s in parsed.statements}
    assert ("income_total", Decimal("12345600.00"), None) in stated
    assert ("sangong_total", Decimal("583000.00"), None) in stated
    assert {y for k, _, y in stated if k == "year_named"} == {2024, 2025}
    assert all(s.source_page for s in parsed.statements)


# The same disclosure printed without the grid: a three-line table (三线表: rules above and below the header and at
# the foot), rules between rows only, no rules at all (an HTML table without borders). Before pdf_unruled.py every
# figure of those tables was lost: pdfplumber finds cells only from drawn lines.
UNRULED_CSS = {
    "three_line": "td, th { border: none; padding: 3pt; } table { border-top: 1.5px solid #000; "
                  "border-bottom: 1.5px solid #000; } thead tr:last-child th { border-bottom: 1px solid #000; }",
    "rows_only": "td, th { border: none; border-bottom: 1px solid #000; padding: 3pt; }",
    "no_rules": "td, th { border: none; padding: 3pt; }",
}


@needs_chromium
def test_landscape_pages_stored_rotated_read_as_printed(printed, tmp_path):
    # a landscape table kept as a portrait page drawn sideways and shown upright by /Rotate (as PDF printers and
    # page-rotating tools save it): pdfminer reports some of its rules as curves, and the cells they bound (类 | 款 |
    # 项, 科目名称) merged — the table's codes were lost
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(str(printed)))
    for page in writer.pages:
        page.rotate(90)
        page.transfer_rotation_to_content()  # the content now drawn sideways on a portrait page …
        page.rotate(270)  # … which the viewer turns upright
    rotated = tmp_path / "rotated.pdf"
    with rotated.open("wb") as handle:
        writer.write(handle)
    assert all(page.rotation == 270 for page in PdfReader(str(rotated)).pages)

    def view(parsed):
        return {s.table_name: (s.status, s.unit_label, s.code_layout, s.rows_in, s.rows_rejected,
                               sorted(((ln.line_code or ""), ln.column_key, ln.amount_yuan, ln.source_page)
                                      for ln in s.lines)) for s in parsed.sheets}
    assert view(parse_workbook(rotated)) == view(parse_workbook(printed))


LONG_NAME = "水利工程建设与运行维护管理及农村饮水安全巩固提升工程项目专项资金"


@needs_chromium
@pytest.mark.parametrize("variant", sorted(UNRULED_CSS))
def test_tables_printed_without_rules_read_as_the_ruled_ones(tmp_path, variant):
    ruled_css = "td, th { border: 1px solid #000; padding: 3pt; }"
    # one item name wrapped over five lines in a narrow column (centred vertically: it starts above its figures)
    html = disclosure_html(tbd_code="2130342").replace("水利项目05", LONG_NAME).replace(
        "table { border-collapse: collapse; width: 100%; }",
        "table { border-collapse: collapse; width: 100%; } td:nth-child(4) { width: 6em; }")
    assert ruled_css in html
    printed_ruled, out = tmp_path / "ruled.pdf", tmp_path / f"{variant}.pdf"
    print_pdf(html, printed_ruled)
    print_pdf(html.replace(ruled_css, UNRULED_CSS[variant]), out)

    def view(parsed):  # pages aside: rules make rows a pixel taller, so a page may break one row earlier
        return {s.table_name: (s.status, s.unit_label, s.code_layout, s.rows_in, s.rows_rejected,
                               sorted(((ln.line_code or ""), ln.column_key, ln.amount_yuan) for ln in s.lines),
                               [(r.source_column, r.raw_value) for r in s.rejects])
                for s in parsed.sheets}
    ruled, unruled = parse_workbook(printed_ruled), parse_workbook(out)
    assert view(unruled) == view(ruled)
    assert {s.table_name for s in unruled.sections} == {s.table_name for s in ruled.sections}
    (exp,) = [s for s in unruled.sheets if s.table_name == "部门支出总表"]
    assert (exp.rows_in, exp.rows_rejected) == (60, 1)
    assert {ln.line_label for ln in exp.lines if ln.line_code == "2130305"} == {LONG_NAME}


def _png(width: int = 240, height: int = 120) -> bytes:
    raw = b"".join(b"\x00" + bytes([(x * 7 + y * 3) % 256 for x in range(width)]) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@needs_chromium
def test_scanned_and_encrypted_pdfs_are_refused_saying_so(printed, tmp_path):
    scanned = tmp_path / "scan.pdf"
    image = base64.b64encode(_png()).decode()
    print_pdf(f"<html><body style='margin:0'><img src='data:image/png;base64,{image}' width='700'></body></html>", scanned)
    with pytest.raises(framework.FileRejected, match="扫描件.*没有文字层") as err:
        parse_workbook(scanned)
    assert "scanned PDF" in str(err.value) and ".xls" in str(err.value) and "PDF" in str(err.value)
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(str(printed)).pages:
        writer.add_page(page)
    writer.encrypt(user_password="secret", owner_password="owner")
    locked = tmp_path / "locked.pdf"
    with locked.open("wb") as handle:
        writer.write(handle)
    with pytest.raises(framework.FileRejected, match="加密") as err:
        parse_workbook(locked)
    assert "encrypted PDF" in str(err.value) and ".xlsx" in str(err.value)


@needs_chromium
def test_a_pdf_whose_fonts_have_no_unicode_map_is_refused_and_one_with_owner_rights_reads(printed, tmp_path):
    # fonts embedded without ToUnicode (some PDF printers): the text layer is glyph numbers "(cid:144)…"; the file
    # read as having no table and no section — findings said "missing" where the truth is "unreadable"
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(str(printed)))
    for page in writer.pages:
        for font in page["/Resources"].get_object().get("/Font", {}).values():
            font.get_object().pop("/ToUnicode", None)
    unmapped = tmp_path / "unmapped.pdf"
    with unmapped.open("wb") as handle:
        writer.write(handle)
    with pytest.raises(framework.FileRejected, match="没有Unicode映射") as err:
        parse_workbook(unmapped)
    assert "text cannot be extracted" in str(err.value)
    # printing and copying restricted by an owner password only: every reader opens it, so gongkai reads it
    writer = PdfWriter(clone_from=PdfReader(str(printed)))
    writer.encrypt(user_password="", owner_password="owner", permissions_flag=-3904)
    restricted = tmp_path / "restricted.pdf"
    with restricted.open("wb") as handle:
        writer.write(handle)
    assert [s.table_name for s in parse_workbook(restricted).sheets] == [s.table_name for s in parse_workbook(printed).sheets]


def test_a_workbook_saved_with_a_password_is_refused_saying_so(tmp_path):
    # Excel/WPS wrap a password-protected .xlsx in an OLE2 file (EncryptionInfo + EncryptedPackage, MS-OFFCRYPTO):
    # it sniffs as .xls; the clerk must hear "password", not "not an .xls workbook"
    import io

    import msoffcrypto

    plain = io.BytesIO()
    _sheet_workbook().save(plain)
    plain.seek(0)
    locked = tmp_path / "加密的部门预算.xlsx"
    with locked.open("wb") as handle:
        msoffcrypto.OfficeFile(plain).encrypt("secret", handle)
    assert locked.read_bytes()[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    with pytest.raises(framework.FileRejected, match="加密的工作簿") as err:
        parse_workbook(locked)
    assert "encrypted workbook" in str(err.value) and "password" in str(err.value)


# The sheet of ``_sheet_workbook`` as Excel 2016's "Save as Web Page" writes it (gbk): Office namespaces and a
# conditional-comment workbook block, classes and mso- styles, <col> widths, displayed numbers with x:num beside
# them, an indent as mso-char-indent-count (no spaces), empty cells, and the closing display:none row of widths.
EXCEL_WEB_PAGE = """<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office"
xmlns:x="urn:schemas-microsoft-com:office:excel" xmlns="http://www.w3.org/TR/REC-html40">
<head><meta http-equiv=Content-Type content="text/html; charset=gb2312"><meta name=ProgId content=Excel.Sheet>
<meta name=Generator content="Microsoft Excel 15"><style id="a_1234_Styles"><!--table {mso-displayed-decimal-separator:"\\.";}
.xl65 {mso-number-format:"0\\.00";} .xl66 {mso-char-indent-count:1;}--></style></head>
<body link=blue vlink=purple><!--[if !excel]>&nbsp;&nbsp;<![endif]--><!--下列信息由 Microsoft Excel 的发布为网页向导生成。-->
<div id="a_1234" align=center x:publishsource="Excel">
<table border=0 cellpadding=0 cellspacing=0 width=400 style='border-collapse:collapse;table-layout:fixed;width:300pt'>
 <col width=80 span=5 style='width:60pt'>
 <tr height=19 style='height:14.25pt'>
  <td colspan=5 height=19 class=xl67 width=400 style='height:14.25pt;width:300pt'>宁夏回族自治区水利厅2019年一般公共预算支出表</td>
 </tr>
 <tr height=19 style='height:14.25pt'>
  <td height=19 style='height:14.25pt'>编制单位：宁夏回族自治区水利厅</td><td></td><td></td><td></td><td>单位：万元</td>
 </tr>
 <tr height=19 style='height:14.25pt'>
  <td rowspan=2 height=38 class=xl68 style='height:28.5pt'>科目编码</td><td rowspan=2 class=xl68>科目名称</td>
  <td colspan=3 class=xl68 style='border-left:none'>本年预算</td>
 </tr>
 <tr height=19 style='height:14.25pt'><td height=19 style='height:14.25pt'>合计</td><td>基本支出</td><td>项目支出</td></tr>
 <tr height=19 style='height:14.25pt'><td height=19 style='height:14.25pt'></td><td>合计</td>
  <td class=xl65 align=right x:num="30.5">30.50</td><td x:str>20.25</td><td class=xl65 align=right x:num>10.25</td></tr>
 <tr height=19 style='height:14.25pt'><td height=19 style='height:14.25pt' x:str>213</td><td>农林水支出</td>
  <td class=xl65 align=right x:num="30.5">30.50</td><td class=xl65 align=right x:num>20.25</td><td x:str>10.25</td></tr>
 <tr height=19 style='height:14.25pt'><td height=19 style='height:14.25pt' x:str>21303</td><td>　水利</td>
  <td class=xl65 align=right x:num="30.5">30.50</td><td class=xl65 align=right x:num>20.25</td>
  <td class=xl65 align=right x:num>10.25</td></tr>
 <tr height=19 style='height:14.25pt'><td height=19 style='height:14.25pt' x:str>2130301</td>
  <td class=xl66 style='padding-left:24px;mso-char-indent-count:2'>　　行政运行</td>
  <td class=xl65 align=right x:num>20.25</td><td class=xl65 align=right x:num>20.25</td><td>-</td></tr>
 <tr height=19 style='height:14.25pt'><td height=19 style='height:14.25pt' x:str>2130302</td><td>　　一般行政管理事务</td>
  <td x:str>10.25</td><td></td><td class=xl65 align=right x:num>10.25</td></tr>
 <tr height=19 style='height:14.25pt'><td height=19 style='height:14.25pt'>注：本表金额保留两位小数。</td><td></td><td></td>
  <td></td><td></td></tr>
 <![if supportMisalignedColumns]>
 <tr height=0 style='display:none'><td width=80 style='width:60pt'></td><td width=80 style='width:60pt'></td>
  <td width=80 style='width:60pt'></td><td width=80 style='width:60pt'></td><td width=80 style='width:60pt'></td></tr>
 <![endif]>
</table></div></body></html>
"""


def test_excel_save_as_web_page_reads_like_the_xlsx(tmp_path):
    wb = _sheet_workbook()
    wb["表5"]["B8"].alignment = Alignment(indent=2)
    wb.save(tmp_path / "a.xlsx")
    (tmp_path / "a.xls").write_bytes(EXCEL_WEB_PAGE.encode("gb18030"))
    xlsx, page = parse_workbook(tmp_path / "a.xlsx"), parse_workbook(tmp_path / "a.xls")
    assert page.file_format == "html"

    def view(parsed):
        (s,) = parsed.sheets
        return (s.table_name, s.fiscal_year, s.unit_label, s.header_row_count, s.rows_in, s.rows_rejected,
                sorted((ln.source_row, ln.line_code, ln.column_key, ln.amount_yuan, ln.indent_level) for ln in s.lines))
    assert view(page) == view(xlsx)
    # the grid as Excel shows the sheet: its indent from the style, the hidden row of column widths not a row
    from dagster_project.ingest.html_tables import read_html_tables

    (grid,) = read_html_tables(tmp_path / "a.xls", "a.xls")
    assert len(grid.rows) == 10 and grid.indents == {(7, 1): 2}


def test_word_wps_and_fake_files_are_refused_whole_and_still_present(tmp_path):
    raw = tmp_path / "raw"
    (raw / "budget").mkdir(parents=True)
    for name in ("说明.doc", "说明.docx", "公开.wps", "报表.et"):
        (raw / "budget" / name).write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    # a portal's error page saved under the attachment's name: as .pdf, and as .xls (no table in it)
    (raw / "budget" / "假的.pdf").write_text("<html>附件不存在</html>", encoding="utf-8")
    (raw / "budget" / "假的.xls").write_text("<!DOCTYPE html><html><head><title>404</title></head><body><h1>附件不存在"
                                           "或已被删除</h1></body></html>", encoding="utf-8")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        framework.load_family(con, raw, "budget", load_workbook_file, progress=lambda _: None)
        rows = dict(con.execute("select source_file, reason from raw.load_files where status = 'rejected'").fetchall())
    finally:
        con.close()
    # present in the manifest (so never 'attachment not in the raw root'), refused with the exact reason
    assert set(rows) == {f"budget/{n}" for n in ("说明.doc", "说明.docx", "公开.wps", "报表.et", "假的.pdf", "假的.xls")}
    assert "Word" in rows["budget/说明.doc"] and "Word" in rows["budget/说明.docx"]
    assert "WPS Writer" in rows["budget/公开.wps"] and "WPS Spreadsheets" in rows["budget/报表.et"]
    assert "not a valid PDF file (it is a web page" in rows["budget/假的.pdf"]
    assert "HTML page holding no table" in rows["budget/假的.xls"]
    assert all(".xlsx/.xlsm" in r and ".xls" in r and "PDF" in r for r in rows.values())


def _sheet_workbook() -> Workbook:
    wb = Workbook()
    ws = wb.active
    ws.title = "表5"
    ws.append([f"{ENTITY}2019年一般公共预算支出表"])
    ws.merge_cells("A1:E1")
    ws.append(["编制单位：" + ENTITY, None, None, None, "单位：万元"])
    ws.append(["科目编码", "科目名称", "本年预算", None, None])
    ws.append([None, None, "合计", "基本支出", "项目支出"])
    ws.merge_cells("A3:A4")
    ws.merge_cells("B3:B4")
    ws.merge_cells("C3:E3")
    ws.append([None, "合计", 30.5, "20.25", 10.25])
    ws.append(["213", "农林水支出", 30.5, 20.25, "10.25"])
    ws.append(["21303", "　水利", 30.5, 20.25, 10.25])
    ws.append(["2130301", "　　行政运行", 20.25, 20.25, "-"])
    ws.append(["2130302", "　　一般行政管理事务", "10.25", None, 10.25])
    ws.append(["注：本表金额保留两位小数。"])
    return wb


def test_a_workbook_named_as_the_other_form_reads_by_its_content(tmp_path):
    # an .xlsx renamed .xls (as users and WPS do) was refused: openpyxl refuses any name not ending .xlsx/.xlsm
    wb = _sheet_workbook()
    wb.save(tmp_path / "a.xlsx")
    wb.save(tmp_path / "a_xlsx_renamed.xls")
    save_xls(wb, tmp_path / "a_xls_renamed.xlsx")
    expected = parse_workbook(tmp_path / "a.xlsx")
    for name, form in (("a_xlsx_renamed.xls", "xlsx"), ("a_xls_renamed.xlsx", "xls")):
        parsed = parse_workbook(tmp_path / name)
        assert parsed.file_format == form
        assert [(s.table_name, s.rows_in, len(s.lines)) for s in parsed.sheets] == \
            [(s.table_name, s.rows_in, len(s.lines)) for s in expected.sheets] != []


@pytest.mark.parametrize("save, form, opening, indented", [
    (save_xls, "xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", False),  # BIFF in an OLE2 file, as WPS writes it
    (save_html_xls, "html", b"<html", True), (save_spreadsheet_xml, "xml", b"<?xml", True)])
def test_other_workbook_forms_read_like_the_xlsx(tmp_path, save, form, opening, indented):
    # .xls from a BIFF writer; a web system's 导出Excel: an HTML page (gbk, Excel's namespace, merged header as
    # rowspan/colspan, indents as &nbsp;); a Java system's template export: XML Spreadsheet 2003 — the last two named
    # .xls were refused as "none of xlsx, xls, pdf"
    wb = _sheet_workbook()
    if indented:  # xlwt writes values and merges only
        wb["表5"]["B8"].alignment = Alignment(indent=2)
    wb.save(tmp_path / "a.xlsx")
    save(wb, tmp_path / "a.xls")
    assert (tmp_path / "a.xls").read_bytes().startswith(opening)
    xlsx, other = parse_workbook(tmp_path / "a.xlsx"), parse_workbook(tmp_path / "a.xls")
    assert other.file_format == form and xlsx.file_format == "xlsx"

    def view(parsed):
        (s,) = parsed.sheets
        return (s.table_name, s.fiscal_year, s.unit_label, s.header_row_count, s.rows_in, s.rows_rejected,
                sorted((ln.source_row, ln.line_code, ln.column_key, ln.amount_yuan, ln.indent_level) for ln in s.lines))
    assert view(other) == view(xlsx)
    assert view(other)[:6] == ("一般公共预算支出表", 2019, "万元", 2, 5, 0)


def test_ministry_debt_layout_items_as_rows_regions_and_bond_kinds_as_columns(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "附表2"
    ws.append(["宁夏回族自治区2019年和2020年地方政府一般债务余额情况表"])
    ws.append([None, None, "单位：亿元"])
    ws.append(["项    目", "本地区", "其中：本级"])
    ws.append(["公式", "A", "B"])
    for label, region, own in [
            ("一、2018年末地方政府一般债务余额实际数", "100.00", "40.00"), ("二、2019年地方政府一般债务限额", "130.00", "50.00"),
            ("三、2019年地方政府一般债务发行额", "20.00", "14.00"),
            ("其中：中央转贷地方的国际金融组织和外国政府贷款", "1.00", "1.00"),
            ("2019年地方政府一般债券发行额", "19.00", "13.00"), ("四、2019年地方政府一般债务还本额", "5.00", "3.00"),
            ("五、2019年末地方政府一般债务余额预计执行数", "115.00", "51.00"), ("六、2020年地方财政赤字", "9.00", "-"),
            ("七、2020年地方政府一般债务限额", "140.00", "55.00")]:
        ws.append([label, region, own])
    ws2 = wb.create_sheet("附表4")
    ws2.append(["宁夏回族自治区2020年地方政府债券发行及还本付息情况表"])
    ws2.append(["单位：亿元"])
    ws2.append(["项目", "合计", "一般债券", "专项债券"])
    for row in [("一、2019年地方政府债券发行额", 30, 20, 10), ("其中：再融资债券", 6, 4, 2),
                ("二、2019年地方政府债务还本额", 9, 5, 4), ("三、2019年地方政府债务付息额", 3.5, 2, 1.5),
                ("四、2020年地方政府债务还本预算数", 8, 5, 3), ("其中：再融资债券", 5, 3, 2),
                ("财政预算安排", 3, 2, 1), ("五、2020年地方政府债务付息预算数", 4, 2.5, 1.5)]:
        ws2.append(list(row))
    wb.save(tmp_path / "debt.xlsx")
    one_two, one_four = parse_workbook(tmp_path / "debt.xlsx").sheets
    assert (one_two.status, one_two.table_name, one_two.fiscal_year) == ("parsed", "地方政府一般债务余额情况表", 2020)
    got = {(ln.row_key, ln.column_key): ln.amount_yuan / Decimal(10 ** 8) for ln in one_two.lines}
    assert got[("opening_balance", "amount")] == 100 and got[("opening_balance", "amount_own_level")] == 40
    assert got[("prior_limit", "amount_own_level")] == 50 and got[("issued_bonds", "amount")] == 19
    assert got[("issued_foreign_onlent", "amount")] == 1 and got[("repaid", "amount_own_level")] == 3
    assert got[("closing_balance", "amount_own_level")] == 51 and got[("limit", "amount")] == 140
    assert one_two.rows_in == 9   # the 公式 row is not data
    for col in ("amount", "amount_own_level"):   # the roll-forward and the limit, per region scope
        assert got[("opening_balance", col)] + got[("issued", col)] - got[("repaid", col)] == got[("closing_balance", col)]
    assert got[("closing_balance", "amount_own_level")] > got[("prior_limit", "amount_own_level")]   # 51 > 50
    four = {(ln.row_key, ln.column_key): ln.amount_yuan / Decimal(10 ** 8) for ln in one_four.lines}
    # a *_total row's bond-kind cells are its *_general / *_special items, as in the item layout
    assert four[("issued_total", "amount")] == 30 and four[("issued_general", "amount")] == 20
    assert four[("issued_special", "amount")] == 10 and four[("principal_general", "amount")] == 5
    assert four[("issued_refinancing", "amount_special")] == 2 and four[("budget_principal_funded", "amount")] == 3
    assert four[("budget_interest_special", "amount")] == Decimal("1.5")


def _items(page: int, *rows) -> list[PageItem]:
    out = []
    for i, (kind, cells) in enumerate(rows, start=1):
        out.append(PageItem(page, i, kind, list(cells), float(i * 20), table_id=0 if kind == "table" else None,
                            is_table_start=kind == "table" and (i == 1 or rows[i - 2][0] != "table"),
                            in_margin=kind == "text" and cells[0].startswith(("- ", "水利厅2025"))))
    return out


def test_segmenter_cuts_tables_over_pages_and_leaves_furniture_and_contents_out():
    vocab = vocabulary()
    head = ("table", ["科目编码", "科目名称", "合计"])
    items = (
        _items(1, ("text", ["目录"]), ("text", ["2025年部门支出预算总表 ........ 3"]), ("text", ["- 1 -"]))
        + _items(2, ("text", ["水利厅2025年部门预算"]), ("text", ["一、主要职能"]), ("text", ["详见2025年部门支出预算总表。"]),
                 ("text", ["2025年部门支出预算总表"]), ("text", ["编制部门：宁夏回族自治区水利厅", "单位：元"]),
                 head, ("table", ["213", "农林水支出", "10"]), ("text", ["- 2 -"]))
        + _items(3, ("text", ["水利厅2025年部门预算"]), head, ("table", ["21303", "水利", "10"]), ("text", ["注：单位元。"]),
                 ("text", ["二、机构设置"]), ("text", ["- 3 -"]))
        + _items(4, ("text", ["水利厅2025年部门预算"]), ("text", ["- 4 -"]))
    )
    grids, text = segment(PdfDocument("x.pdf", 4, items, 3), vocab)
    (grid,) = grids
    assert grid.name == "表1（第2-3页）"
    assert [r[0] for r in grid.rows] == ["2025年部门支出预算总表", "编制部门：宁夏回族自治区水利厅", "科目编码", "213",
                                         "科目编码", "21303", "注：单位元。"]
    assert [grid.page(r) for r in range(len(grid.rows))] == [2, 2, 2, 2, 3, 3, 3]
    assert [b.text for b in text] == ["一、主要职能", "详见2025年部门支出预算总表。", "二、机构设置"]


def test_narrative_sections_and_statements_from_text_lines():
    vocab = vocabulary()
    lines = ["第一部分 部门概况", "一、部门主要职责", "负责全区水利工作。", "三、部门预算编制说明",
             "2019年收入预算总计12,345.67万元，支出预算总计12,345.67万元，比2018年增加。",
             "1.财政拨款收入预算总计10,000.5万元。", "2.说明2017年的情况。",
             "四、“三公”经费及机关运行经费情况说明", "“三公”经费预算数为58.3万元；机关运行经费预算数为200万元。"]
    blocks = [TextBlock(t, 5, None, i) for i, t in enumerate(lines, start=1)]
    sections, statements = read_narrative(blocks, vocab, vocab.units)
    assert sorted(s.table_name for s in sections) == sorted(["部门主要职能", "预算编制说明", "“三公”经费情况说明",
                                                           "机关运行经费情况说明"])
    by_key = {(s.statement_key, s.year_named): s for s in statements}
    assert by_key[("income_total", None)].amount_yuan == Decimal("123456700.00")
    assert by_key[("income_total", None)].tolerance_yuan == Decimal("50.000")   # half of 0.01 万元
    assert by_key[("fiscal_appropriation", None)].amount_yuan == Decimal("100005000.0")
    assert by_key[("fiscal_appropriation", None)].tolerance_yuan == Decimal("500.00")   # half of 0.1 万元
    assert by_key[("sangong_total", None)].section == "“三公”经费情况说明"
    assert by_key[("office_running", None)].amount_yuan == Decimal("2000000")
    # the numbered items 1. 2. stay inside the 编制说明: the year they name is read against the disclosure
    assert {y for k, y in by_key if k == "year_named"} == {2019, 2018, 2017}


def test_radicals_fold_to_the_ideographs_a_reader_sees():
    assert unify_ideographs("部⻔⽀出预算总表") == "部门支出预算总表"   # CJK Radicals Supplement + Kangxi radicals
    assert unify_ideographs("公务⽤⻋运⾏费（万元）") == "公务用车运行费（万元）"   # full-width brackets kept


def test_parse_cache_parses_an_unchanged_file_once(tmp_path, monkeypatch):
    from dagster_project.ingest import parse_cache, workbook

    monkeypatch.setenv("GONGKAI_PARSE_CACHE", str(tmp_path / "parse_cache"))
    wb = _sheet_workbook()
    paths = []
    for i in range(3):
        wb["表5"]["C5"] = 30.5 + i   # three different contents
        wb.save(tmp_path / f"b{i}.xlsx")
        paths.append(tmp_path / f"b{i}.xlsx")
    files = [framework.RawFile(p, f"budget/{p.name}", framework.sha256_of(p), p.stat().st_size, "budget") for p in paths]
    calls = []
    real = workbook.parse_workbook
    monkeypatch.setattr(workbook, "parse_workbook", lambda *a, **k: calls.append(a) or real(*a, **k))
    first = parse_cache.parse_cached(files[0])
    again = parse_cache.parse_cached(files[0])
    assert len(calls) == 1 and [ln.amount_yuan for ln in again.lines] == [ln.amount_yuan for ln in first.lines]
    # the rest in parallel, in child processes: each file's parse lands in the cache under its SHA-256
    assert parse_cache.prefetch(files[1:], workers=2) == 0   # two small workbooks: not worth two processes
    monkeypatch.setattr(parse_cache, "_worth_processes", lambda todo, workers: True)
    assert parse_cache.prefetch(files[1:], workers=2) == 2
    assert all(parse_cache._entry(parse_cache.cache_dir(), f.sha256, f.path.suffix).is_file() for f in files)
    parse_cache.parse_cached(files[2])
    assert len(calls) == 1


def test_segmenter_takes_a_title_drawn_as_the_tables_first_row():
    items = _items(1, ("table", ["2025年部门收入预算总表", None, None]), ("table", ["单位名称", "合计", "财政拨款"]),
                   ("table", ["宁夏回族自治区水利厅", "12", "12"]), ("text", ["- 1 -"]))
    (grid,), text = segment(PdfDocument("y.pdf", 1, items, 1), vocabulary())
    assert grid.rows[0][0] == "2025年部门收入预算总表" and len(grid.rows) == 3 and text == []
