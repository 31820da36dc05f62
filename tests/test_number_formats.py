"""A workbook cell's number format is part of what it says: a person reads 3.2046992 under '0.00' as 3.20, 0.15 under
'0%' as 15%, a serial under a Chinese built-in date format as a date, 3204699 under '#,##0.00,,' as 3.20 (millions).

The readers carry the format beside the value (``Grid.formats``); the recogniser records a figure as printed
(``value_text``, whose decimals set the debt tolerance in ``int_reconciliation_checks``), refuses a percentage where
an amount belongs, and divides a scaled figure. Files: openpyxl (in the test), LibreOffice Calc's .xls/.xlsx of the
same workbook (``fixtures/number_formats``), an Excel XML Spreadsheet 2003, an .xlsx as a Chinese Excel saves a date
(numFmtId 31, defined by ECMA-376 and so not written into the file).
"""
from __future__ import annotations

import datetime as dt
import re
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from dagster_project.ingest.number_formats import render
from dagster_project.ingest.readers import read_grids, read_xlsx_openpyxl
from dagster_project.ingest.workbook import parse_workbook
from number_format_books import books

FIXTURES = Path(__file__).parent / "fixtures" / "number_formats"




def printed(wan: str, decimals: int = 2) -> str:
    """What '0.00' prints for a 万元 figure shown in 亿元."""
    return str((Decimal(wan) / 10000).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


@pytest.mark.parametrize(("value", "code", "shown"), [
    (3.2046992, "0.00", "3.20"), (1234.5678, "#,##0.00", "1,234.57"), (0.15, "0%", "15%"), (0.1234, "0.0%", "12.3%"),
    (-1234.5, "#,##0.00_);[Red]\\(#,##0.00\\)", "(1,234.50)"), (-3.5, "0.00", "-3.50"),
    (3204699.2, "#,##0.00,,", "3.20"), (1234, '#,##0.00"万元"', "1,234.00万元"), (5, "[$¥-804]#,##0.00", "¥5.00"),
    (0, '_(* #,##0.00_);_(* \\(#,##0.00\\);_(* "-"??_);_(@_)', "-"), (1.5, "0.00_ ", "1.50"),
    (2, "General", None), (3, "[>=100]0;0", "3"), (-3, "[>=100]0;0", "-3"), (1e6, "0.00E+00", None),
])
def test_a_number_prints_through_its_format_as_excel_prints_it(value, code, shown):
    assert render(value, code) == shown


def _by_item(sheet) -> dict[tuple[str, str], object]:
    return {(line.row_key, line.column_key): line for line in sheet.lines}


def _read(made_by: str, tmp_path: Path):
    if made_by == "openpyxl.xlsx":
        path = tmp_path / "贺兰县2019年预算政府债务情况表.xlsx"
        books.general_debt_book().save(path)
        return parse_workbook(path)
    return parse_workbook(FIXTURES / f"general_debt_yi_calc.{made_by.split('.')[1]}")


@pytest.mark.parametrize("made_by", ["openpyxl.xlsx", "calc.xlsx"])
def test_both_xlsx_readers_carry_the_same_formats(tmp_path, made_by):
    """The fast reader (xlsx_cells) and openpyxl's load_workbook (for files the fast one hands over) agree."""
    path = tmp_path / "book.xlsx"
    if made_by == "openpyxl.xlsx":
        books.general_debt_book().save(path)
    else:
        path = FIXTURES / "general_debt_yi_calc.xlsx"
    (fast,), (full,) = read_grids(path, path.name)[1], read_xlsx_openpyxl(path, path.name)
    assert fast.formats == full.formats and len(fast.formats) == 2 * len(books.ITEMS)
    assert fast.rows == full.rows


@pytest.mark.parametrize("made_by", ["openpyxl.xlsx", "calc.xls", "calc.xlsx"])
def test_a_figure_is_recorded_as_printed_and_amounts_as_stored(tmp_path, made_by):
    """value_text is what the table prints (3.20: two decimals, the debt tolerance's step), the amount every digit
    stored (320 469 900 元); before, value_text was the stored 3.2046992 and the sheet's step one whole 亿元."""
    (sheet,) = _read(made_by, tmp_path).sheets
    assert sheet.status == "parsed" and sheet.unit_label == "亿元"
    lines = _by_item(sheet)
    assert len(lines) == 2 * len(books.ITEMS)
    for (row_key, column_key), line in lines.items():
        label = next(label for label, *_ in books.ITEMS if line.line_label == label.strip())
        wan = dict(zip(("amount", "amount_own_level"), next(v for l, *v in books.ITEMS if l == label)))[column_key]
        assert line.value_text == printed(wan), (row_key, column_key, line.value_text)
        assert line.amount_yuan == Decimal(wan) * 10000


def test_a_percentage_where_an_amount_belongs_is_a_row_reject_naming_the_cell(tmp_path):
    """0.0320 shown '0.00%' reads 3.20% to a person: no amount of 0.032 亿元 but a reject naming sheet, row, column."""
    path = tmp_path / "percent.xlsx"
    books.general_debt_book(number_format="0.00%").save(path)
    parsed = parse_workbook(path)
    rejects = [r for r in parsed.rejects if r.source_column == "B"]
    assert len(rejects) == len(books.ITEMS)
    first = rejects[0]
    assert first.sheet == "1-2" and first.source_row == 4
    assert first.raw_value == f"{Decimal(books.ITEMS[0][1]) / 100:.2f}%"  # 3.2046992 亿元 at 100 per 1 → 320.47%
    assert "百分比" in first.reason and "percentage" in first.reason and "B列" in first.reason


def test_a_scaled_format_divides_the_figure_a_person_reads(tmp_path):
    """元 stored, '#,##0.00,,' prints millions under 单位：百万元: the amount is the millions printed, not a million
    times the 元 stored."""
    path = tmp_path / "scaled.xlsx"
    books.general_debt_book(number_format="#,##0.00,,", unit_text="单位：百万元", stored_yuan=1).save(path)
    (sheet,) = parse_workbook(path).sheets
    assert sheet.unit_label == "百万元"
    lines = _by_item(sheet)
    opening = lines[("opening_balance", "amount")]
    assert opening.amount_yuan == Decimal(books.ITEMS[0][1]) * 10000
    assert opening.value_text == str((Decimal(books.ITEMS[0][1]) / 100).quantize(Decimal("0.01")))


@pytest.mark.parametrize("unit_text", [None, "单位：亿元"])
def test_a_unit_the_format_prints_beside_each_figure_is_the_figures_unit(tmp_path, unit_text):
    """'#,##0.00"万元"' prints 32,046.99万元: a table stating no unit is in 万元 (before: taken as 元, 10 000 times too
    small), and a cell printing 万元 under a 亿元 header is 万元 — what is printed beside the figure."""
    path = tmp_path / "unit.xlsx"
    books.general_debt_book(number_format='#,##0.00"万元"', unit_text=unit_text, stored_yuan=10_000).save(path)
    (sheet,) = parse_workbook(path).sheets
    assert sheet.unit_label == ("万元" if unit_text is None else "亿元")
    opening = _by_item(sheet)[("opening_balance", "amount")]
    assert opening.amount_yuan == Decimal(books.ITEMS[0][1]) * 10000
    assert opening.value_text == f"{Decimal(books.ITEMS[0][1]):,}万元"


def _as_chinese_excel_saves(path: Path) -> None:
    """Rewrite the custom numFmt of yyyy"年"m"月"d"日" as Excel (zh-CN) and WPS save it: the built-in id 31, which
    ECMA-376 Part 1 §18.8.30 defines, so no <numFmt> for it in styles.xml."""
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    styles = parts["xl/styles.xml"].decode("utf-8")
    (custom_id,) = re.findall(r'<numFmt numFmtId="(\d+)" formatCode="yyyy&quot;年&quot;m', styles)
    styles = re.sub(r'<numFmt numFmtId="%s"[^>]*/>' % custom_id, "", styles)
    styles = styles.replace(f'numFmtId="{custom_id}"', 'numFmtId="31"')
    parts["xl/styles.xml"] = styles.encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)


