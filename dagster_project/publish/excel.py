"""Excel-friendly copies of the published datasets: ``data/<dataset>.xlsx`` beside the CSV.

Opened in Excel, a CSV loses what a person needs most: an 18-digit all-numeric code (a 事业单位's
统一社会信用代码, a row key) becomes ``1.2164E+17`` and loses its last digits, and a leading ``=``
turns a text into a formula. The workbook stores every text cell as a string (an inline string: all
digits kept, never a formula), dates and times as Excel dates, numbers as numbers, booleans as
booleans.

Rows never pass through Python: DuckDB writes the worksheet's ``<row>`` elements (one per line, the
way the OCDS packages are written) and Python zips them with the few fixed parts of a workbook
(openpyxl managed ~2 500 rows/s on the sample's budget lines; this writes them 13 times faster). A
dataset gets a workbook when it has at most ``release.xlsx_max_rows`` rows (``datasets.yaml``; never
more than Excel's 1 048 575): inline-string XML is bulky (1 M trading bulletins: a 2.1 GB sheet, ~1 min),
so large datasets keep CSV and Parquet and the manifest says why. ``cell_xml`` is the one place a cell
is written, from the texts ``write_sheet_rows`` has cut to what an Excel cell holds (``_cut_to_cell``).
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import duckdb

from dagster_project.publish import safe_cells

EXCEL_MAX_ROWS = 1_048_576 - 1          # one row is the header
MEDIATYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# how a text cell's text opens (an inline string keeping its spaces): a carried quality run finds its run id by it
# (quality/findings_xlsx.py)
TEXT_OPEN = '<t xml:space="preserve">'
# cellXfs of styles.xml: 0 general, 1 date, 2 date and time, 3 header (bold)
_STYLE_DATE, _STYLE_DATETIME, _STYLE_HEADER = 1, 2, 3
_NUMBER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "UBIGINT", "DECIMAL", "DOUBLE", "FLOAT", "REAL", "NUMERIC")


def column_letter(i: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


_FORBIDDEN = "\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x{FFFE}\\x{FFFF}"  # characters XML 1.0 forbids

# Excel keeps at most 32 767 characters (UTF-16 code units) in a cell and "repairs" a workbook holding a longer text,
# dropping its cells. A publisher's text can be longer (a bulletin's whole body in one field): the workbook's cell is
# cut and says so; the CSV and Parquet beside it keep the whole text.
EXCEL_CELL_MAX = 32_767
CUT_MARK = "…[截断 cut: full text in CSV]"  # every character in the Basic Multilingual Plane: one code unit each


def _cut_to_cell(text: str) -> str:
    """SQL: the text expression ``text`` whole when it fits in a cell with the spreadsheet guard's ``'`` it may take,
    else cut with ``CUT_MARK`` after it (room left for a guard either way). A text of fewer bytes than that
    fits (a character is at least as many UTF-8 bytes as UTF-16 units), so units are counted only for the rare long
    text. A character beyond the Basic Multilingual Plane is two units: a prefix of ``k`` characters with ``a`` of
    them is ``k + a`` units, its first ``k - a`` characters at most ``k`` units, and ``d`` characters more at most
    ``2d`` units more. Exact for a text of one kind; one mixing both may keep a little less than would fit."""
    fits = EXCEL_CELL_MAX - 1  # the guard's '
    room = fits - len(CUT_MARK)

    def units(x: str) -> str:  # UTF-16 code units of x: its characters, and once more each astral one
        return f"(2 * length({x}) - length(regexp_replace({x}, '[\\x{{10000}}-\\x{{10FFFF}}]', '', 'g')))"
    head = f"left({text}, {room})"
    within = f"(2 * length({head}) - {units(head)})"
    kept = f"({within} + ({room} - {units(f'left({text}, {within})')}) // 2)"
    guard = f"CASE WHEN {safe_cells.guarded_sql(text, _FORBIDDEN)} THEN 1 ELSE 0 END"
    # one WHEN each: a CASE reads a later WHEN only for the rows an earlier one left
    return (f"CASE WHEN strlen({text}) <= {fits} THEN {text} "
            f"WHEN {units(text)} + {guard} <= {EXCEL_CELL_MAX} THEN {text} "
            f"ELSE left({text}, {kept}) || '{CUT_MARK}' END")


def _cell_kind(duckdb_type: str) -> str:
    """How a column of this DuckDB type is written: boolean, number, date, timestamp — or text (every other type)."""
    t = duckdb_type.upper()
    if t == "BOOLEAN":
        return "boolean"
    if t.startswith(_NUMBER_TYPES):
        return "number"
    if t == "DATE":
        return "date"
    return "timestamp" if t.startswith("TIMESTAMP") else "text"


def _text_form(col: str, duckdb_type: str) -> str | None:
    """SQL: the text a cell of this type shows (``col`` quoted), or None for a typed cell (number, date, boolean)."""
    if _cell_kind(duckdb_type) != "text":
        return None
    return f"array_to_string({col}, '; ')" if duckdb_type.upper().endswith("[]") else f"CAST({col} AS VARCHAR)"


def _quoted(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _sql_text(expr: str, scanned: str | None = None) -> str:
    """XML text of a VARCHAR expression: characters XML 1.0 forbids dropped, & < > escaped. Most texts hold none
    of them: one scan finds those that do (four rewriting passes over every text cost ~1.5x the sheet's SQL).
    ``scanned``: a simpler expression holding the same characters of that class (the text before the spreadsheet
    guard, which adds only a ``'``): scanned instead, so ``expr`` is computed once a cell — the scan of the guarded
    text evaluated the guard twice (−20 % of a sheet's SQL; the same bytes)."""
    cleaned = f"regexp_replace({expr}, '[{_FORBIDDEN}]', '', 'g')"
    escaped = f"replace(replace(replace({cleaned}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')"
    return f"(CASE WHEN regexp_matches({scanned or expr}, '[&<>{_FORBIDDEN}]') THEN {escaped} ELSE {expr} END)"


def cell_xml(column: str, duckdb_type: str, letter: str, row: str) -> str:
    """SQL for the XML of one cell of ``column`` (NULL when the value is NULL: the cell is left out).

    ``letter`` is the cell's column letters (``B``), ``row`` a SQL expression of its row number as text. The cell is
    one ``concat`` of its pieces (a chain of ``||`` made a string per piece: ~25 % of a sheet's SQL); every piece
    is a value where the cell is written (the column is not NULL there), so ``concat``, which reads NULL as '', and
    ``||`` give the same text."""
    col = _quoted(column)
    t = duckdb_type.upper()
    kind = _cell_kind(t)
    start = f"""'<c r="{letter}', {row}"""
    if kind == "boolean":
        return f"""CASE WHEN {col} IS NOT NULL THEN concat({start}, '" t="b"><v>', CASE WHEN {col} THEN '1' ELSE '0' END, '</v></c>') END"""
    if kind == "number":
        value = f"CAST({col} AS VARCHAR)"
        finite = f"{col} IS NOT NULL" + (f" AND isfinite({col})" if t.startswith(("DOUBLE", "FLOAT", "REAL")) else "")
        return f"""CASE WHEN {finite} THEN concat({start}, '"><v>', {value}, '</v></c>') END"""
    if kind == "date":
        serial = f"CAST(date_diff('day', DATE '1899-12-30', {col}) AS VARCHAR)"
        return f"""CASE WHEN {col} IS NOT NULL THEN concat({start}, '" s="{_STYLE_DATE}"><v>', {serial}, '</v></c>') END"""
    if kind == "timestamp":
        ts = f"CAST({col} AS TIMESTAMP)"
        serial = f"CAST(round(epoch({ts} - TIMESTAMP '1899-12-30 00:00:00') / 86400.0, 8) AS VARCHAR)"
        return f"""CASE WHEN {col} IS NOT NULL THEN concat({start}, '" s="{_STYLE_DATETIME}"><v>', {serial}, '</v></c>') END"""
    text = _text_form(col, t)
    # Inline strings are never formulas, but a user who edits the cell turns "=…" into one: neutralise text
    # exactly as the CSV beside it (publish/safe_cells.py), so both files hold the same bytes — but for characters
    # XML forbids, which only the workbook drops: a dangerous character behind them is first in the workbook.
    safe = safe_cells.neutralise_sql(text, dropped_later=_FORBIDDEN)  # the value, or ' and the value
    return (f"""CASE WHEN {col} IS NOT NULL THEN concat({start}, '" t="inlineStr"><is>{TEXT_OPEN}', """
            f"""{_sql_text(safe, scanned=text)}, '</t></is></c>') END""")


def _header_xml(names: list[str]) -> str:
    def esc(s: str) -> str:
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    cells = "".join(f'<c r="{column_letter(i)}1" t="inlineStr" s="{_STYLE_HEADER}"><is><t>{esc(n)}</t></is></c>'
                    for i, n in enumerate(names))
    return f'<row r="1">{cells}</row>'


_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>"""
_ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"""
_WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"""
_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/><numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts><fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"""


def _member(name: str) -> zipfile.ZipInfo:
    """A workbook part stamped 1980-01-01 (zip's earliest time, which ``ZipFile.open(name, "w")`` gives the sheet
    too): ``writestr`` of a plain name stamps the time of writing, so the same rows gave other bytes at every
    run. Mode bits as ``writestr`` sets them."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.external_attr = 0o600 << 16
    return info


def _workbook(sheet: str) -> str:
    name = sheet[:31].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>')


def write_xlsx(con: duckdb.DuckDBPyConnection, source_sql: str, target: Path, sheet: str) -> int:
    """Write the rows of ``source_sql`` (e.g. ``read_parquet('…')``) as one sheet to ``target``.

    Returns the number of data rows. The caller decides whether the dataset fits (``EXCEL_MAX_ROWS``).
    """
    return write_sheet_rows(con, source_sql, target, sheet)()


def write_sheet_rows(con: duckdb.DuckDBPyConnection, source_sql: str, target: Path, sheet: str,
                     parquet_file: Path | None = None):
    """The first half of ``write_xlsx``: DuckDB writes the sheet's ``<row>`` elements beside ``target``. Returns
    the second half, a function that zips them into the workbook and returns the number of data rows: it
    runs in Python's zlib, which releases the GIL, so a caller may run it in a thread while DuckDB writes
    the next sheet's rows (``release_datasets.write_excel_copies``).

    ``parquet_file``: the rows are that file's (``source_sql`` reads it), in file order. Each row's number is then
    the reader's ``file_row_number`` and DuckDB writes the rows on every core in the order it read them
    (``preserve_insertion_order``); otherwise a ``row_number()`` window and a sort, which run on one thread (at 1 M
    trading rows, ≈ 2× the sheet's SQL). The same rows, numbers and bytes either way."""
    rn = "CAST(rn + 1 AS VARCHAR)"  # row 1 is the header; the row's number as text, once a row (``_gongkai_row`` below)
    ordered = parquet_file is not None and con.execute(
        "SELECT current_setting('preserve_insertion_order')").fetchone()[0] in (True, "true")
    if ordered:
        source_sql = f"read_parquet('{parquet_file.as_posix().replace(chr(39), chr(39) * 2)}', file_row_number = true)"
        numbered = f"SELECT file_row_number AS rn, * EXCLUDE (file_row_number) FROM {source_sql}"
    else:
        numbered = f"SELECT row_number() OVER () AS rn, * FROM {source_sql}"
    columns = [(r[0], str(r[1])) for r in con.execute(f"DESCRIBE SELECT * FROM ({numbered})").fetchall()][1:]
    if ordered:  # file_row_number counts from 0, row_number() from 1
        rn = "CAST(rn + 2 AS VARCHAR)"
    # every text a cell shows, cut to what a cell holds, once, before the cells' SQL reads it (the guard and the XML
    # escapes each read their text several times: the cut inside them multiplied the sheet's plan ≈ 14×)
    texts = {name: _text_form(_quoted(name), t) for name, t in columns}
    numbered = "SELECT rn, " + ", ".join(
        f"{_cut_to_cell(texts[name]) if texts[name] else _quoted(name)} AS {_quoted(name)}" for name, _ in columns) + \
        f" FROM ({numbered})"
    columns = [(name, "VARCHAR" if texts[name] else t) for name, t in columns]
    cells = ", ".join(cell_xml(name, t, column_letter(i), "_gongkai_row") for i, (name, t) in enumerate(columns))
    # one concat a row (a cell left out is NULL: concat reads it as '', as concat_ws did)
    rows_xml = f"SELECT rn, concat('<row r=\"', _gongkai_row, '\">', {cells}, '</row>') AS line " \
               f"FROM (SELECT {rn} AS _gongkai_row, * FROM ({numbered}))"
    part = target.with_name(target.name + ".rows")
    escaped = part.as_posix().replace("'", "''")
    try:
        rows = con.execute(f"COPY (SELECT line FROM ({rows_xml}){'' if ordered else ' ORDER BY rn'}) TO '{escaped}' "
                           "(FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x01')").fetchone()[0]
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    last = f"{column_letter(max(len(columns) - 1, 0))}{rows + 1}"
    head = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<dimension ref="A1:{last}"/>'
            '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
            'state="frozen"/></sheetView></sheetViews><sheetData>' + _header_xml([n for n, _ in columns]))

    def zip_workbook() -> int:
        tmp = target.with_name(target.name + ".tmp")
        try:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=3) as z:
                for name, text in (("[Content_Types].xml", _CONTENT_TYPES), ("_rels/.rels", _ROOT_RELS),
                                   ("xl/workbook.xml", _workbook(sheet)), ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
                                   ("xl/styles.xml", _STYLES)):
                    z.writestr(_member(name), text, zipfile.ZIP_DEFLATED, 3)
                with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as out, open(part, "rb") as src:
                    out.write(head.encode("utf-8"))
                    while block := src.read(16 << 20):
                        out.write(block)
                    out.write(b"</sheetData></worksheet>")
            tmp.replace(target)
        finally:
            part.unlink(missing_ok=True)
            tmp.unlink(missing_ok=True)
        return rows

    return zip_workbook
