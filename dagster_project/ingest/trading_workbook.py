"""Trading exports saved as workbooks: the platform's 导出Excel (.xlsx), and .xls as WPS and Excel 97 save it.

RAW_FORMATS lists .xlsx among the trading exports; a file the platform's "export to Excel" button wrote was refused
as an unsupported type. The workbook is read by the readers budget files use (``readers.read_grids`` → ``Grid``:
cached values, a formula saved without its value kept as its text) and staged the way a text export is
(``StagedFile``: ``source_row``, ``c0 … cN`` as text), so header binding, value parsing, row rejects and the
national data standard's tables are the text exports' own — a new form is a new reader, not a new parser.

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
  digits (``0.1 + 0.2`` is ``0.3``, not ``0.30000000000000004``), a date-formatted cell as ``2018-06-04 09:00:00``;
  a time left as an Excel serial (a cell not formatted as a date) is parsed as the text exports' serials are.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import duckdb

from dagster_project.ingest.framework import FileRejected, RawFile
from dagster_project.ingest.grid import Grid, cell_text
from dagster_project.ingest.text_staging import StagedFile

HEADER_ROWS_SEARCHED = 20
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")


def value_text(value: object) -> str | None:
    """A cell's value as the text a text export would hold (None for an empty cell)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else format(value, ".15g")
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    text = cell_text(value)
    return text if text.strip() else None


@dataclass
class _Part:
    grid: Grid
    header_row: int  # 0-based row of the header in the grid
    headers: list[str]


def _header_row(grid: Grid, names_a_trading_table) -> int | None:
    for r in range(min(HEADER_ROWS_SEARCHED, len(grid.rows))):
        texts = [cell_text(v).strip() for v in grid.rows[r]]
        if any(texts) and names_a_trading_table(texts):
            return r
    return None


def _trimmed(headers: list[str]) -> list[str]:
    end = len(headers)
    while end and not headers[end - 1]:
        end -= 1
    return headers[:end]


def stage_workbook(con: duckdb.DuckDBPyConnection, f: RawFile, names_a_trading_table) -> StagedFile:
    """Stage a trading workbook (see the module docstring). ``names_a_trading_table(header texts)`` says whether a
    row is a trading header (the loader's key fields, or a national standard table)."""
    from dagster_project.ingest.readers import read_grids

    form, grids, _document = read_grids(f.path, f.rel)
    if form not in ("xlsx", "xls"):
        raise FileRejected(f"{f.rel}: 文件内容不是 Excel 工作簿 (the content is no workbook: {form})")
    parts, skipped_sheets = [], []
    for grid in grids:
        r = _header_row(grid, names_a_trading_table)
        if r is None:
            if any(not grid.is_blank(i) for i in range(len(grid.rows))):
                skipped_sheets.append(grid.name)
            continue
        parts.append(_Part(grid, r, _trimmed([cell_text(v).strip() for v in grid.rows[r]])))
    if not parts:
        raise FileRejected(
            f"{f.rel}: 不是公共资源交易数据: 前{HEADER_ROWS_SEARCHED}行中没有项目编号/统一交易标识码/公告类型列 (not a trading "
            f"export: no sheet has a row naming PROJECT_CODE, UNIFIED_DEAL_CODE or BULLETIN_TYPE within its first "
            f"{HEADER_ROWS_SEARCHED} rows); 工作表 (sheets): {', '.join(g.name for g in grids) or '(无 none)'}")

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
    columns: list[list[str | None]] = [[] for _ in headers]
    source_rows: list[int] = []
    sheets: list[str] = []
    sheet_rows: list[int] = []
    notes, ranges, beyond = [], [], 0
    several = len(parts) > 1
    for part in parts:
        seen = {}
        where = []
        for name in part.headers:
            k = seen[name] = seen.get(name, 0) + 1
            where.append(slots[(name, k)])
        first = len(source_rows) + 1
        for r in range(part.header_row + 1, len(part.grid.rows)):
            row = part.grid.rows[r]
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
            source_rows.append(len(source_rows) + 1 if several else part.grid.source_row(r))
            sheets.append(part.grid.name)
            sheet_rows.append(part.grid.source_row(r))
        if part.header_row:
            notes.append(f"工作表「{part.grid.name}」表头在第{part.header_row + 1}行, 其上{part.header_row}行未作记录读取 "
                         f"(the header is on row {part.header_row + 1}; the rows above it are not records)")
        if several and len(source_rows) >= first:
            ranges.append(f"「{part.grid.name}」→ 第{first}–{len(source_rows)}条")
    if several:
        notes.append(f"{len(parts)} 个工作表按顺序读作一张表, 记录按条编号 (sheets read as one table, records numbered "
                     f"in order): {'; '.join(ranges)}")
    if skipped_sheets:
        notes.append(f"没有交易表头的工作表未读取 (sheets without a trading header, not read): {', '.join(skipped_sheets)}")
    if beyond:
        notes.append(f"{beyond} 行在表头最后一列右侧还有值, 未读取 ({beyond} rows hold values right of the header's "
                     f"last column, not read)")

    import pyarrow as pa

    tag = uuid.uuid4().hex[:10]
    table, places = f"stage_{tag}", f"stage_places_{tag}"
    rows = pa.array(source_rows, pa.int32())
    _create(con, table, pa.table({"source_row": rows,
                                  **{f"c{i}": pa.array(col, pa.string()) for i, col in enumerate(columns)}}))
    # where each record is in the workbook: row rejects name the sheet and the row Excel shows
    _create(con, places, pa.table({"source_row": rows, "sheet": pa.array(sheets, pa.string()),
                                   "sheet_row": pa.array(sheet_rows, pa.int32())}))
    cols = ", ".join(f"gk_clean(c{i}) AS c{i}" for i in range(len(headers)))
    relation = f"(SELECT source_row, {cols} FROM {table})"
    return StagedFile(relation, headers, form, None, temp_tables=[table], row_word="条" if several else "行",
                      notes=notes, row_places=places)


def _create(con: duckdb.DuckDBPyConnection, name: str, arrow) -> None:
    con.register(f"{name}_arrow", arrow)
    try:
        con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
    finally:
        con.unregister(f"{name}_arrow")


__all__ = ["HEADER_ROWS_SEARCHED", "WORKBOOK_SUFFIXES", "stage_workbook", "value_text"]