def test_a_date_in_a_chinese_built_in_format_is_a_date_not_a_serial(tmp_path):
    path = tmp_path / "dated.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.append(["发行日期", dt.date(2019, 6, 4)])
    ws["B1"].number_format = 'yyyy"年"m"月"d"日"'
    wb.save(path)
    _as_chinese_excel_saves(path)
    assert 'numFmtId="31"' in zipfile.ZipFile(path).read("xl/styles.xml").decode()
    (grid,) = read_grids(path, path.name)[1]
    assert grid.value(0, 1) == dt.date(2019, 6, 4)
    (grid,) = read_xlsx_openpyxl(path, path.name)  # the full reader, for files the fast one hands over
    assert grid.value(0, 1) == dt.date(2019, 6, 4)


XML_BOOK = """<?xml version="1.0" encoding="UTF-8"?>
<?mso-application progid="Excel.Sheet"?>
<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">
 <Styles><Style ss:ID="Default"/><Style ss:ID="s21"><NumberFormat ss:Format="Fixed"/></Style>
  <Style ss:ID="s22"><NumberFormat ss:Format="0.00"/></Style></Styles>
 <Worksheet ss:Name="1-2"><Table>
  <Row><Cell><Data ss:Type="String">{title}</Data></Cell></Row>
  <Row><Cell><Data ss:Type="String">{publisher}</Data></Cell><Cell ss:Index="3"><Data ss:Type="String">单位：亿元</Data></Cell></Row>
  <Row><Cell><Data ss:Type="String">项目</Data></Cell><Cell><Data ss:Type="String">本地区</Data></Cell><Cell><Data ss:Type="String">其中：本级</Data></Cell></Row>
  {rows}
 </Table></Worksheet>
</Workbook>
"""


def test_an_xml_spreadsheet_style_number_format_is_read(tmp_path):
    """ss:NumberFormat, named ('Fixed': two decimals, as Excel defines it) or a code, prints the cell."""
    rows = "".join(
        f'<Row><Cell><Data ss:Type="String">{label}</Data></Cell>'
        f'<Cell ss:StyleID="s21"><Data ss:Type="Number">{books.yi(whole)!r}</Data></Cell>'
        f'<Cell ss:StyleID="s22"><Data ss:Type="Number">{books.yi(own)!r}</Data></Cell></Row>'
        for label, whole, own in books.ITEMS)
    path = tmp_path / "export.xls"
    path.write_text(XML_BOOK.format(title=books.TITLE, publisher=books.PUBLISHER, rows=rows), encoding="utf-8")
    (sheet,) = parse_workbook(path).sheets
    lines = _by_item(sheet)
    assert lines[("opening_balance", "amount")].value_text == printed(books.ITEMS[0][1])
    assert lines[("opening_balance", "amount_own_level")].value_text == printed(books.ITEMS[0][2])
