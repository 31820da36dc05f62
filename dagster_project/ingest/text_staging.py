"""Staging: a UTF-8 text file → a relation of text columns ``c0 … cN`` + ``source_row`` that DuckDB reads.

Nothing pulls a whole file into Python. What each form becomes:

* **CSV**: read straight from DuckDB's parallel CSV scan (``all_varchar``). Quoted fields may hold
  line breaks (real exports put them in titles and 公告内容); the parallel scanner reads those as long
  as ``null_padding`` is off. A record with too few or too many fields, or an unterminated quote, is
  not a reason to lose the file: the scan skips it into a rejects table (``store_rejects``) and the
  loader records it as a row reject naming its row. ``source_row`` is the record's row as a
  spreadsheet shows it (header = row 1; a record spanning several lines is one row); rows after a
  skipped record are renumbered from the rejects table so they keep their own row numbers.
* **JSON array**, **a wrapper object** (``{"data": [...]}``, ``{"data": {"records": [...], "total": N}}``
  — any nesting of the spec's record keys, two deep): ``source_row`` = 1-based index of the record.
* **JSON Lines** are read *as lines* and parsed per line, so one malformed line is one row reject
  naming its 1-based line number while every other line loads (DuckDB's JSON reader would fail the
  whole file, naming a byte offset and the server's absolute path). Blank lines are not records.

Every message that may reach a person goes through ``scrub`` so no absolute path leaves the loader.
"""
from __future__ import annotations

import csv
import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dagster_project import paths
from dagster_project.ingest.framework import FileRejected
from dagster_project.ingest.text_encoding import REPLACEMENT, TextSource

# Longest physical record DuckDB accepts; a longer one is a row reject, not a failed file.
MAX_LINE_BYTES = 16 << 20
# JSON Lines are read as one-column CSV split on this byte, which valid JSON never holds unescaped; a
# line that holds it has "too many columns" and is rejected by the scan as malformed.
LINE_SPLIT = "\x1f"
JSON_LINE_SCAN_REASONS = {
    "TOO MANY COLUMNS": "含未转义的控制字符 U+001F, 不是有效的 JSON (holds a raw control character: not valid JSON)",
}
# How much of a ``.json`` file is looked at to tell JSON Lines from one (pretty-printed) document.
JSON_PEEK_BYTES = 1 << 20
JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
# What is left of an absolute path of this machine after the known places are replaced.
ABSOLUTE_PATH = re.compile(r"(?<![\w:/.])/(?:work|tmp|home|root|srv|var|data|mnt|opt|Users)(?:/[^\s'\"]*)?")


@dataclass
class RowError:
    """A structural fault of a staged record: ``expr`` (SQL over the staged columns) marks it."""

    expr: str
    reason: str  # shown after "第N行: " — Chinese first, English in brackets
    value_sql: str = "NULL"  # what is shown as the raw value


@dataclass
class StagedFile:
    relation: str  # SQL usable in FROM: source_row INTEGER, c0 … cN VARCHAR (raw text, blank → NULL)
    headers: list[str]  # as printed, index i ↔ column c{i}
    file_format: str  # csv | json | jsonl
    encoding: str
    temp_tables: list[str] = field(default_factory=list)  # scratch tables to drop afterwards
    row_errors: list[RowError] = field(default_factory=list)
    scan_rejects: str | None = None  # CSV: DuckDB's rejects table of this scan
    scan_tables: list[str] = field(default_factory=list)  # the scan's own scratch tables
    scan_reasons: dict[str, str] = field(default_factory=dict)  # DuckDB error type → reason, for this form
    row_word: str = "行"  # 行 (CSV row, JSON Lines line) | 条 (record of a JSON array)
    notes: list[str] = field(default_factory=list)  # how the file was read, for its reason text
    row_places: str | None = None  # a workbook's temp table (source_row, sheet, sheet_row): where rejects name rows
    sheet_names: list[str] = field(default_factory=list)  # a workbook's sheets read: their names may name the table


def sql_literal(value: object) -> str:
    if value is None:
        return "NULL"
    return "'" + str(value).replace("'", "''") + "'"


