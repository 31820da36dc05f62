"""The HTML-table reader (a web system's 导出Excel saved as .xls): laid out as a browser lays it out."""
from __future__ import annotations

import pytest

from dagster_project.ingest.framework import FileRejected
from dagster_project.ingest.html_tables import looks_like_html, read_html_tables

PAGE = """<html><head><meta charset="gbk"><title>导出</title><style>td {{ color: red }}</style>
<script>var t = "<table><tr><td>not data</td></tr></table>";</script></head><body>
<h3>宁夏回族自治区教育厅2019年部门收支总表</h3><div>单位：万元</div>
<table border=1><caption>收支总表</caption>
 <tr><th rowspan=2>项目</th><th colspan="2">金额</th><th rowspan=3>备注</th></tr>
 <tr><td>预算</td><td>决算</td></tr>
 <tr><td>&nbsp;&nbsp;一般公共预算<br/>拨款</td><td> 1,234.56 </td><td>2018-06-04&nbsp;09:30</td></tr>
</table>
<p>注：无</p>
<table><tr><td>外<table><tr><td>内1</td><td>内2</td></tr><tr><td>内3</td></tr></table></td><td>b</td></tr>
{tail}"""


def test_layout_spans_text_and_lines_before_a_table(tmp_path):
    path = tmp_path / "导出.xls"
    path.write_bytes(PAGE.format(tail="</table></body></html>").encode("gb18030"))
    first, second = read_html_tables(path, "导出.xls")
    assert first.name == "收支总表" and first.source_format == "html"
    assert first.rows == [
        ("宁夏回族自治区教育厅2019年部门收支总表", None, None, None),  # the lines just before a table lead it
        ("单位：万元", None, None, None),
        ("项目", "金额", None, "备注"),
        (None, "预算", "决算", None),  # the second row's cells take the columns the rowspans leave free
        ("\xa0\xa0一般公共预算\n拨款", "1,234.56", "2018-06-04 09:30", None),
    ]
    assert sorted(first.merges) == [(2, 0, 3, 0), (2, 1, 2, 2), (2, 3, 4, 3)]
    # a table nested in a cell is that cell's text; neither <script> nor <title> is data
    assert second.name == "表2" and second.rows == [("注：无", None), ("外\n内1 内2\n内3", "b")]


def test_a_cut_download_keeps_the_rows_read_and_a_page_without_tables_is_refused(tmp_path):
    path = tmp_path / "cut.xls"
    path.write_bytes(PAGE.format(tail="<tr><td>半").encode("utf-8"))  # cut inside the second table
    assert [g.rows[-1] for g in read_html_tables(path, "cut.xls")][1] == ("半", None)
    empty = tmp_path / "empty.xls"
    empty.write_text("<!DOCTYPE html><html><body><h1>404 附件不存在</h1></body></html>", encoding="utf-8")
    with pytest.raises(FileRejected, match="holding no table"):
        read_html_tables(empty, "empty.xls")


@pytest.mark.parametrize("head, expected", [
    (b"<html xmlns:x='urn:schemas-microsoft-com:office:excel'>", True),
    (b"\xef\xbb\xbf\r\n  <!DOCTYPE HTML PUBLIC>", True),
    ("\ufeff<table><tr>".encode("utf-16-le"), True),
    (b"<?xml version='1.0'?><!-- x --><html>", True),
    (b"<?xml version='1.0'?><Workbook xmlns='urn:schemas-microsoft-com:office:spreadsheet'>", False),
    (b"PROJECT_CODE,NOTICE_NAME\n<b>x</b>", False),
    (b"%PDF-1.7 <html>", False),
])
def test_html_is_told_from_its_first_bytes(head, expected):
    assert looks_like_html(head) is expected


def test_spans_cost_what_the_table_holds(tmp_path):
    # rowspan × colspan of a few cells asked for a million layout entries each (a 1 KB page took gigabytes):
    # a rowspan reaches no further than the table's rows, as browsers clip it
    path = tmp_path / "spans.xls"
    cells = "".join("<td rowspan=1000 colspan=1000>x</td>" for _ in range(20))
    path.write_text(f"<table><tr>{cells}</tr><tr><td>y</td></tr></table>", encoding="utf-8")
    (grid,) = read_html_tables(path, "spans.xls")
    assert len(grid.rows) == 2 and grid.width == 20_001 and grid.merges[0] == (0, 0, 1, 999)
    assert grid.rows[1][20_000] == "y"  # the second row's cell: after every column the spans hold


def test_a_rule_between_a_title_and_its_table_keeps_the_title(tmp_path):
    # a portal's page: the title and unit, a horizontal rule, the table. Only the rule after LibreOffice Calc's list
    # of sheets (links to #table0 …) leads into nothing; this rule keeps the lines above it as the table's top rows
    page = ("<html><body><p>宁夏回族自治区教育厅2019年部门收支总表</p><p>单位：万元</p><hr>"
            "<table border=1><tr><td>项目</td><td>预算数</td></tr><tr><td>合计</td><td>1</td></tr></table>"
            "<hr><p><a href=\"#table0\">1-部门收支总表</a></p><hr>"
            "<table><tr><td>项目</td><td>预算数</td></tr></table></body></html>")
    path = tmp_path / "导出.xls"
    path.write_text(page, encoding="utf-8")
    first, second = read_html_tables(path, "导出.xls")
    assert first.rows[:2] == [("宁夏回族自治区教育厅2019年部门收支总表", None), ("单位：万元", None)]
    assert second.rows == [("项目", "预算数")]     # the list of sheets above the second rule leads into no table
