"""Reader: an XML Spreadsheet 2003 (SpreadsheetML) saved as .xls — what Java systems' template exports write.

Finance and trading systems built on Java commonly export "Excel" by filling an XML Spreadsheet 2003 template
(``<?mso-application progid="Excel.Sheet"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">``) and
naming it ``.xls``; Excel and WPS open it as a workbook, so publishers send it as one. Each ``<Worksheet>`` becomes
a ``Grid`` named by ``ss:Name``: ``ss:Index`` places rows and cells, ``ss:MergeAcross``/``ss:MergeDown`` are merged
spans (a cell without an index skips columns an earlier row's ``MergeDown`` covers), ``<Data ss:Type>`` gives the
value (``Number`` a number, ``DateTime`` a date/time, ``Boolean``, ``String`` — rich text read as its text), and a
style's ``<Alignment ss:Indent>`` the cell's indent. LibreOffice Calc's "Microsoft Excel 2003 XML" export is read too:
it writes every row down to the sheet's last (empty rows are not read: the grid ends at the last value) and each run
of spaces one longer (told by its first bytes, put back: ``_calc_spaces``).

The file is read as a stream (a pull parser fed a chunk at a time; a read row leaves the tree): ``iter_sheets``
yields each sheet's rows one at a time, so a trading export of many rows never sits in memory whole;
``read_spreadsheet_xml`` collects them into grids for the budget recogniser (up to ``MAX_GRID_CELLS``). A declared
GBK/GB2312/GB18030 (expat reads no multi-byte encoding) is decoded by Python; an index or a merge beyond Excel's
limits is the file's refusal, not an allocation. ElementTree never fetches external entities, and expat (≥ 2.4) stops an entity bomb: both are the
file's refusal, as malformed XML is.
"""
from __future__ import annotations

import codecs
import datetime as dt
import math
import re
from pathlib import Path
from typing import Iterator
from xml.etree.ElementTree import ParseError, XMLPullParser

from dagster_project.ingest.framework import FileRejected
from dagster_project.ingest.grid import Grid

NS = "urn:schemas-microsoft-com:office:spreadsheet"
_SS = "{" + NS + "}"
_ROW, _TABLE, _WORKSHEET, _CELL = _SS + "Row", _SS + "Table", _SS + "Worksheet", _SS + "Cell"
_ACROSS, _DOWN = _SS + "MergeAcross", _SS + "MergeDown"
# Excel's <WorksheetOptions xmlns="urn:schemas-microsoft-com:office:excel"><Visible>SheetHidden</Visible>: a hidden sheet
_VISIBLE = "{urn:schemas-microsoft-com:office:excel}Visible"
SNIFF_HEAD = 4096
_HEAD = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*\?>.*?<(?:\w+:)?Workbook\b[^>]*urn:schemas-microsoft-com:office:"
                   rb"spreadsheet", re.S)


def looks_like_spreadsheet_xml(head: bytes) -> bool:
    """The first bytes of a file open an XML Spreadsheet 2003 workbook."""
    return bool(_HEAD.match(head))


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


# LibreOffice Calc's "Microsoft Excel 2003 XML" export (an XSLT over the ODF document: share/xslt/export/spreadsheetml)
# opens the workbook with these two namespaces and OfficeDocumentSettings; Excel writes DocumentProperties first.
_CALC_XSLT = re.compile(rb'<(?:\w+:)?Workbook\b(?=[^>]*\bxmlns:c="urn:schemas-microsoft-com:office:component:spreadsheet")'
                        rb'(?=[^>]*\bxmlns:x2="http://schemas\.microsoft\.com/office/excel/2003/xml")[^>]*>\s*'
                        rb'<OfficeDocumentSettings\b')
# That XSLT writes ODF's <text:s text:c="n"/> (a run of spaces) as n + 1 spaces. ODF spells a run at a line's start
# as text:s whole (2 spaces -> c="2" -> 3 written) and a run after text as one space plus text:s (3 -> 1 + c="2" -> 4),
# so a run of 3+ at a line's start, or of 4+ after text, is one space longer than the cell: "  本级" (level 1 of the
# table's indentation) came back as "   本级" (level 2).
_CALC_RUN = re.compile(r"(?m)^ {3,}| {4,}")


def looks_like_calc_export(head: bytes) -> bool:
    """The first bytes are those of LibreOffice Calc's XML Spreadsheet 2003 export."""
    return bool(_CALC_XSLT.search(head))


def _calc_spaces(text: str) -> str:
    """A string of Calc's export with each space run as long as it is in the cell (see ``_CALC_RUN``)."""
    return _CALC_RUN.sub(lambda run: run.group(0)[1:], text) if "   " in text else text


def _value(kind: str | None, text: str):
    if kind == "Number":
        try:
            number = float(text)
        except ValueError:
            return text
        # "NaN"/"INF" as a template writes a failed formula: kept as text, so the amount is a row reject naming it
        return number if math.isfinite(number) else text
    if kind == "DateTime":
        try:
            value = dt.datetime.fromisoformat(text.strip().rstrip("Z"))
        except ValueError:
            return text
        return value.date() if value.time() == dt.time() else value
    if kind == "Boolean":
        return text.strip() in ("1", "true", "TRUE")
    return text


