"""Trading exports saved as workbooks: the platform's 导出Excel (.xlsx), and .xls as WPS and Excel 97 save it.

RAW_FORMATS lists .xlsx among the trading exports; a file the platform's "export to Excel" button wrote was refused
as an unsupported type. A sheet is read row by row with calamine (``python-calamine``; cached values — a formula
saved without one reads as empty, and platform exports hold none to speak of): a trading export can fill a sheet's
million rows, and the budget readers' grids (every cell a Python object, ~10 KB a row) took 1 GB and 52 s for a
100 000-row export here, calamine 0.3 GB and 5 s. Rows are staged the way a text export is (``StagedFile``:
``source_row``, ``c0 … cN`` as text), so header binding, value parsing, row rejects and the national data standard's
tables are the text exports' own: a new form is a new reader, not a new parser. A web system's export (an HTML table
named .xls, ``html_tables.py``) and a Java system's template export (XML Spreadsheet 2003, ``spreadsheet_xml.py``,
streamed in two passes: headers, then rows) come the same way. A file calamine cannot open goes to
the budget readers for their exact refusal (encrypted, not a workbook …); a sheet of more than ``MAX_CELLS`` cells is
refused (export it as CSV), so one file cannot take the run's memory.

- **Header row**: the first row, within the first ``HEADER_ROWS_SEARCHED``, that names a key field (项目编号,
  统一交易标识码, 公告类型 …) or a table of the national data standard; rows above it (an export's title, its date)
  are noted and not read as records.
- **Sheets**: every sheet with such a header is read (an export over a sheet's 1 048 576 rows continues on the next
  sheet, header repeated); a sheet without one is noted. Columns are matched by header text across sheets.
- **Rows**: a row reject names its sheet and the row Excel shows (``工作表「交易信息」第12行``, the sheet in
  ``raw.load_rejects.sheet``); ``source_row`` is that row with one sheet, and the record's place among all records
  with several (the note gives each sheet's records). Blank rows are skipped; values
  right of the header's last column are counted in the note, not read.
- **Values** as a person reads them: a whole number without ``.0``, other numbers to Excel's 15 significant
  digits (``0.1 + 0.2`` is ``0.3``, not ``0.30000000000000004``), a number of 16 digits or more in exponent form
  (``9.16403007668853E+17``: an 18-digit code held as a number has lost digits; never written out as a code that
  looks whole), a date-formatted cell as ``2018-06-04 09:00:00``;
  a time left as an Excel serial (a cell not formatted as a date) is parsed as the text exports' serials are.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterator

import duckdb

from dagster_project.ingest.framework import FileRejected, RawFile
from dagster_project.ingest.grid import cell_text
from dagster_project.ingest.text_staging import StagedFile

HEADER_ROWS_SEARCHED = 20
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
# the names calamine reads each form under; a workbook named otherwise (an .xlsx renamed .xls) is read by content
_SUFFIXES_OF = {"xlsx": (".xlsx", ".xlsm"), "xls": (".xls",)}


BEYOND_15_DIGITS = 10 ** 15  # the first whole number of 16 digits: Excel and Calc hold 15 significant digits


def value_text(value: object) -> str | None:
    """A cell's value as the text a text export would hold (None for an empty cell)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)) and abs(value) >= BEYOND_15_DIGITS:
        # a whole number of 16+ digits was kept to Excel's 15 significant digits: an 18-digit credit code or ID
        # number typed, or a CSV opened in Excel/Calc, has lost its last digits. Written out whole it became a wrong
        # code that looks right (916403007668852605 read as 916403007668852608 from .xls, …992 from .xlsx); in
        # exponent form, as Excel shows it and a CSV it saves holds it, it says what is left of it
        return format(float(value), ".15g").upper()
    if isinstance(value, float):
        # Excel's 15 significant digits, never in exponent form (5e-05 is written 0.00005)
        return str(int(value)) if value.is_integer() else format(Decimal(format(value, ".15g")), "f")
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    text = cell_text(value)
    return text if text.strip() else None


@dataclass
class _Part:
    name: str  # the sheet
    header_row: int  # the header's sheet row (1-based)
    headers: list[str]
    rows: Iterator  # (sheet row, cell values) of the rows after the header