def scrub(message: str, rel: str, *places: Path) -> str:
    """The message with every absolute path that may occur in it replaced by what a person can use:
    the file's path relative to the raw root, or ``<tmp>`` for scratch space."""
    out = message
    settings = paths.settings()
    named = [(str(p), rel) for p in places if p is not None]
    named += [(str(settings.tmp_dir), "<tmp>"), (str(settings.raw_dir), "<raw>")]
    for path, replacement in sorted(named, key=lambda item: -len(item[0])):
        if path and path not in (".", "/"):
            out = out.replace(path, replacement)
    # anything else that still looks like an absolute path of this machine
    return ABSOLUTE_PATH.sub("<path>", out)


def _undecodable_error(src: TextSource, columns: list[str]) -> list[RowError]:
    """Records holding a line that decoded in neither encoding (U+FFFD was put in) are rejected."""
    if not src.undecodable_count or not columns:
        return []
    joined = " || ".join(f"coalesce({c}, '')" for c in columns)
    return [RowError(
        expr=f"contains({joined}, {sql_literal(REPLACEMENT)})",
        reason=("含无法读取的 UTF-16 字符 (不成对的代理项), 无法可靠读取 (holds unreadable UTF-16 — a lone surrogate: "
                "the record cannot be read reliably)") if src.encoding.startswith("utf-16") else
               ("含既不是 UTF-8 也不是 GBK 的字节, 无法可靠读取 (holds bytes that are neither UTF-8 nor "
                "GBK/GB18030: the record cannot be read reliably)"),
    )]


# --------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------
# How many records from the top a header may stand below (an export's title, its date), as in workbooks.
HEADER_ROWS_SEARCHED = 20
# How far the header line is looked at to tell a tab-separated export from a comma-separated one.
HEADER_PEEK_CHARS = 1 << 16


def csv_delimiter(path: Path) -> str:
    """',' — or a tab when the header line holds more tabs than commas: Excel's and WPS' "Unicode text" and
    "text (tab-separated)" exports, often named .csv. Header labels hold neither (项目编号, PROJECT_CODE …)."""
    with path.open(encoding="utf-8-sig", newline="", errors="replace") as handle:
        first = handle.readline(HEADER_PEEK_CHARS)
    return "\t" if first.count("\t") > first.count(",") else ","


def _csv_header(path: Path, delimiter: str = ",") -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            return next(reader)
        except StopIteration:
            return []
        except csv.Error as exc:
            raise FileRejected(f"表头无法读取 (the header row cannot be read as CSV): {exc}") from exc


def _header_below_title(path: Path, delimiter: str, find_header, rel: str) -> tuple[int, list[str], str] | None:
    """(lines above the header, the header, the delimiter) when the header is not the first record but one of the
    first ``HEADER_ROWS_SEARCHED`` (an export's title line, its date, a blank line above it); None otherwise. The
    delimiter is the header line's own: a tab-separated export's title line may hold no tab, or a comma."""
    for sep in dict.fromkeys((delimiter, "\t" if delimiter == "," else ",")):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, delimiter=sep)
            above = 0
            try:
                for index, record in enumerate(reader):
                    if index >= HEADER_ROWS_SEARCHED:
                        break
                    if index and any(c.strip() for c in record) and find_header([c.strip() for c in record]):
                        if above != index:
                            # a quoted line break above the header: DuckDB's skip counts lines, a spreadsheet rows
                            raise FileRejected(
                                f"{rel}: 表头上方的标题含引号内换行, 无法确定表头所在行 (a cell above the header holds a "
                                f"line break inside quotes: where the header starts cannot be told); 请删除表头上方的行后"
                                f"重新提交 (delete the lines above the header and submit it again)")
                        return above, record, sep
                    above = reader.line_num
            except csv.Error:
                continue
    return None