class _Sheet:
    """One worksheet being read: its name, merges and indents (filled as its rows are read)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.merges: list[tuple[int, int, int, int]] = []
        self.indents: dict[tuple[int, int], int] = {}
        self.formats: dict[tuple[int, int], str] = {}  # number formats of numeric cells (not General)
        self.hidden = False  # known once its rows are read (the options follow the table)


def iter_sheets(path: Path, name: str) -> Iterator[tuple[_Sheet, Iterator[tuple[int, list]]]]:
    """(sheet, its rows holding a value as (1-based row, values)) in workbook order; the rows must be consumed before
    the next sheet is asked for (one pass over the file). A file that is no well-formed XML is refused naming the line."""
    with path.open("rb") as handle:
        calc = looks_like_calc_export(handle.read(SNIFF_HEAD))
    events = _events(path, name)
    indent_of_style: dict[str, int] = {}
    format_of_style: dict[str, str] = {}
    table = None
    for event, element in events:
        if event == "end" and element.tag == _SS + "Style":
            alignment = element.find(_SS + "Alignment")
            if alignment is not None and _int(alignment.get(_SS + "Indent")):
                indent_of_style[element.get(_SS + "ID", "")] = _int(alignment.get(_SS + "Indent"))
            number_format = element.find(_SS + "NumberFormat")
            if number_format is not None:
                code = _NAMED_FORMATS.get(number_format.get(_SS + "Format") or "", number_format.get(_SS + "Format"))
                if code and code.strip().lower() not in ("general", "@"):
                    format_of_style[element.get(_SS + "ID", "")] = code
        elif event == "start" and element.tag == _SS + "Table":
            table = element  # rows of a sheet its reader left unread come here: released as they end
        elif event == "end" and element.tag == _SS + "Row":
            _release(table, element)
        elif event == "start" and element.tag == _SS + "Worksheet":
            sheet = _Sheet(element.get(_SS + "Name") or "Sheet")
            yield sheet, _rows(events, sheet, indent_of_style, name, calc, format_of_style)


_DECLARED = re.compile(rb"""^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
# what expat reads itself; any other declared encoding (GBK, GB2312, GB18030 — Chinese Java templates declare them,
# and expat refuses multi-byte encodings) is decoded by Python and fed to the parser as text
_EXPAT_ENCODINGS = {"utf-8", "utf8", "utf-16", "utf16", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1"}
CHUNK_BYTES = 1 << 20
# Excel's limits: an index or a merge beyond them is no sheet Excel could have written (a 400-byte file asking for
# 300 million merged rows must not take the run's memory)
MAX_ROWS, MAX_COLUMNS = 1_048_576, 16_384
# a budget/debt sheet read whole into a grid: more cells than this is no disclosure table
MAX_GRID_CELLS = 8_000_000


def _events(path: Path, name: str):
    """The parser's (event, element) pairs, read a chunk at a time; malformed XML (a cut download, an entity bomb
    expat stops, an encoding no codec knows) is the file's refusal naming the line."""
    parser = XMLPullParser(events=("start", "end"))
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_HEAD)
            declared = _DECLARED.match(head)
            encoding = declared.group(1).decode("ascii").lower() if declared else "utf-8"
            decoder = None if encoding in _EXPAT_ENCODINGS else codecs.getincrementaldecoder(encoding)("replace")
            block = head
            while block:
                parser.feed(decoder.decode(block) if decoder else block)
                yield from parser.read_events()
                block = handle.read(CHUNK_BYTES)
            if decoder:
                parser.feed(decoder.decode(b"", final=True))
        parser.close()
        yield from parser.read_events()
    except ParseError as exc:
        line = exc.position[0] if exc.position else "?"
        raise FileRejected(f"{name}: XML 表格文件第{line}行无法解析 (the XML Spreadsheet cannot be read at line {line}): "
                           f"{exc}") from None
    except (LookupError, ValueError) as exc:  # an encoding no codec knows, or one expat refuses
        raise FileRejected(f"{name}: XML 表格文件的编码无法读取 (the XML Spreadsheet's encoding cannot be read): "
                           f"{exc}") from None


def _beyond(name: str, sheet: _Sheet, row: int, what: str) -> FileRejected:
    return FileRejected(f"{name}: 工作表「{sheet.name}」第{row}行{what}超出 Excel 的范围 ({MAX_ROWS} 行, {MAX_COLUMNS} 列) "
                        f"(sheet {sheet.name}, row {row}: {what} beyond what Excel can hold)")


def _free_column(merges: list[tuple[int, int, int, int]], row: int, column: int) -> int:
    """The first column from ``column`` no merge from an earlier row covers on ``row``."""
    moved = True
    while moved:
        moved = False
        for top, bottom, first, last in merges:
            if top < row <= bottom and first <= column <= last:
                column, moved = last + 1, True
    return column