# A sheet of more cells than this is refused: calamine holds a sheet's cells while it is read (≈ 0.09 KB a cell),
# besides DuckDB's staged rows — a 100 000-row export of 33 columns peaked at 0.8 GB for the whole process here, so
# ≈ 2 GB at the cap (33 columns × 240 000 rows), inside the run's 4 GiB.
MAX_CELLS = 8_000_000
CHUNK_ROWS = 50_000  # rows staged to DuckDB at a time


def _trimmed(headers: list[str]) -> list[str]:
    end = len(headers)
    while end and not headers[end - 1]:
        end -= 1
    return headers[:end]


def _sheet_rows(sheet, rel: str) -> Iterator[tuple[int, list]]:
    """(sheet row, values) of a calamine sheet: its rows start at the sheet's row 1 (empty rows above the data come
    as empty rows), its columns at the first one used. A sheet that breaks while it is read is the file's refusal,
    naming the sheet and the last row read — not a loader failure."""
    number = 0
    try:
        for number, values in enumerate(sheet.iter_rows(), start=1):
            yield number, values
    except Exception as exc:  # noqa: BLE001 - calamine's errors: a damaged sheet
        raise FileRejected(f"{rel}: 工作表「{sheet.name}」第{number + 1}行无法读取 (the sheet cannot be read after row "
                           f"{number}): {type(exc).__name__}: {exc}") from None


def _calamine_sheets(f: RawFile, form: str, hidden: list[str]) -> Iterator[tuple[str, Iterator[tuple[int, list]]]]:
    """(sheet name, its rows) of the visible sheets of an .xlsx/.xls, each sheet's size checked before it is read;
    the hidden sheets' names are added to ``hidden``."""
    from dagster_project.ingest.readers import read_grids
    from python_calamine import CalamineWorkbook, SheetVisibleEnum

    try:
        if f.path.suffix.lower() in _SUFFIXES_OF[form]:
            book = CalamineWorkbook.from_path(str(f.path))
        else:  # calamine picks its reader by the name's suffix; from a handle it goes by the content
            with f.path.open("rb") as handle:
                book = CalamineWorkbook.from_filelike(handle)
        # a hidden sheet (a draft, an old export kept in the file) is none a person opening the file sees: not read,
        # as the budget readers do (workbook.HIDDEN_SHEET); its name goes in the note
        visible = {m.name for m in book.sheets_metadata if m.visible == SheetVisibleEnum.Visible}
        hidden.extend(name for name in book.sheet_names if name not in visible)
        sheets = [book.get_sheet_by_name(name) for name in book.sheet_names if name in visible]
    except Exception as exc:  # noqa: BLE001 - the budget readers name what it is (encrypted, no workbook …)
        read_grids(f.path, f.rel)
        raise FileRejected(f"{f.rel} 不是可读取的Excel工作簿 (not a readable workbook): {type(exc).__name__}: {exc}") \
            from None
    for sheet in sheets:
        if sheet.end is not None:
            rows_used, columns_used = sheet.end[0] + 1, sheet.end[1] - sheet.start[1] + 1
            if rows_used * columns_used > MAX_CELLS:
                raise FileRejected(
                    f"{f.rel}: 工作表「{sheet.name}」过大 ({rows_used} 行 × {columns_used} 列), 请导出为 CSV 后重新提交 "
                    f"(the sheet holds {rows_used} rows of {columns_used} columns, more than gongkai reads from a "
                    f"workbook: export it as CSV and submit it again)")
        yield sheet.name, _sheet_rows(sheet, f.rel)


def _parts(f: RawFile, names_a_trading_table) -> tuple[list[_Part], list[str], list[str], str]:
    """The sheets with a trading header, the other sheets holding anything, the hidden sheets (not read) and the form
    (xlsx | xls | html | xml)."""
    from dagster_project.ingest.readers import read_grids, sniff

    form = sniff(f.path)
    hidden: list[str] = []
    if form == "html":  # a web system's "export to Excel": an HTML table named .xls (html_tables.py)
        from dagster_project.ingest.html_tables import read_html_tables

        sheets = ((grid.name, iter(enumerate(grid.rows, start=1))) for grid in read_html_tables(f.path, f.rel))
    elif form == "xml":
        return (*_spreadsheet_xml_parts(f, names_a_trading_table), form)
    elif form in ("xlsx", "xls"):
        sheets = _calamine_sheets(f, form, hidden)
    else:
        read_grids(f.path, f.rel)  # the budget readers' exact refusal (not a workbook …)
        raise FileRejected(f"{f.rel}: 文件内容不是 Excel 工作簿 (the content is no workbook: {form})")
    parts, skipped = _headed(sheets, names_a_trading_table)
    return parts, skipped, hidden, form


