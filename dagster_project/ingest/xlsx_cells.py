"""The cells of an .xlsx workbook, read without building openpyxl's worksheet objects.

openpyxl's ``load_workbook`` spends about two thirds of a budget workbook's parse building a ``Cell`` object
(with its style array) for every cell and a descriptor object for every sheet property (views, page set-up,
print options) — things a grid never looks at. This reader keeps openpyxl for everything that decides what a
value *is* (the package manifest, the shared strings, the stylesheet's date and indent styles, the workbook's
epoch and sheet list, and ``WorkSheetParser.parse_cell`` for each cell) and only skips the object building, so
a sheet reads to the same values, merges and indents as through ``load_workbook(data_only=True)`` — and both readers
(``readers._xlsx_grid`` for the full one) add each numeric cell's number format (``SheetCells.formats``) and read a
serial under an East-Asian built-in date format (numFmtId 31 …, which openpyxl does not know) as its date.

Whatever this reader does not reproduce exactly (hyperlinks, which openpyxl writes into empty cells;
duplicate or invalid sheet titles; anything it cannot parse) raises ``NotPlain`` and the caller reads the file
through ``load_workbook`` as before — same values, same refusal messages. One difference is deliberate: the parts
no grid reads (document properties, theme, defined names) are not parsed, so a workbook whose only fault is a
broken ``docProps/core.xml`` now loads instead of being refused.

Checked: the sample's workbooks, 1 289 workbooks of the 1 M benchmark, files written by openpyxl and XlsxWriter
(shared and inline strings, rich text, merges with a value under them, dates, indents) and the same re-saved by
LibreOffice Calc 7.4 read to the same grids both ways (``tests/test_xlsx_cells.py`` keeps the first kinds).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import iterparse

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _MERGE, _HYPERLINKS = _MAIN + "row", _MAIN + "mergeCell", _MAIN + "hyperlinks"
_SHARED_STRING, _INLINE_STRING = _MAIN + "si", _MAIN + "is"


class NotPlain(Exception):
    """The workbook needs openpyxl's full reader to be read exactly as before."""


@dataclass
class SheetCells:
    """One worksheet: values by 1-based (row, column), merged ranges in file order, indents by cell."""

    title: str
    values: dict[tuple[int, int], object] = field(default_factory=dict)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # 1-based inclusive
    indents: dict[tuple[int, int], int] = field(default_factory=dict)
    hidden: bool = False  # the sheet's state is hidden or veryHidden
    formats: dict[tuple[int, int], str] = field(default_factory=dict)  # number format of numeric cells, not General
    # the sheet's XML holds "<f" (uncached_formulas' own test before it looks for formulas without a saved value)
    formula_text: bool = False


def read_cells(path: Path) -> list[SheetCells]:
    """Every worksheet of an .xlsx/.xlsm, in workbook order (chartsheets skipped, as openpyxl does)."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet

    # a handle, not the name: openpyxl refuses a name not ending in .xlsx/.xlsm, and the form is the content's
    # (WPS and users rename workbooks .xls)
    with warnings.catch_warnings(), path.open("rb") as handle:
        warnings.simplefilter("ignore")  # style warnings, as in readers.read_xlsx
        reader = ExcelReader(handle, read_only=False, keep_vba=False, data_only=True, keep_links=False)
        try:
            reader.read_manifest()
            _read_shared_strings(reader)
            reader.read_workbook()
            apply_stylesheet(reader.archive, reader.wb)
            return _read_worksheets(reader)
        finally:
            reader.archive.close()


def _text_content(node) -> str:
    """``openpyxl.cell.text.Text.from_tree(node).content`` without its descriptor objects: the last plain
    ``<t>`` child, then each rich-text run's last ``<t>``; phonetic runs (``<rPh>``) are not text."""
    plain, runs = None, []
    for child in node:
        tag = child.tag.rpartition("}")[2]
        if tag == "t":
            plain = child.text
        elif tag == "r":
            text = None
            for part in child:
                if part.tag.rpartition("}")[2] == "t":
                    text = part.text
            if text is not None:
                runs.append(text)
    return (plain if plain is not None else "") + "".join(runs)