# Excel's named formats in ss:NumberFormat (anything else is a format code as in xlsx)
_NAMED_FORMATS = {"General Number": "General", "Fixed": "0.00", "Standard": "#,##0.00", "Percent": "0.00%",
                  "Scientific": "0.00E+00", "Currency": "$#,##0.00_);($#,##0.00)", "Short Date": "yyyy/m/d",
                  "Medium Date": "dd-mmm-yy", "Long Date": 'yyyy"年"m"月"d"日"', "General Date": "yyyy/m/d h:mm",
                  "Short Time": "h:mm", "Medium Time": "h:mm AM/PM", "Long Time": "h:mm:ss"}


def _rows(events, sheet: _Sheet, indent_of_style: dict[str, int], name: str,
          calc: bool = False, format_of_style: dict[str, str] | None = None) -> Iterator[tuple[int, list]]:
    row_number, table = 0, None
    spans: list[tuple[int, int, int, int]] = []  # merges reaching below their row: (top, bottom, first, last column)
    for event, element in events:  # ~4 events a row: the tests that pass most of them come first
        tag = element.tag
        if event == "start":
            if tag == _TABLE:
                table = element
            continue
        if tag != _ROW:
            if tag == _WORKSHEET:
                return
            if tag == _VISIBLE:
                sheet.hidden = (element.text or "").strip() in ("SheetHidden", "SheetVeryHidden")
            continue
        row_number = _int(element.get(_SS + "Index"), row_number + 1)
        if not 1 <= row_number <= MAX_ROWS:
            raise _beyond(name, sheet, row_number, "行号 (the row index)")
        cells = element.findall(_CELL)
        if not any(len(cell) or cell.get(_ACROSS) or cell.get(_DOWN) for cell in cells):
            _release(table, element)  # no value, no merge: nothing to read (Calc writes a million such rows)
            continue
        spans = [span for span in spans if span[1] >= row_number]
        values: dict[int, object] = {}
        column = 0
        for cell in cells:
            index = cell.get(_SS + "Index")
            column = _int(index, column + 1) if index is not None else _free_column(spans, row_number, column + 1)
            across, down = _int(cell.get(_ACROSS)), _int(cell.get(_DOWN))
            if not 1 <= column <= MAX_COLUMNS or column + across > MAX_COLUMNS or row_number + down > MAX_ROWS \
                    or across < 0 or down < 0:
                raise _beyond(name, sheet, row_number, "单元格或合并 (a cell or its merge)")
            data = cell.find(_SS + "Data")
            if data is not None:
                kind, text = data.get(_SS + "Type"), "".join(data.itertext())
                values[column] = _value(kind, _calc_spaces(text) if calc and kind == "String" else text)
            style = cell.get(_SS + "StyleID", "")
            indent = indent_of_style.get(style, 0)
            if indent and data is not None:
                sheet.indents[(row_number - 1, column - 1)] = indent
            if format_of_style and style in format_of_style and isinstance(values.get(column), float):
                sheet.formats[(row_number - 1, column - 1)] = format_of_style[style]
            if across or down:
                sheet.merges.append((row_number - 1, column - 1, row_number - 1 + down, column - 1 + across))
                if down:
                    spans.append((row_number, row_number + down, column, column + across))
            column += across
        _release(table, element)
        if not values:
            # LibreOffice Calc writes every row down to the sheet's last (1 048 576) as <Row><Cell ss:Index="1"/>
            # </Row>: a 4-row table becomes 38 MB of empty rows. An empty row is no row to read; the numbers of the
            # rows that follow say where they are, so a grid still gets the gaps between filled rows.
            continue
        width = max(values)
        yield row_number, [values.get(c) for c in range(1, width + 1)]


def _release(table, element) -> None:
    """A read row leaves the tree (the parser reads ahead, so it is the table's first child, not its last):
    memory stays a chunk's rows, whatever the sheet's size."""
    element.clear()
    if table is not None and len(table) and table[0] is element:
        del table[0]


def read_spreadsheet_xml(path: Path, name: str) -> list[Grid]:
    """Every worksheet as a grid (rows above the first and gaps between rows are empty rows, as on the sheet)."""
    grids = []
    for sheet, rows in iter_sheets(path, name):
        filled: list[tuple] = []
        cells = 0
        for number, values in rows:
            filled.extend([()] * (number - 1 - len(filled)))
            filled.append(tuple(values))
            cells += len(values)
            if cells > MAX_GRID_CELLS:
                raise FileRejected(f"{name}: 工作表「{sheet.name}」过大 (超过 {MAX_GRID_CELLS} 个单元格), 请拆分后重新提交 "
                                   f"(the sheet holds more than {MAX_GRID_CELLS} cells: more than a disclosure table)")
        width = max((len(r) for r in filled), default=0)
        grid_rows = [r + (None,) * (width - len(r)) for r in filled]
        grids.append(Grid(name=sheet.name, rows=grid_rows, merges=sheet.merges, indents=sheet.indents,
                          source_format="xml", hidden=sheet.hidden, formats=sheet.formats))
    if not grids:
        raise FileRejected(f"{name}: XML 表格文件中没有工作表 (an XML Spreadsheet holding no worksheet)")
    return grids


__all__ = ["iter_sheets", "looks_like_spreadsheet_xml", "read_spreadsheet_xml"]
