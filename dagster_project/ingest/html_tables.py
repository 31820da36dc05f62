"""Reader: an HTML page saved under a workbook's name — what many web systems' 导出Excel writes.

A platform's or a finance system's "export to Excel" often writes an HTML table (``<html xmlns:x="urn:schemas-
microsoft-com:office:excel">…<table>``) and names it ``.xls``; Excel and WPS open it as a sheet, so publishers send it
as one. Each ``<table>`` becomes a ``Grid`` (``表1``, ``表2`` … or its ``<caption>``), laid out as a browser lays it
out: ``rowspan``/``colspan`` are merged spans whose value sits in the top-left cell, text is whitespace-collapsed as
rendered (``<br>`` a line break; ``&nbsp;`` and full-width spaces kept, since they show an item's level), and the
lines of text just before a table (its title, ``单位：万元``; none above a horizontal rule) are its first rows — where
a sheet holds them. LibreOffice Calc's web page of a workbook (a rule, its list of sheets, a rule, then per sheet
``<A NAME="table0"><h1>Sheet 1: <em>name</em></h1></A>`` and the table) reads as its sheets, each named by its heading.
A table nested in a cell is read as that cell's text.

Encoding: a byte-order mark, else strict UTF-8, else GB18030 (what ``charset=gb2312``/``gbk`` pages are written in).
Files are read whole, so one over ``MAX_BYTES`` is refused (export it as CSV or .xlsx).
"""
from __future__ import annotations

import codecs
import re
from html.parser import HTMLParser
from pathlib import Path

from dagster_project.ingest.framework import FileRejected
from dagster_project.ingest.grid import Grid

MAX_BYTES = 64 << 20
# cells a table may lay out (width × rows): a few spans must not ask for more than a sheet's worth
MAX_CELLS = 8_000_000
# how far into a file its markup is looked for (after a BOM and whitespace)
SNIFF_BYTES = 4096
_MARKUP = re.compile(rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|meta|body|table)\b",
                     re.I | re.S)
_COLLAPSE = re.compile(r"[ \t\r\n\f]+")
# Excel's web page indents a cell by style, not by spaces: the alignment indent an .xlsx cell carries
_INDENT = re.compile(r"mso-char-indent-count\s*:\s*(\d+)", re.I)
_NOT_SHOWN = re.compile(r"display\s*:\s*none", re.I)
_BREAK = "\x00"  # a <br> (or a nested table's row) until whitespace is collapsed; no text holds it
_LINE_TAGS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li"}
# not shown on the sheet Excel or WPS makes of the page
_HIDDEN_TAGS = {"script", "style", "title"}
_SHEET_ANCHOR = re.compile(r"table\d+$", re.I)
_SHEET_LINK = re.compile(r"#table\d+$", re.I)