def _headed(sheets, names_a_trading_table, drain: bool = False) -> tuple[list[_Part], list[str]]:
    """Parts of the sheets with a trading header (their rows left after the header, or read to the end with
    ``drain``) and the names of the other sheets holding anything."""
    parts, skipped = [], []
    for sheet_name, rows in sheets:
        header, seen_anything = None, False
        for number, values in rows:
            texts = [cell_text(v).strip() for v in values]
            seen_anything = seen_anything or any(texts)
            if any(texts) and names_a_trading_table(texts):
                header = (number, texts)
                break
            if number >= HEADER_ROWS_SEARCHED:
                break
        if header is None:
            if seen_anything or any(cell_text(v).strip() for _, values in rows for v in values):
                skipped.append(sheet_name)
            continue
        if drain:
            for _ in rows:
                pass
        parts.append(_Part(sheet_name, header[0], _trimmed(header[1]), rows))
    return parts, skipped


def _spreadsheet_xml_parts(f: RawFile, names_a_trading_table) -> tuple[list[_Part], list[str], list[str]]:
    """An XML Spreadsheet is one stream: a first pass finds each sheet's header, a second (read as the parts are
    staged, in order) gives their rows — so rows are never held whole, whatever the export's size."""
    from dagster_project.ingest.spreadsheet_xml import iter_sheets

    found: list[tuple[int, _Part]] = []
    skipped: list[str] = []
    hidden: list[str] = []
    for index, (sheet, rows) in enumerate(iter_sheets(f.path, f.rel)):
        parts, missed = _headed([(sheet.name, rows)], names_a_trading_table, drain=True)
        if sheet.hidden:  # known once its rows are read (Excel writes the sheet's options after its table)
            hidden.append(sheet.name)
            continue
        found += [(index, part) for part in parts]
        skipped += missed
    second = enumerate(iter_sheets(f.path, f.rel))

    def rows_of(index: int, header_row: int):
        for at, (_, rows) in second:
            if at == index:
                yield from ((number, values) for number, values in rows if number > header_row)
                return
            for _ in rows:  # a sheet without a header: passed over
                pass

    return [_Part(part.name, part.header_row, part.headers, rows_of(index, part.header_row))
            for index, part in found], skipped, hidden