def _header_new_line(path: Path, records_above: int) -> str | None:
    """The header record's own line end ('\\r\\n', '\\n' or '\\r') when a cell of the header holds a line break of
    another kind inside quotes (Excel writes Alt+Enter as LF inside a CRLF file: 中标金额<LF>(万元)); else None.
    DuckDB takes the file's line end from the first one it meets, inside quotes or not: the header's LF made every
    CRLF record unreadable and the file loaded no record, saying nothing (DuckDB 2.0)."""
    with path.open(encoding="utf-8-sig", newline="", errors="replace") as handle:
        text = handle.read(HEADER_PEEK_CHARS)
    quoted, record, inner, i = False, 0, set(), 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            quoted = not quoted
        elif ch in "\r\n":
            end = "\r\n" if text.startswith("\r\n", i) else ch
            if quoted:
                if record == records_above:
                    inner.add(end)
            elif record == records_above:
                return end if inner - {end} else None
            else:
                record += 1
            i += len(end)
            continue
        i += 1
    return None


def stage_csv(con: duckdb.DuckDBPyConnection, src: TextSource, rel: str, find_header=None) -> StagedFile:
    """A CSV is not copied: the parse step reads it straight from DuckDB's CSV scan. ``find_header(texts)`` (trading)
    says whether a record is the header: when the first one is not, the header is looked for below it."""
    delimiter = csv_delimiter(src.read_path)
    headers = _csv_header(src.read_path, delimiter)
    skip, notes = 0, []
    if find_header is not None and not find_header([h.strip() for h in headers]):
        found = _header_below_title(src.read_path, delimiter, find_header, rel)
        if found is not None:
            skip, headers, delimiter = found
            notes.append(f"表头在第{skip + 1}行, 其上{skip}行未作记录读取 (the header is on line {skip + 1}; the lines "
                         f"above it are not records)")
    if not any(h.strip() for h in headers):
        raise FileRejected(f"{rel}: 第1行没有表头 (row 1 holds no column headers)")
    new_line = _header_new_line(src.read_path, skip)
    line_end = f", new_line = {sql_literal(new_line.encode('unicode_escape').decode())}" if new_line else ""
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(headers))) + "}"
    cols = ", ".join(f"gk_clean(c{i}) AS c{i}" for i in range(len(headers)))
    tag = uuid.uuid4().hex[:10]
    rejects, scans = f"csv_rejects_{tag}", f"csv_scans_{tag}"
    # row_number() OVER () runs as DuckDB's streaming window over the CSV scan, in file order
    # (rowid cannot be used: inside the framework's transaction it is not 0-based).
    # A record of empty fields (`,,,,`: Excel writes a blank row of the used range so) is no record — skipped, as a
    # workbook's blank row is, after numbering, so the rows below keep the numbers a spreadsheet shows
    filled = "coalesce(" + ", ".join(f"c{i}" for i in range(len(headers))) + ")"
    relation = f"""(SELECT * FROM (
        SELECT CAST(row_number() OVER () + {1 + skip} AS INTEGER) AS source_row, {cols}
        FROM read_csv({sql_literal(str(src.read_path))}, header = true, auto_detect = false, skip = {skip},
             delim = {sql_literal(delimiter)}, quote = '"', escape = '"', columns = {columns}, null_padding = false,
             ignore_errors = true, store_rejects = true, rejects_table = '{rejects}',
             rejects_scan = '{scans}', max_line_size = {MAX_LINE_BYTES}, encoding = 'utf-8'{line_end}))
        WHERE {filled} IS NOT NULL)"""
    notes = src.notes() + (["制表符分隔 (tab-separated)"] if delimiter == "\t" else []) + notes
    staged = StagedFile(relation, headers, "csv", src.encoding, scan_rejects=rejects,
                        scan_tables=[rejects, scans], notes=notes)
    staged.row_errors += _undecodable_error(src, [f"c{i}" for i in range(len(headers))])
    return staged


CSV_SCAN_REASONS = {
    "MISSING COLUMNS": "列数少于表头 (fewer fields than the header has columns)",
    "TOO MANY COLUMNS": "列数多于表头 (more fields than the header has columns)",
    "UNQUOTED VALUE": "引号不成对 (a quote opens a field and never closes, or stands inside an unquoted field)",
    "LINE SIZE OVER MAXIMUM": f"记录过长 (the record is longer than {MAX_LINE_BYTES >> 20} MiB)",
    "INVALID ENCODING": "含无效的 UTF-8 字节 (invalid UTF-8 bytes)",
}


