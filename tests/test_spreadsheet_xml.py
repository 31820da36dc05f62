"""The XML Spreadsheet 2003 reader (a Java system's template export saved as .xls): cells placed as Excel places them."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dagster_project.ingest.framework import FileRejected
from dagster_project.ingest.spreadsheet_xml import looks_like_spreadsheet_xml, read_spreadsheet_xml

BOOK = """<?xml version="1.0" encoding="UTF-8"?>
<?mso-application progid="Excel.Sheet"?>
<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"
 xmlns:html="http://www.w3.org/TR/REC-html40">
 <Styles><Style ss:ID="Default"/><Style ss:ID="s2"><Alignment ss:Indent="2"/></Style></Styles>
 <Worksheet ss:Name="收支总表"><Table ss:ExpandedColumnCount="4">
  <Row ss:Index="2"><Cell ss:MergeAcross="3"><Data ss:Type="String">宁夏回族自治区教育厅2019年部门收支总表</Data></Cell></Row>
  <Row><Cell ss:MergeDown="1"><Data ss:Type="String">项目</Data></Cell><Cell ss:MergeAcross="1"><Data ss:Type="String">金额</Data></Cell>
   <Cell ss:MergeDown="2"><Data ss:Type="String">备注</Data></Cell></Row>
  <Row><Cell><Data ss:Type="String">预算</Data></Cell><Cell><Data ss:Type="String">决算</Data></Cell></Row>
  <Row><Cell ss:StyleID="s2"><ss:Data ss:Type="String" xmlns="http://www.w3.org/TR/REC-html40"><B>一般</B>公共预算</ss:Data></Cell>
   <Cell><Data ss:Type="Number">1234.56</Data></Cell><Cell><Data ss:Type="DateTime">2018-06-04T09:30:00.000</Data></Cell></Row>
  <Row><Cell ss:Index="3"><Data ss:Type="Number">7</Data></Cell><Cell><Data ss:Type="Boolean">1</Data></Cell></Row>
 </Table></Worksheet>
 <Worksheet ss:Name="空"><Table/></Worksheet>