def stage_workbook(con: duckdb.DuckDBPyConnection, f: RawFile, names_a_trading_table) -> StagedFile:
    """Stage a trading workbook (see the module docstring). ``names_a_trading_table(header texts)`` says whether a
    row is a trading header (the loader's key fields, or a national standard table)."""
    parts, skipped_sheets, hidden_sheets, form = _parts(f, names_a_trading_table)
    if not parts:
        raise FileRejected(
            f"{f.rel}: 不是公共资源交易数据: 前{HEADER_ROWS_SEARCHED}行中没有项目编号/统一交易标识码/公告类型列 (not a trading "
            f"export: no sheet has a row naming PROJECT_CODE, UNIFIED_DEAL_CODE or BULLETIN_TYPE within its first "
            f"{HEADER_ROWS_SEARCHED} rows); 工作表 (sheets): {', '.join(skipped_sheets) or '(无 none)'}"
            + (f"; 隐藏的工作表未读取 (hidden sheets, not read): {', '.join(hidden_sheets)}" if hidden_sheets else ""))

    # columns by header text (the k-th column of a name in one sheet is the k-th of it in another)
    headers: list[str] = []
    slots: dict[tuple[str, int], int] = {}
    for part in parts:
        seen: dict[str, int] = {}
        for name in part.headers:
            k = seen[name] = seen.get(name, 0) + 1
            if (name, k) not in slots:
                slots[(name, k)] = len(headers)
                headers.append(name)
    import pyarrow as pa

    tag = uuid.uuid4().hex[:10]
    table, places = f"stage_{tag}", f"stage_places_{tag}"
    con.execute(f"CREATE TEMP TABLE {table} (source_row INTEGER, "
                f"{', '.join(f'c{i} VARCHAR' for i in range(len(headers)))})")
    # where each record is in the workbook: row rejects name the sheet and the row Excel shows
    con.execute(f"CREATE TEMP TABLE {places} (source_row INTEGER, sheet VARCHAR, sheet_row INTEGER)")
    columns: list[list[str | None]] = [[] for _ in headers]
    source_rows: list[int] = []
    sheets: list[str] = []
    sheet_rows: list[int] = []
    records = 0

    def flush() -> None:  # rows go to DuckDB a chunk at a time: Python holds one chunk, not the sheet
        rows = pa.array(source_rows, pa.int32())
        _append(con, table, pa.table({"source_row": rows,
                                      **{f"c{i}": pa.array(col, pa.string()) for i, col in enumerate(columns)}}))
        _append(con, places, pa.table({"source_row": rows, "sheet": pa.array(sheets, pa.string()),
                                       "sheet_row": pa.array(sheet_rows, pa.int32())}))
        for held in (*columns, source_rows, sheets, sheet_rows):
            held.clear()

    notes, ranges, beyond = [], [], 0
    several = len(parts) > 1
    for part in parts:
        seen = {}
        where = []
        for name in part.headers:
            k = seen[name] = seen.get(name, 0) + 1
            where.append(slots[(name, k)])
        first = records + 1
        for number, row in part.rows:
            texts = [value_text(v) for v in row]
            if not any(t is not None for t in texts):
                continue  # a blank row
            beyond += any(t is not None for t in texts[len(where):])
            cells: list[str | None] = [None] * len(headers)
            for c, slot in enumerate(where):
                if c < len(texts):
                    cells[slot] = texts[c]
            for slot, text in enumerate(cells):
                columns[slot].append(text)
            records += 1
            source_rows.append(records if several else number)
            sheets.append(part.name)
            sheet_rows.append(number)
            if len(source_rows) >= CHUNK_ROWS:
                flush()
        if part.header_row > 1:
            notes.append(f"工作表「{part.name}」表头在第{part.header_row}行, 其上{part.header_row - 1}行未作记录读取 "
                         f"(the header is on row {part.header_row}; the rows above it are not records)")
        if several and records >= first:
            ranges.append(f"「{part.name}」→ 第{first}–{records}条")
    flush()
    if several:
        notes.append(f"{len(parts)} 个工作表按顺序读作一张表, 记录按条编号 (sheets read as one table, records numbered "
                     f"in order): {'; '.join(ranges)}")
    if skipped_sheets:
        notes.append(f"没有交易表头的工作表未读取 (sheets without a trading header, not read): {', '.join(skipped_sheets)}")
    if hidden_sheets:  # a draft or an older export kept hidden: no one opening the file sees it (as workbook.HIDDEN_SHEET)
        notes.append(f"隐藏的工作表未读取 (hidden sheets, not read): {', '.join(hidden_sheets)}")
    if beyond:
        notes.append(f"{beyond} 行在表头最后一列右侧还有值, 未读取 ({beyond} rows hold values right of the header's "
                     f"last column, not read)")
    cols = ", ".join(f"gk_clean(c{i}) AS c{i}" for i in range(len(headers)))
    relation = f"(SELECT source_row, {cols} FROM {table})"
    return StagedFile(relation, headers, form, None, temp_tables=[table], row_word="条" if several else "行",
                      notes=notes, row_places=places, sheet_names=[part.name for part in parts])


def _append(con: duckdb.DuckDBPyConnection, name: str, arrow) -> None:
    con.register(f"{name}_arrow", arrow)
    try:
        con.execute(f"INSERT INTO {name} SELECT * FROM {name}_arrow")
    finally:
        con.unregister(f"{name}_arrow")


__all__ = ["HEADER_ROWS_SEARCHED", "WORKBOOK_SUFFIXES", "stage_workbook", "value_text"]