def looks_like_html(head: bytes) -> bool:
    """The first bytes of a file open an HTML page or table (after an optional BOM)."""
    for bom in (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        if head.startswith(bom):
            head = head[len(bom):]
            if bom != codecs.BOM_UTF8:
                head = head.decode("utf-16-le" if bom == codecs.BOM_UTF16_LE else "utf-16-be", "ignore").encode()
            break
    return bool(_MARKUP.match(head[:SNIFF_BYTES]))


def decode(data: bytes) -> str:
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                          (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(encoding, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def _inner_nbsp(line: str) -> str:
    """``&nbsp;`` inside a line is the space a person sees (``2018-06-04&nbsp;09:30``); leading ones stay, as they
    show an item's level (an exporter's way to indent)."""
    if "\xa0" not in line:
        return line
    body = line.lstrip("\xa0\u3000")
    return line[:len(line) - len(body)] + body.replace("\xa0", " ")


def _span(value: str | None) -> int:
    try:
        return max(1, min(int((value or "1").strip()), 1000))
    except ValueError:
        return 1


class _Tables(HTMLParser):
    """Top-level tables as (caption, rows of (text, rowspan, colspan, indent)), and the text lines before each."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[tuple[str | None, list[str], list[list[tuple[str, int, int, int]]]]] = []
        self.depth = 0  # <table> nesting
        self.loose: list[str] = []  # text lines outside any table since the last one
        self.line: list[str] = []
        self.rows: list[list[tuple[str, int, int, int]]] = []
        self.cell: list[str] | None = None
        self.spans = (1, 1, 0)  # rowspan, colspan, indent
        self.caption: list[str] | None = None
        self.in_caption = False
        self.hidden: set[int] = set()  # rows styled display:none (Excel's web page ends with one of column widths)
        self.skip = 0  # inside <script>, <style>, <title>
        # LibreOffice Calc's web page heads each sheet's table with <A NAME="table0"><h1>Sheet 1: <em>表名</em></h1></A>
        # (the targets of its list of sheets): that heading is the sheet's name, not a line of the sheet
        self.sheet_anchor: int | None = None  # loose lines before the anchor, while inside one
        self.sheet_name: list[str] | None = None  # the <em> text inside it
        self.in_name = False
        self.named: str | None = None  # the name for the next table
        self.sheet_links = False  # a link to a sheet's anchor among the loose lines (Calc's list of sheets)

    # text of a cell or a loose line, rendered: runs of ASCII whitespace are one space, <br> a line break
    @staticmethod
    def _render(parts: list[str]) -> str:
        text = _COLLAPSE.sub(" ", "".join(parts)).replace(_BREAK, "\n")
        return "\n".join(_inner_nbsp(piece.strip(" ")) for piece in text.split("\n")).strip("\n")

    def _end_line(self) -> None:
        text = self._render(self.line).strip()
        if text:
            self.loose.append(text)
        self.line = []

    def _end_cell(self) -> None:
        if self.cell is not None and self.rows:
            self.rows[-1].append((self._render(self.cell), *self.spans))
        self.cell = None

    def handle_starttag(self, tag, attrs):
        if tag in _HIDDEN_TAGS:
            self.skip += 1
            return
        if tag == "table":
            self.depth += 1
            if self.depth == 1:
                self._end_line()
                self.rows, self.caption = [], None
                return
        if self.depth == 1:
            if tag == "tr":
                self._end_cell()
                self.rows.append([])
                if _NOT_SHOWN.search(dict(attrs).get("style") or ""):
                    self.hidden.add(len(self.rows) - 1)
            elif tag in ("td", "th"):
                self._end_cell()
                if not self.rows:
                    self.rows.append([])
                named = dict(attrs)
                indent = _INDENT.search(named.get("style") or "")
                self.cell, self.spans = [], (_span(named.get("rowspan")), _span(named.get("colspan")),
                                             int(indent.group(1)) if indent else 0)
            elif tag == "caption":
                self.caption, self.in_caption = [], True
            elif tag == "br" and self.cell is not None:
                self.cell.append(_BREAK)
        elif self.depth > 1:
            if tag in ("br", "tr", "p", "div") and self.cell is not None:
                self.cell.append(_BREAK)
            elif tag in ("td", "th") and self.cell is not None:
                self.cell.append(" ")
        elif tag == "a" and _SHEET_ANCHOR.match(dict(attrs).get("name") or ""):
            self._end_line()
            self.sheet_anchor, self.sheet_name = len(self.loose), None
        elif tag == "em" and self.sheet_anchor is not None:
            self.sheet_name, self.in_name = [], True
        elif tag == "a" and _SHEET_LINK.match(dict(attrs).get("href") or ""):
            self.sheet_links = True
        elif tag == "hr":
            # LibreOffice Calc's web page opens with a rule, its list of sheets (links to #table0 …), a rule: read as
            # the first table's top rows, that list pushed its title out of reach and the table was lost. A rule
            # after such a list ends it; any other rule keeps the lines above it (a title over a rule over its table)
            self._end_line()
            if self.sheet_links:
                self.loose, self.sheet_links = [], False
        elif tag == "br" or tag in _LINE_TAGS:
            self._end_line()

    def handle_endtag(self, tag):
        if tag in _HIDDEN_TAGS:
            self.skip = max(0, self.skip - 1)
            return
        if tag == "table" and self.depth:
            self.depth -= 1
            if self.depth == 0:
                self._end_cell()
                caption = self._render(self.caption).strip() if self.caption else None
                shown = [row for index, row in enumerate(self.rows) if index not in self.hidden]
                self.tables.append((caption or self.named, self.loose, shown))
                self.loose, self.rows, self.hidden, self.named = [], [], set(), None
            return
        if self.depth == 1:
            if tag in ("td", "th"):
                self._end_cell()
            elif tag == "tr":
                self._end_cell()
            elif tag == "caption":
                self.in_caption = False
        elif self.depth == 0 and tag == "em":
            self.in_name = False
        elif self.depth == 0 and tag == "a" and self.sheet_anchor is not None:
            self._end_line()
            heading = self.loose[self.sheet_anchor:]
            name = self._render(self.sheet_name).strip() if self.sheet_name else ""
            if name and len(heading) == 1:  # Calc's heading: the sheet's name, off the table's lines
                del self.loose[self.sheet_anchor:]
                self.named = name
            self.sheet_anchor, self.sheet_name, self.in_name = None, None, False
        elif self.depth == 0 and tag in _LINE_TAGS:
            self._end_line()

    def handle_data(self, data):
        if self.skip:
            return
        if self.depth >= 1 and self.cell is not None:
            self.cell.append(data)
        elif self.depth == 1 and self.in_caption:
            self.caption.append(data)
        elif self.depth == 0:
            self.line.append(data)
            if self.in_name:
                self.sheet_name.append(data)


def _grid(name: str, lead: list[str], rows: list[list[tuple[str, int, int, int]]], file_name: str) -> Grid:
    """Lay cells out as a browser does: a cell takes the first column its row leaves free; a rowspan reaches no
    further than the table's last row (browsers clip it so). Occupied stretches are kept per row as column ranges,
    so a cell spanning a thousand columns costs one entry, not a thousand."""
    taken: list[list[tuple[int, int]]] = [[] for _ in rows]  # per row: (first, last) columns held by spans above
    placed: dict[tuple[int, int], str] = {}
    indents: dict[tuple[int, int], int] = {}
    merges = []
    width = 0
    for r, row in enumerate(rows):
        c = 0
        for text, rowspan, colspan, indent in row:
            moved = True
            while moved:
                moved = False
                for first, last in taken[r]:
                    if first <= c <= last:
                        c, moved = last + 1, True
            rowspan = min(rowspan, len(rows) - r)
            for dr in range(1, rowspan):
                taken[r + dr].append((c, c + colspan - 1))
            placed[(r, c)] = text
            if indent:
                indents[(r + len(lead), c)] = indent
            if rowspan > 1 or colspan > 1:
                merges.append((r, c, r + rowspan - 1, c + colspan - 1))
            c += colspan
            width = max(width, c)
        if width * len(rows) > MAX_CELLS:
            raise FileRejected(f"{file_name}: 网页表格「{name}」过大 (超过 {MAX_CELLS} 个单元格), 请导出为 CSV 或 .xlsx 后"
                               f"重新提交 (the HTML table {name} spans more than {MAX_CELLS} cells: export it as CSV or "
                               f".xlsx and submit it again)")
    body = [tuple(placed.get((r, c)) or None for c in range(width)) for r in range(len(rows))]
    offset = len(lead)
    grid_rows = [(text,) + (None,) * max(0, width - 1) for text in lead] + body
    merges = [(r0 + offset, c0, r1 + offset, c1) for r0, c0, r1, c1 in merges]
    return Grid(name=name, rows=grid_rows, merges=merges, indents=indents, source_format="html")


def read_html_tables(path: Path, name: str) -> list[Grid]:
    """Every top-level table of an HTML file as a grid (see the module docstring)."""
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise FileRejected(
            f"{name}: 网页格式的表格过大 ({size >> 20} MB), 请导出为 CSV 或 .xlsx 后重新提交 (an HTML table of "
            f"{size >> 20} MB, more than gongkai reads from a web page: export it as CSV or .xlsx and submit it again)")
    parser = _Tables()
    parser.feed(decode(path.read_bytes()))
    parser.close()
    if parser.depth:  # a table left open at the end of the file (a cut download): keep what was read
        parser.depth = 1
        parser.handle_endtag("table")
    tables = [(caption, lead, rows) for caption, lead, rows in parser.tables if any(any(cell[0] for cell in row)
                                                                                      for row in rows)]
    if not tables:
        from dagster_project.ingest.readers import refuse

        raise refuse(name, "是一个没有表格的网页（可能是下载失败时的错误页）",
                     "an HTML page holding no table (perhaps the error page of a failed download)")
    names: set[str] = set()
    grids = []
    for index, (caption, lead, rows) in enumerate(tables, start=1):
        label = caption if caption and caption not in names else f"表{index}"
        names.add(label)
        grids.append(_grid(label, lead, rows, name))
    return grids


__all__ = ["MAX_BYTES", "looks_like_html", "read_html_tables"]