def csv_scan_rejects(con: duckdb.DuckDBPyConnection, staged: StagedFile) -> list[tuple[int, str, str]]:
    """(row, raw line, reason) per record DuckDB's CSV scan skipped, one per row."""
    if not staged.scan_rejects:
        return []
    reasons = {**CSV_SCAN_REASONS, **staged.scan_reasons}
    whens = " ".join(f"WHEN {sql_literal(k)} THEN {sql_literal(v)}" for k, v in reasons.items())
    return con.execute(f"""
        SELECT CAST(line AS INTEGER), left(trim(any_value(csv_line), chr(10) || chr(13)), 500),
               string_agg(DISTINCT CASE error_type {whens} ELSE error_type || ': ' || error_message END, '; ')
        FROM {staged.scan_rejects} GROUP BY line ORDER BY line
    """).fetchall()


# --------------------------------------------------------------------------------------------
# Notes on what the parse left out (``textfiles.parse_staged``)
# --------------------------------------------------------------------------------------------
def drop_header_repeats(con: duckdb.DuckDBPyConnection, parsed: str, staged: StagedFile) -> list[str]:
    """Remove the records that repeat the header; a note names them (the first ten rows)."""
    count, rows = con.execute(f"SELECT count(*), list(source_row ORDER BY source_row)[:10] FROM {parsed} "
                              f"WHERE _header_repeat").fetchone()
    if not count:
        return []
    con.execute(f"DELETE FROM {parsed} WHERE _header_repeat")
    word, more = staged.row_word, count > len(rows)
    return [f"第{'、'.join(map(str, rows))}{word}{'等' if more else ''}重复表头 (如中文列名行), 未作记录读取 ({count} "
            f"{'rows' if word == '行' else 'records'} repeat the header, e.g. a row of Chinese labels under the field "
            f"names: not records; {', '.join(map(str, rows))}{' …' if more else ''})"]


def record_blanked_cells(con: duckdb.DuckDBPyConnection, parsed: str, f, load_id: str, staged: StagedFile,
                         sheet: str, places: str) -> int:
    """Write the cells of loaded rows that were stored NULL (``_blanked``) to ``raw.load_blanked_cells``; returns
    how many. ``sheet`` / ``places``: the sheet column and the join to a workbook's row places ("NULL", "": a text
    file)."""
    sheet_row = "p.sheet_row" if places else "NULL"
    return con.execute(f"""
        INSERT INTO raw.load_blanked_cells (load_id, family, source_file, source_sha256, sheet, source_row, sheet_row,
                                            source_column, field_name, raw_value, is_retired, field_kind)
        SELECT {sql_literal(load_id)}, {sql_literal(f.family)}, {sql_literal(f.rel)}, {sql_literal(f.sha256)},
               {sheet}, source_row, {sheet_row}, e."column", e."field", e."value", false, e."kind"
        FROM (SELECT source_row, unnest(_blanked) AS e FROM {parsed} WHERE _blanked IS NOT NULL AND _errors IS NULL)
        {places}
        ORDER BY source_row, e."column"
    """).fetchone()[0]


def blanked_notes(con: duckdb.DuckDBPyConnection, f, load_id: str, staged: StagedFile) -> list[str]:
    """Short notes for the values stored NULL (a file's reason is capped), damaged codes and other unreadable values
    apart: per column how many, the first row, one value as found (read from ``raw.load_blanked_cells``, where each cell is kept)."""
    rows = con.execute("""
        SELECT coalesce(field_kind, 'code') = 'code', source_column, count(*), min(source_row),
               min_by(raw_value, source_row)
        FROM raw.load_blanked_cells WHERE load_id = ? AND source_file = ? AND source_sha256 = ? AND NOT is_retired
        GROUP BY 1, 2 ORDER BY 1 DESC, min(source_row), 2
    """, [load_id, f.rel, f.sha256]).fetchall()
    word, notes = staged.row_word, []
    for is_code, lead in ((True, "科学计数法的代码, 位数已丢失, 未作代码读入 (codes a spreadsheet rewrote in scientific "
                                 "notation: digits lost, stored as no code; each is a finding QUAR_CODE_DAMAGED)"),
                          (False, "无法读取的值, 按空值读入, 该行照常装载 (values that cannot be read — an impossible "
                                  "date, an unknown word — stored as blank, their rows loaded; each is a finding "
                                  "QUAR_VALUE_UNREADABLE)")):
        columns = "; ".join(f"{column} {count} (第{first}{word}起 from {first},「{value}」)"
                            for code, column, count, first, value in rows if code is is_code)
        if columns:
            notes.append(f"{lead}: {columns}")
    return notes


