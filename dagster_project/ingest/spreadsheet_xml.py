"""Reader: an XML Spreadsheet 2003 (SpreadsheetML) saved as .xls — what Java systems' template exports write.

Finance and trading systems built on Java commonly export "Excel" by filling an XML Spreadsheet 2003 template
(``<?mso-application progid="Excel.Sheet"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">``) and
naming it ``.xls``; Excel and WPS open it as a workbook, so publishers send it as one. Each ``<Worksheet>`` becomes
a ``Grid`` named by ``ss:Name``: ``ss:Index`` places rows and cells, ``ss:MergeAcross``/``ss:MergeDown`` are merged
spans (a cell without an index skips columns an earlier row's ``MergeDown`` covers), ``<Data ss:Type>`` gives the
value (``Number`` a number, ``DateTime`` a date/time, ``Boolean``, ``String`` — rich text read as its text), and a
style's ``<Alignment ss:Indent>`` the cell's indent.

The file is read as a stream (``iterparse``): ``iter_sheets`` yields each sheet's rows one at a time, so a trading
export of many rows never sits in memory whole; ``read_spreadsheet_xml`` collects them into grids for the budget
recogniser. ElementTree never fetches external entities, and expat (≥ 2.4) stops an entity bomb: both are the
file's refusal, as malformed XML is.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Iterator
from xml.etree.ElementTree import ParseError, iterparse

from dagster_project.ingest.framework import FileRejected
from dagster_project.ingest.grid import Grid

NS = "urn:schemas-microsoft-com:office:spreadsheet"
_SS = "{" + NS + "}"
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


def _value(kind: str | None, text: str):
    if kind == "Number":
        try:
            return float(text)
        except ValueError:
            return text
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
        self.covered: dict[int, set[int]] = {}  # row → columns an earlier row's MergeDown covers


def iter_sheets(path: Path, name: str) -> Iterator[tuple[_Sheet, Iterator[tuple[int, list]]]]:
    """(sheet, its rows as (1-based row, values)) in workbook order; the rows must be consumed before the next
    sheet is asked for (one pass over the file). A file that is no well-formed XML is refused naming the line."""
    events = _events(path, name)
    indent_of_style: dict[str, int] = {}
    for event, element in events:
        if event == "end" and element.tag == _SS + "Style":
            alignment = element.find(_SS + "Alignment")
            if alignment is not None and _int(alignment.get(_SS + "Indent")):
                indent_of_style[element.get(_SS + "ID", "")] = _int(alignment.get(_SS + "Indent"))
        elif event == "start" and element.tag == _SS + "Worksheet":
            sheet = _Sheet(element.get(_SS + "Name") or "Sheet")
            yield sheet, _rows(events, sheet, indent_of_style)


def _events(path: Path, name: str):
    """iterparse's events; malformed XML (a cut download, an entity bomb expat stops) is the file's refusal."""
    try:
        yield from iterparse(str(path), events=("start", "end"))
    except ParseError as exc:
        line = exc.position[0] if exc.position else "?"
        raise FileRejected(f"{name}: XML 表格文件第{line}行无法解析 (the XML Spreadsheet cannot be read at line {line}): "
                           f"{exc}") from None


def _rows(events, sheet: _Sheet, indent_of_style: dict[str, int]) -> Iterator[tuple[int, list]]:
    row_number, table = 0, None
    for event, element in events:
        if event == "start" and element.tag == _SS + "Table":
            table = element
        if event == "end" and element.tag == _SS + "Worksheet":
            return
        if event != "end" or element.tag != _SS + "Row":
            continue
        row_number = _int(element.get(_SS + "Index"), row_number + 1)
        covered = sheet.covered.pop(row_number, set())
        values: dict[int, object] = {}
        column = 0
        for cell in element.findall(_SS + "Cell"):
            index = cell.get(_SS + "Index")
            if index is not None:
                column = _int(index, column + 1)
            else:
                column += 1
                while column in covered:
                    column += 1
            data = cell.find(_SS + "Data")
            if data is not None:
                values[column] = _value(data.get(_SS + "Type"), "".join(data.itertext()))
            indent = indent_of_style.get(cell.get(_SS + "StyleID", ""), 0)
            if indent and data is not None:
                sheet.indents[(row_number - 1, column - 1)] = indent
            across, down = _int(cell.get(_SS + "MergeAcross")), _int(cell.get(_SS + "MergeDown"))
            if across or down:
                sheet.merges.append((row_number - 1, column - 1, row_number - 1 + down, column - 1 + across))
                for r in range(row_number + 1, row_number + down + 1):
                    sheet.covered.setdefault(r, set()).update(range(column, column + across + 1))
            column += across
        if table is not None and len(table) and table[-1] is element:
            table.remove(element)  # a read row leaves the tree: memory stays one row, whatever the sheet's size
        width = max(values, default=0)
        yield row_number, [values.get(c) for c in range(1, width + 1)]


def read_spreadsheet_xml(path: Path, name: str) -> list[Grid]:
    """Every worksheet as a grid (rows above the first and gaps between rows are empty rows, as on the sheet)."""
    grids = []
    for sheet, rows in iter_sheets(path, name):
        filled: list[tuple] = []
        for number, values in rows:
            filled.extend([()] * (number - 1 - len(filled)))
            filled.append(tuple(values))
        width = max((len(r) for r in filled), default=0)
        grid_rows = [r + (None,) * (width - len(r)) for r in filled]
        grids.append(Grid(name=sheet.name, rows=grid_rows, merges=sheet.merges, indents=sheet.indents,
                          source_format="xml"))
    if not grids:
        raise FileRejected(f"{name}: XML 表格文件中没有工作表 (an XML Spreadsheet holding no worksheet)")
    return grids


__all__ = ["iter_sheets", "looks_like_spreadsheet_xml", "read_spreadsheet_xml"]