def _read_shared_strings(reader) -> None:
    """``ExcelReader.read_strings`` (``read_string_table``), each string read by ``_text_content``."""
    from openpyxl.xml.constants import SHARED_STRINGS  # the content type openpyxl looks up

    part = reader.package.find(SHARED_STRINGS)
    if part is None:
        return
    strings = []
    with reader.archive.open(part.PartName[1:]) as source:
        for _event, node in iterparse(source):
            if node.tag == _SHARED_STRING:
                strings.append(_text_content(node).replace("x005F_", ""))
                node.clear()
    reader.shared_strings = strings


def _read_worksheets(reader) -> list[SheetCells]:
    from openpyxl.worksheet._reader import WorkSheetParser

    wb = reader.wb
    cell_styles, alignments = wb._cell_styles, wb._alignments
    indent_of_style = {}
    for style_id, style in enumerate(cell_styles):
        indent = alignments[style.alignmentId].indent if style.alignmentId else 0
        if indent:
            indent_of_style[style_id] = int(indent)
    format_of_style, asian_dates = number_formats_of_styles(wb)
    sheets: list[SheetCells] = []
    titles: set[str] = set()
    for sheet, rel in reader.parser.find_sheets():
        if rel.target not in reader.valid_files:
            continue
        if "chartsheet" in rel.Type:
            continue
        title = sheet.name
        if not title or title in titles or any(ch in title for ch in '\\*?:/[]'):
            raise NotPlain(f"sheet title {title!r}")  # openpyxl renames or refuses such a title
        titles.add(title)
        out = SheetCells(title=title, hidden=(sheet.state or "visible") != "visible")
        with reader.archive.open(rel.target) as raw:
            source = FormulaMark(raw)
            parser = WorkSheetParser(source, reader.shared_strings, data_only=True, epoch=wb.epoch,
                                     date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)
            _parse_sheet(source, parser, out, indent_of_style, len(cell_styles), format_of_style, asian_dates, wb.epoch)
            out.formula_text = source.seen
        sheets.append(out)
    return sheets


class FormulaMark:
    """A sheet's XML as the parser reads it, noting whether the bytes hold ``<f`` — the test ``uncached_formulas``
    makes before it looks for formulas without a saved value. A workbook none of whose sheets holds it (the usual
    one) then needs no second pass over its sheets (opening the package again, inflating every sheet: ~3 % of a
    budget workbook's parse). Bytes, not text: ``<`` and ``f`` are one byte each in UTF-8 and no decoding error
    makes or hides them."""

    __slots__ = ("_source", "_last", "seen")

    def __init__(self, source) -> None:
        self._source, self._last, self.seen = source, b"", False

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        if data and not self.seen:
            self.seen = b"<f" in data or (self._last == b"<" and data[:1] == b"f")  # split between two reads
            self._last = data[-1:]
        return data


def number_formats_of_styles(wb) -> tuple[dict[int, str], set[int]]:
    """Style id → number format code (General left out), and the style ids whose format is an East-Asian built-in
    date (ECMA-376 ids 27–36, 50–58: openpyxl knows them not, so their dates would read as serial numbers)."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE

    from dagster_project.ingest.number_formats import EAST_ASIAN_BUILTIN, is_general

    formats, asian_dates = {}, set()
    custom = wb._number_formats
    for style_id, style in enumerate(wb._cell_styles):
        number_id = style.numFmtId or 0
        if number_id in EAST_ASIAN_BUILTIN:
            code = EAST_ASIAN_BUILTIN[number_id]
            asian_dates.add(style_id)
        elif number_id >= BUILTIN_FORMATS_MAX_SIZE:
            index = number_id - BUILTIN_FORMATS_MAX_SIZE
            code = custom[index] if index < len(custom) else None
        else:
            code = BUILTIN_FORMATS.get(number_id)
        if not is_general(code):
            formats[style_id] = code
    return formats, asian_dates


def _inline_string_cell(parser, element):
    """``WorkSheetParser.parse_cell`` for a ``t="inlineStr"`` cell (the form scripts write), with the text read
    by ``_text_content``: ((row, column), value, style id), the parser's column counter moved the same way."""
    from openpyxl.utils.cell import coordinate_to_tuple

    coordinate = element.get("r")
    if coordinate:
        row, column = coordinate_to_tuple(coordinate)
        parser.col_counter = column
    else:
        parser.col_counter += 1
        row, column = parser.row_counter, parser.col_counter
    style_id = element.get("s", 0)
    if style_id:
        style_id = int(style_id)
    child = element.find(_INLINE_STRING)
    return (row, column), (_text_content(child) if child is not None else None), style_id