# --------------------------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------------------------
def _first_char(path: Path) -> str:
    with path.open(encoding="utf-8-sig", errors="replace") as handle:
        while True:
            block = handle.read(4096)
            if not block:
                return ""
            stripped = block.lstrip()
            if stripped:
                return stripped[0]


def looks_like_json_lines(path: Path, suffix: str) -> bool:
    """JSON Lines when the name says so, or when a complete line near the top is a JSON object by
    itself (a pretty-printed document's lines are not: ``{``, ``"code": 200,`` …)."""
    if suffix.lower() in JSON_LINES_SUFFIXES:
        return True
    with path.open("rb") as handle:
        head = handle.read(JSON_PEEK_BYTES)
    lines = head.split(b"\n")
    if len(lines) == 1 and len(head) == JSON_PEEK_BYTES:
        return False  # one very long line: a single document
    complete = lines if len(head) < JSON_PEEK_BYTES else lines[:-1]
    tried = 0
    for raw in complete:
        text = raw.decode("utf-8", errors="replace").strip().lstrip("\ufeff")
        if not text:
            continue
        tried += 1
        if text.startswith("{"):
            try:
                if isinstance(json.loads(text), dict):
                    return True
            except ValueError:
                pass
        if tried >= 5:
            break
    return False


def _wrapper_paths(record_keys: tuple[str, ...]) -> list[str]:
    one = [f'$."{k}"' for k in record_keys]
    two = [f'$."{a}"."{b}"' for a in record_keys for b in record_keys]
    return one + two


def _unwrap_single_object(con: duckdb.DuckDBPyConnection, objects: str, record_keys: tuple[str, ...]) -> bool:
    """A file holding one object that wraps the records (``{"data": {"records": [...]}}``): replace
    the staged objects by the records. Returns True when it did."""
    count, valid = con.execute(f"SELECT count(*), count(obj) FROM {objects}").fetchone()
    if count != 1 or valid != 1:
        return False
    for path in _wrapper_paths(record_keys):
        is_wrapper = con.execute(
            f"SELECT json_type(obj, {sql_literal(path)}) = 'ARRAY' FROM {objects}").fetchone()[0]
        if is_wrapper:
            con.execute(f"""
                CREATE TEMP TABLE {objects}_records AS
                SELECT CAST(unnest(range(1, len(records) + 1)) AS INTEGER) AS n, unnest(records) AS obj,
                       NULL::VARCHAR AS line, true AS is_json
                FROM (SELECT CAST(json_extract(obj, {sql_literal(path)}) AS JSON[]) AS records FROM {objects})
            """)
            con.execute(f"DROP TABLE {objects}")
            con.execute(f"ALTER TABLE {objects}_records RENAME TO {objects}")
            return True
    return False