</Workbook>
"""


def test_cells_merges_types_and_indents_as_excel_places_them(tmp_path):
    path = tmp_path / "导出.xls"
    path.write_text(BOOK, encoding="utf-8")
    first, empty = read_spreadsheet_xml(path, "导出.xls")
    assert (first.name, first.source_format, empty.name, empty.rows) == ("收支总表", "xml", "空", [])
    assert first.rows == [
        (None, None, None, None),  # the sheet's row 1 is empty: rows keep the numbers Excel shows
        ("宁夏回族自治区教育厅2019年部门收支总表", None, None, None),
        ("项目", "金额", None, "备注"),
        (None, "预算", "决算", None),  # cells without an index skip the columns MergeDown covers
        ("一般公共预算", 1234.56, dt.datetime(2018, 6, 4, 9, 30), None),  # rich text read as its text
        (None, None, 7.0, True),
    ]
    assert sorted(first.merges) == [(1, 0, 1, 3), (2, 0, 3, 0), (2, 1, 2, 2), (2, 3, 4, 3)]
    assert first.indents == {(4, 0): 2}


@pytest.mark.parametrize("text, reason", [
    (BOOK[: len(BOOK) // 2], "cannot be read at line"),  # a cut download
    ('<?xml version="1.0"?><!DOCTYPE Workbook [<!ENTITY a "aaaaaaaaaa">'
     + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
     + ']><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" xmlns:ss="urn:schemas-microsoft-com:office:'
       'spreadsheet"><Worksheet ss:Name="x"><Table><Row><Cell><Data ss:Type="String">&i;</Data></Cell></Row></Table>'
       '</Worksheet></Workbook>', "amplification"),  # an entity bomb: stopped by expat, refused
])
def test_malformed_or_hostile_xml_is_the_files_refusal(tmp_path, text, reason):
    path = tmp_path / "bad.xls"
    path.write_text(text, encoding="utf-8")
    assert looks_like_spreadsheet_xml(path.read_bytes()[:4096])
    with pytest.raises(FileRejected, match=reason):
        read_spreadsheet_xml(path, "bad.xls")


def test_told_from_its_first_bytes():
    assert looks_like_spreadsheet_xml(BOOK.encode())
    assert looks_like_spreadsheet_xml(b"\xef\xbb\xbf" + BOOK.encode())
    assert not looks_like_spreadsheet_xml(b'<?xml version="1.0"?><html><table></table></html>')
    assert not looks_like_spreadsheet_xml(b"PROJECT_CODE,urn:schemas-microsoft-com:office:spreadsheet")


def _big_book(rows: int) -> str:
    body = "\n".join(f'<Row><Cell><Data ss:Type="String">项目{i:06d}</Data></Cell><Cell><Data ss:Type="Number">{i}.5'
                     f'</Data></Cell></Row>' for i in range(rows))
    return ('<?xml version="1.0" encoding="UTF-8"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
            'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="a"><Table>'
            f"{body}</Table></Worksheet><Worksheet ss:Name=\"b\"><Table>{body}</Table></Worksheet></Workbook>")


def test_rows_leave_memory_as_they_are_read(tmp_path):
    # the parser reads ahead, so a read row is the table's first child: it was only removed when it was the last one,
    # and a 600 000-row export kept every row (≈ 3 KB each); an unread sheet's rows are released too
    import tracemalloc

    from dagster_project.ingest.spreadsheet_xml import iter_sheets

    path = tmp_path / "big.xls"
    path.write_text(_big_book(15_000), encoding="utf-8")
    tracemalloc.start()
    try:
        read, held = [], []
        for sheet, rows in iter_sheets(path, "big.xls"):
            if sheet.name == "a":
                read.append(sum(1 for _ in rows))
                held.append(tracemalloc.get_traced_memory()[0])  # what the parse holds after a whole sheet
    finally:
        tracemalloc.stop()
    assert read == [15_000] and held[0] < 16 << 20, held  # 8 MB here; 27 MB when read rows stayed in the tree


@pytest.mark.parametrize("row, reason", [
    ('<Row ss:Index="400000000"><Cell><Data ss:Type="String">x</Data></Cell></Row>', "the row index"),
    ('<Row><Cell ss:MergeDown="300000000" ss:MergeAcross="10"><Data ss:Type="String">x</Data></Cell></Row>',
     "a cell or its merge"),
    ('<Row><Cell ss:Index="20000"><Data ss:Type="String">x</Data></Cell></Row>', "a cell or its merge"),
])
def test_indexes_and_merges_beyond_excel_are_refused_not_allocated(tmp_path, row, reason):
    path = tmp_path / "bomb.xls"
    path.write_text('<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
                    'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="a"><Table>'
                    f"{row}</Table></Worksheet></Workbook>", encoding="utf-8")
    with pytest.raises(FileRejected, match=reason):
        read_spreadsheet_xml(path, "bomb.xls")


def test_a_workbook_declared_in_gbk_reads(tmp_path):
    # Chinese Java templates declare GBK/GB2312; expat refuses multi-byte encodings (the file was a loader failure)
    path = tmp_path / "gbk.xls"
    path.write_bytes(BOOK.replace('encoding="UTF-8"', 'encoding="GBK"').encode("gbk"))
    (first, _) = read_spreadsheet_xml(path, "gbk.xls")
    assert first.rows[1][0] == "宁夏回族自治区教育厅2019年部门收支总表" and first.rows[4][0] == "一般公共预算"
    unknown = tmp_path / "unknown.xls"
    unknown.write_bytes(BOOK.replace('encoding="UTF-8"', 'encoding="x-no-such-codec"').encode("utf-8"))
    with pytest.raises(FileRejected, match="encoding cannot be read"):
        read_spreadsheet_xml(unknown, "unknown.xls")


def test_a_number_that_is_no_number_stays_text(tmp_path):
    # a template that wrote a failed formula's result as NaN/INF: kept as text (a row reject naming it downstream),
    # not a float that no amount can hold
    path = tmp_path / "nan.xls"
    path.write_text(BOOK.replace(">1234.56<", ">NaN<").replace('<Data ss:Type="Number">7</Data>',
                                                              '<Data ss:Type="Number">INF</Data>'), encoding="utf-8")
    (first, _) = read_spreadsheet_xml(path, "nan.xls")
    assert first.rows[4][1] == "NaN" and first.rows[5][2] == "INF"



CALC_FILES = Path(__file__).parent / "fixtures" / "calc_files"  # made by LibreOffice Calc: see MAKE.md there


def test_a_workbook_calc_saved_as_xml_spreadsheet_reads_as_the_file_it_was_saved_from(tmp_path):
    # Calc's "Microsoft Excel 2003 XML" writes every row down to row 1 048 576 (a 30-row table is 38 MB of
    # <Row><Cell ss:Index="1"/></Row>): the grid held a million empty rows (300 MB and 12 s for one sheet, a gigabyte
    # for a ten-sheet workbook; a trading export's reader walked them all). It also writes each run of spaces
    # one longer ("  普通教育" as "   普通教育"): every indented item came out a level deeper.
    import lzma
    import shutil

    from dagster_project.ingest.readers import read_grids, read_xls
    from dagster_project.ingest.recogniser import parse_grid
    from dagster_project.ingest.workbook_spec import vocabulary

    path = tmp_path / "宁夏回族自治区教育厅2019年部门预算.xls"  # what a publisher names it to send it as a workbook
    with lzma.open(CALC_FILES / "budget_expenditure_calc2003.xml.xz") as packed, path.open("wb") as out:
        shutil.copyfileobj(packed, out)
    assert path.stat().st_size > 30 << 20  # the file as Calc wrote it
    (source,) = read_xls(CALC_FILES / "budget_expenditure.xls", "budget_expenditure.xls")

    form, (grid,), _ = read_grids(path, path.name)
    assert (form, grid.name) == ("xml", source.name)
    assert grid.rows == source.rows and sorted(grid.merges) == sorted(source.merges)

    def table(grid):  # the recogniser on the grid, as parse_workbook calls it (the 38 MB file is read once)
        s = parse_grid(grid, 0, vocabulary())
        return (s.sheet, s.status, s.table_keys, s.unit_label, s.rows_loaded, s.rows_rejected,
                [(line.source_row, line.line_code, line.line_label, line.indent_level, line.column_key,
                  line.amount_yuan) for line in s.lines])

    from_xml = table(grid)
    assert from_xml == table(source)
    assert from_xml[1] == "parsed" and {line[3] for line in from_xml[-1]} == {0, 1, 2}
    # what Excel (or a template) writes keeps its spaces: only Calc's export is read back one space shorter
    from dagster_project.ingest.spreadsheet_xml import looks_like_calc_export

    assert not looks_like_calc_export(BOOK.encode())
    excel_written = tmp_path / "excel.xls"
    excel_written.write_text(BOOK.replace("<B>一般</B>公共预算", "    一般公共预算"), encoding="utf-8")
    assert read_spreadsheet_xml(excel_written, "excel.xls")[0].rows[4][0] == "    一般公共预算"


def test_a_sheet_excel_hides_is_told(tmp_path):
    # Excel writes a hidden sheet's state after its table: <WorksheetOptions xmlns="urn:schemas-microsoft-com:office:
    # excel"><Visible>SheetHidden</Visible> (SheetVeryHidden when only code can show it)
    path = tmp_path / "hidden.xls"
    options = '<WorksheetOptions xmlns="urn:schemas-microsoft-com:office:excel"><Visible>{}</Visible></WorksheetOptions>'
    path.write_text(BOOK.replace("</Table></Worksheet>", "</Table>" + options.format("SheetHidden") + "</Worksheet>")
                    .replace("<Table/></Worksheet>", "<Table/>" + options.format("SheetVeryHidden") + "</Worksheet>"),
                    encoding="utf-8")
    assert [(grid.name, grid.hidden) for grid in read_spreadsheet_xml(path, "hidden.xls")] == [("收支总表", True),
                                                                                               ("空", True)]
    shown = tmp_path / "shown.xls"
    shown.write_text(BOOK, encoding="utf-8")
    assert [grid.hidden for grid in read_spreadsheet_xml(shown, "shown.xls")] == [False, False]
