"""The XML Spreadsheet 2003 reader (a Java system's template export saved as .xls): cells placed as Excel places them."""
from __future__ import annotations

import datetime as dt

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