def stage_json(
    con: duckdb.DuckDBPyConnection, src: TextSource, rel: str, record_keys: tuple[str, ...], suffix: str = ""
) -> StagedFile:
    """Stage a JSON array, a wrapper object or JSON Lines (see the module docstring)."""
    path = sql_literal(str(src.read_path))
    objects = f"stage_{uuid.uuid4().hex[:10]}"
    first = _first_char(src.read_path)
    row_word = "条"
    try:
        if first == "[":
            file_format = "json"
            con.execute(
                f"CREATE TEMP TABLE {objects} AS SELECT CAST(row_number() OVER () AS INTEGER) AS n, json AS obj, "
                f"NULL::VARCHAR AS line, true AS is_json FROM read_json_objects({path}, format = 'array')"
            )
        elif first == "{" and looks_like_json_lines(src.read_path, suffix):
            file_format, row_word = "jsonl", "行"
            tag = uuid.uuid4().hex[:10]
            scan_rejects, scan_tables = f"jsonl_rejects_{tag}", [f"jsonl_rejects_{tag}", f"jsonl_scans_{tag}"]
            # one column, so blank lines come through as NULL rows and line numbers stay physical
            con.execute(f"""
                CREATE TEMP TABLE {objects} AS
                SELECT n, CASE WHEN is_json THEN json(line) END AS obj, line, is_json
                FROM (
                    SELECT n, line, json_valid(line) AS is_json
                    FROM (SELECT CAST(row_number() OVER () AS INTEGER) AS n, line
                          FROM read_csv({path}, header = false, auto_detect = false, columns = {{'line': 'VARCHAR'}},
                               delim = {sql_literal(LINE_SPLIT)}, quote = '', escape = '', strict_mode = true,
                               ignore_errors = true, store_rejects = true, rejects_table = '{scan_rejects}',
                               rejects_scan = '{scan_tables[1]}', max_line_size = {MAX_LINE_BYTES},
                               encoding = 'utf-8'))
                    WHERE trim(coalesce(line, '')) <> '')
            """)
            if _unwrap_single_object(con, objects, record_keys):
                file_format, row_word = "json", "条"
        elif first == "{":
            # one (pretty-printed) document, or several concatenated: each top-level value is a record
            file_format = "json"
            con.execute(
                f"CREATE TEMP TABLE {objects} AS SELECT CAST(row_number() OVER () AS INTEGER) AS n, json AS obj, "
                f"NULL::VARCHAR AS line, true AS is_json FROM read_json_objects({path}, format = 'unstructured')"
            )
            _unwrap_single_object(con, objects, record_keys)
        else:
            raise FileRejected(
                f'{rel}: 不是 JSON 数组、{{"data": [...]}} 或 JSON Lines (not a JSON array, a '
                f'{{"data": [...]}} object or JSON Lines)'
            )
    except duckdb.Error as exc:
        detail = scrub(str(exc).splitlines()[0], rel, src.read_path, src.original)
        raise FileRejected(f"{rel}: 无法按 JSON 读取 (cannot be read as JSON): {detail}") from exc
    keys = [
        row[0]
        for row in con.execute(f"""
            SELECT k FROM (
                SELECT unnest(json_keys(obj)) AS k, n AS r,
                       unnest(generate_series(1, len(json_keys(obj)))) AS i
                FROM {objects} WHERE json_type(obj) = 'OBJECT')
            GROUP BY k ORDER BY min(r * 100000 + i)
        """).fetchall()
    ]
    cols = "".join(
        f", gk_clean(json_extract_string(obj, {sql_literal(json_path(k))})) AS c{i}" for i, k in enumerate(keys)
    )
    relation = (
        f"(SELECT n AS source_row, is_json, coalesce(json_type(obj) = 'OBJECT', false) AS is_object, "
        f"line{cols} FROM {objects})"
    )
    errors = [
        RowError("NOT is_json", "不是有效的 JSON, 该行被拒绝, 其余行照常读入 (not valid JSON: this line is "
                                "rejected, the other lines load)", value_sql="left(line, 500)"),
        RowError("is_json AND NOT is_object", "不是 JSON 对象 (the record is not a JSON object)"),
    ]
    # a line that decoded in neither encoding: look at the line itself (JSON Lines) or its values
    if src.undecodable_count:
        errors += _undecodable_error(src, ["line"] + [f"c{i}" for i in range(len(keys))])
    staged = StagedFile(relation, keys, file_format, src.encoding, temp_tables=[objects], row_errors=errors,
                        row_word=row_word, notes=src.notes())
    if file_format == "jsonl":
        staged.scan_rejects, staged.scan_tables = scan_rejects, scan_tables
        staged.scan_reasons = JSON_LINE_SCAN_REASONS
    return staged


def json_path(key: str) -> str:
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


__all__ = ["RowError", "StagedFile", "csv_scan_rejects", "json_path", "looks_like_json_lines", "scrub",
           "stage_csv", "stage_json"]