def _parse_sheet(source, parser, out: SheetCells, indent_of_style: dict[int, int], style_count: int,
                 format_of_style: dict[int, str], asian_dates: set[int], epoch) -> None:
    from openpyxl.utils.datetime import from_excel
    from openpyxl.worksheet.cell_range import CellRange

    values = out.values
    for _event, element in iterparse(source):
        tag = element.tag
        if tag == _ROW:
            row_attr = element.get("r")
            if row_attr is not None:
                number = float(row_attr)
                if not number.is_integer():
                    raise NotPlain(f"row number {row_attr!r}")
                parser.row_counter = int(number)
            else:
                parser.row_counter += 1
            parser.col_counter = 0
            for cell_element in element:  # every child, as openpyxl's parse_row does
                if cell_element.get("t") == "inlineStr":
                    key, value, style_id = _inline_string_cell(parser, cell_element)
                else:
                    cell = parser.parse_cell(cell_element)
                    key, value, style_id = (cell["row"], cell["column"]), cell["value"], cell["style_id"]
                if style_id >= style_count:
                    raise NotPlain(f"style {style_id}")  # openpyxl fails on it: keep its message
                # most cells are General: one dict miss (a cell written twice keeps its last format, as its value)
                number_format = format_of_style.get(style_id) if style_id else None
                if number_format is not None and value.__class__ in (int, float):
                    if style_id in asian_dates:
                        value = _asian_date(value, epoch, from_excel)
                    else:
                        out.formats[key] = number_format
                elif out.formats and key in out.formats:
                    del out.formats[key]
                values[key] = value
                indent = indent_of_style.get(style_id)
                if indent:
                    out.indents[key] = indent
                else:
                    out.indents.pop(key, None)
            element.clear()
        elif tag == _MERGE:
            bounds = CellRange(element.get("ref")).bounds  # (min_col, min_row, max_col, max_row)
            merge = (bounds[1], bounds[0], bounds[3], bounds[2])
            if merge not in out.merges:
                out.merges.append(merge)
        elif tag == _HYPERLINKS:
            raise NotPlain("hyperlinks")  # openpyxl writes a link's target into an empty cell
    # openpyxl keeps only a merged range's top-left value; the other cells become empty MergedCells. The cells read
    # are visited, not the ranges' cells: a merge over whole columns (A1:A1048576) would be a million steps.
    if out.merges:
        for r, c in list(values):
            if any(r0 <= r <= r1 and c0 <= c <= c1 and (r, c) != (r0, c0) for r0, c0, r1, c1 in out.merges):
                values[(r, c)] = None
                out.indents.pop((r, c), None)
                out.formats.pop((r, c), None)


def _asian_date(value, epoch, from_excel):
    """A serial under a Chinese built-in date format is the date a person sees (a time of day stays a time)."""
    import datetime as dt

    try:
        moment = from_excel(value, epoch)
    except (ValueError, OverflowError):
        return value  # out of the calendar's range: the number, as Excel shows ####
    if isinstance(moment, dt.datetime) and moment.time() == dt.time():
        return moment.date()
    return moment


__all__ = ["FormulaMark", "NotPlain", "SheetCells", "number_formats_of_styles", "read_cells"]
