"""Shared machinery for the text families (trading CSV/JSON, registry and portal CSV).

What lives here, and why it is shared:

* **Encoding** (``text_encoding``): strict UTF-8 (BOM or not) is read as is; any other file is decided
  line by line — UTF-8 where a line is UTF-8, else GBK/GB18030 — and transcoded to a temporary UTF-8
  file; a line that decodes in neither makes its record a row reject. Nothing is guessed silently.
* **Staging** (``text_staging``): DuckDB reads the file (CSV ``all_varchar`` with quoted line breaks;
  JSON array / wrapper object / JSON Lines read line by line) into a relation of text columns with
  ``source_row``; nothing pulls a whole file into Python.
* **Headers and units** (``text_headers``): the compare form of a header, a unit in a header, a unit cell in SQL.
* **Parsing in SQL** (here): one generic, set-based step turns the staged text into typed columns
  (timestamps, dates, amounts in 元, integers, booleans, enumerations) and a list of per-cell
  errors; rows with an error go to ``raw.load_rejects`` (one reject row per bad cell), the others
  to the family's raw table. A non-empty value that does not parse is never a silent NULL or zero.
  Records the scan itself could not split into fields (ragged CSV rows, malformed JSON lines) are
  row rejects too, counted in ``rows_in``.
* **Memory**: while a file loads, DuckDB's ``memory_limit`` is capped (``LOADER_MEMORY_LIMIT``) so
  the scratch table of a very large file spills to disk; the caller's setting is restored after.

Times are stored as naive ``TIMESTAMP`` in Asia/Shanghai local time (UTC+8, no DST since 1991): a
value carrying an explicit offset (``Z``, ``+08:00``, ``-0500``) is converted to UTC+8 and the offset
dropped; a value without one is taken as Shanghai local time as printed.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field, replace
from decimal import Decimal

import duckdb

from dagster_project.row_inserts import insert_rows
from dagster_project.ingest.framework import FileOutcome, FileRejected, RawFile
from dagster_project.ingest.text_encoding import (  # noqa: F401  (re-exported for the loaders)
    CHUNK_BYTES, TextSource, detect_encoding, utf8_source,
)
from dagster_project.ingest import line_ends, text_notes, text_values
from dagster_project.ingest.text_memory import LOADER_MEMORY_LIMIT, bounded_memory  # noqa: F401
from dagster_project.ingest.text_headers import (  # noqa: F401  (re-exported for the loaders)
    AMOUNT_UNITS_SEED, amount_units, normalise_label, normalise_unit, split_header_unit, unit_case_sql,
)
from dagster_project.ingest.text_macros import (  # noqa: F401  (re-exported for the loaders)
    BOOLEAN_FALSE, BOOLEAN_TRUE, EPOCH_SECONDS_MAX, EPOCH_SECONDS_MIN, EXCEL_SERIAL_MAX, EXCEL_SERIAL_MIN, FULLWIDTH,
    HALFWIDTH, TIMESTAMP_FORMATS, TRIM_CHARS, parse_macros_setup, register_parse_macros,
)
from dagster_project.ingest.text_staging import (  # noqa: F401
    RowError, StagedFile, blanked_notes, csv_scan_rejects, record_blanked_cells, drop_header_repeats, json_path, scrub, sql_literal,
    stage_csv, stage_json,
)

# Delimited text (comma or tab, found from the header line); every other text suffix is JSON
DELIMITED_SUFFIXES = line_ends.DELIMITED_SUFFIXES


SCIENTIFIC_REASON = ("值被电子表格改写成科学计数法, 位数已丢失 (a spreadsheet rewrote the value in scientific notation, "
                     "e.g. 2.01806E+13 for 20180604090000: its digits are lost; export the column as text)")
KIND_REASONS = {
    "timestamp": "期望日期时间 (expected a date/time such as 2018-06-04 09:00:00, 2018/6/4 9:00, "
                 "2018年6月4日, 20180604 or an Excel serial number)",
    "date": "期望日期 (expected a date such as 2018-06-04, 2018/6/4, 2018年6月4日, 20180604 "
            "or an Excel serial number)",
    "amount": "期望金额数字, 可带单位 (expected a number; thousands separators and a unit such as 元 or "
              "万元 allowed)",
    "integer": "期望整数 (expected a whole number)",
    "code": "代码被电子表格改写成科学计数法(或带 .0 的长数字), 位数已丢失, 不能当作代码 (a spreadsheet rewrote the "
            "code in scientific notation, e.g. 9.16403E+17, or as a number of 16+ digits with '.0': its digits are "
            "lost, so it is no code; export the column as text)",
    "boolean": "期望是/否 (expected true/false, 1/0, 是/否 or Y/N)",
    "enum": "不是允许的取值 (not one of the allowed values)",
    "unit": "未知金额单位 (unknown amount unit)",
}


# SQL helpers ---------------------------------------------------------------------------------
def sql_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --------------------------------------------------------------------------------------------
# Generic typed parse of a staged file
# what an enumerated value is compared without (spaces and brackets, ASCII and full-width)
ENUM_IGNORED = r"[\s()（）\[\]【】]"
_ENUM_IGNORED = re.compile(ENUM_IGNORED)


def enum_key(value: str) -> str:
    """An enumerated value's compare form (``ENUM_IGNORED`` dropped, lower case), as the SQL compares cells."""
    return _ENUM_IGNORED.sub("", str(value)).lower()


# --------------------------------------------------------------------------------------------
@dataclass
class Binding:
    """One target field bound to one staged column."""

    field: str
    kind: str  # text | code | timestamp | date | amount | integer | boolean | enum | unit
    column: int  # staged column index (c{column})
    header: str  # as printed
    multiplier: Decimal | None = None  # amounts: unit from the header
    values: dict[str, str] | None = None  # enum: lower-case synonym → canonical value
    # codes the source writes instead of values (a national-standard code list): code → value,
    # applied before parsing; codes not listed pass through unchanged (or become NULL when
    # ``unlisted_codes_null``, for helper fields that only ever carry the listed meanings)
    codes: dict[str, str] | None = None
    unlisted_codes_null: bool = False
    # a second field read from a column another binding already reports on: no second reject
    reports_errors: bool = True
    # a bad value rejects its row (True), or is stored NULL and counted in the file's note (False): a party's
    # code a spreadsheet damaged leaves the bulletin a reader sees, only without that code
    bad_rejects_row: bool = True
    # later columns naming the same field (column, header as printed), read where the earlier ones are blank: a JSON
    # record that carries only informationTypeText where others carry informationType keeps its bulletin type
    fallbacks: tuple[tuple[int, str], ...] = ()
    # cells that state nothing (a lone '-' in an amount or time column): read as blank, not as a bad value
    placeholders: tuple[str, ...] = ()
    # counts: labels of the field a cell may repeat before its value (投标人数：5) and units after it (5 家): text_values
    labels: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()  # an ordinal's 第 (第1名)
    # times: '' or how the file writes day/month/year values ('dmy', 'mdy', 'undecided': text_values.decide_day_order)
    day_order: str = ""


def blank_when_bad(spec: dict) -> bool:
    """Whether a spec field's unreadable value is stored NULL with its row loaded (``bad: blank``; ``damaged: blank``
    is its older spelling, kept for codes) rather than rejecting the row — the registry's and trading's specs alike."""
    return "blank" in (spec.get("bad"), spec.get("damaged"))


@dataclass
class RowCheck:
    """An extra row-level condition: rows where ``bad_sql`` is true are rejected with ``reason``."""

    bad_sql: str  # in terms of p_<field> columns
    column: str | None
    value_sql: str
    reason: str


@dataclass
class ParsedFile:
    table: str  # temp table: source_row, p_<field> …, extras, _errors (NULL for a loadable row)
    rows_in: int  # records read: the parsed rows plus the records the scan itself had to skip
    rows_rejected: int
    # values stored NULL without rejecting their row (``Binding.bad_rejects_row`` False), said per column
    notes: list[str] = field(default_factory=list)


def raw_expr(b: Binding) -> str:
    """The staged text of a binding: its first column stating something (placeholders are blanked below the parse,
    ``_placeholders_blanked``, so a later column naming the same field is read where the first holds only '-')."""
    if not b.fallbacks:
        return f"c{b.column}"
    return f"coalesce({', '.join(f'c{c}' for c in (b.column, *(c for c, _ in b.fallbacks)))})"


def header_expr(b: Binding) -> str:
    """SQL naming the column a binding's value came from (the first header unless a fallback column gave it)."""
    if not b.fallbacks:
        return sql_literal(b.header)
    whens = " ".join(f"WHEN c{c} IS NOT NULL THEN {sql_literal(h)}" for c, h in ((b.column, b.header), *b.fallbacks))
    return f"(CASE {whens} ELSE {sql_literal(b.header)} END)"


def source_expr(b: Binding) -> str:
    """The staged text of a binding, with its code list applied (to the code as ``gk_code`` reads it: a code a float
    column wrote as ``1.0`` is code ``1``)."""
    raw = raw_expr(b)
    if not b.codes:
        return raw
    whens = " ".join(f"WHEN {sql_literal(k)} THEN {sql_literal(v)}" for k, v in b.codes.items())
    return f"(CASE gk_code({raw}) {whens} ELSE {'NULL' if b.unlisted_codes_null else raw} END)"


def amount_with_unit_text_sql(raw: str) -> str:
    """An amount cell that states its own unit (``1980000.00 元``, ``0元 人民币``, ``480.000000（万元）``):
    the number times that unit; NULL (a row reject) when the unit is not in ref_amount_units."""
    unit = unit_case_sql(f"regexp_replace(gk_amount_unit_part({raw}), '人民币', '', 'g')")
    return f"gk_amount(trim(gk_amount_number_part({raw}))) * {unit}"


def parsed_expr(b: Binding, unit_sql: str | None) -> str:
    raw = source_expr(b)
    if b.kind == "text":
        return raw
    if b.kind == "code":
        return f"gk_code({raw})"
    if b.kind in ("timestamp", "date"):
        ts = text_values.timestamp_sql(raw, b.day_order) if b.day_order else f"gk_ts({raw})"
        return ts if b.kind == "timestamp" else f"CAST({ts} AS DATE)"
    if b.kind == "integer":
        return text_values.integer_sql(raw, b.labels, b.units, b.prefixes)
    if b.kind == "boolean":
        return f"gk_boolean({raw})"
    if b.kind == "unit":
        return unit_case_sql(raw)
    if b.kind == "enum":
        # compared without spaces and brackets, full-width or not: 人民币（元）, 人民币 (RMB) are 人民币元, 人民币rmb
        whens = " ".join(
            f"WHEN {sql_literal(enum_key(k))} THEN {sql_literal(v)}" for k, v in (b.values or {}).items()
        )
        return f"(CASE lower(regexp_replace({raw}, {sql_literal(ENUM_IGNORED)}, '', 'g')) {whens} END)"
    if b.kind == "amount":
        if b.multiplier is not None:
            mult = f"CAST({b.multiplier} AS DECIMAL(20, 4))"
        elif unit_sql is not None:
            # an unknown unit rejects the row through the unit cell, so the fallback 1 never loads
            mult = f"coalesce({unit_sql}, 1)"
        else:
            mult = "1"
        # a unit written in the cell itself wins over the header's or the unit column's;
        # TRY_CAST: an amount too large for DECIMAL(20, 2) is a row reject, not a failed file
        return (f"TRY_CAST(CASE WHEN gk_has_unit_text({raw}) THEN {amount_with_unit_text_sql(raw)} "
                f"ELSE gk_amount({raw}) * {mult} END AS DECIMAL(20, 2))")
    raise ValueError(f"unknown field kind {b.kind!r}")


def _cell_error(b: Binding) -> tuple[str, str]:
    reason = KIND_REASONS[b.kind]
    if b.kind == "enum":
        reason = f"{reason}: {'、'.join(sorted(set((b.values or {}).values())))}"
    bad = f"(r_{b.field} IS NOT NULL AND p_{b.field} IS NULL)"
    header = f"h_{b.field}" if b.fallbacks else sql_literal(b.header)
    found = f"', 实际为「' || r_{b.field} || '」 (found ''' || r_{b.field} || ''')'"
    if b.kind in ("timestamp", "date", "integer"):
        # a time as yyyyMMddHHmmss (14 digits) or a count a spreadsheet rewrote as 2.01806E+13 when it saved the file:
        # say why it cannot be read, so the sender knows to export the column as text
        undecided = (f"WHEN {text_values.undecided_sql(f'r_{b.field}')} THEN {sql_literal(text_values.DAY_ORDER_REASON)} "
                     if b.day_order == text_values.UNDECIDED else "")
        if b.kind != "integer":
            undecided += (f"WHEN {text_values.two_digit_year_sql(f'r_{b.field}')} "
                          f"THEN {sql_literal(text_values.TWO_DIGIT_YEAR_REASON)} ")
        reason_sql = (f"CASE {undecided}WHEN gk_code(r_{b.field}) IS NULL THEN {sql_literal(SCIENTIFIC_REASON)} "
                      f"ELSE {sql_literal(reason)} END")
    else:
        reason_sql = sql_literal(reason)
    message = f"'「' || {header} || '」: ' || {reason_sql} || {found}"
    return bad, (
        f"CASE WHEN {bad} THEN {{'column': {header}, 'value': r_{b.field}, 'reason': {message}}} END"
    )


def _renumber_after_skipped_records(con: duckdb.DuckDBPyConnection, parsed: str, lines: list[int]) -> None:
    """The CSV scan numbers the records it kept 2, 3, …; give each its own row again.

    With the skipped rows L1 < L2 < … the kept record numbered s is really row
    s + #{j : Lj − j < s} (each skipped row before it shifts it by one); Lj − j never decreases, so
    an ASOF join finds that count as the largest j with Lj − j < s.
    """
    shifts = f"{parsed}_shifts"
    values = ", ".join(f"({line}, {j})" for j, line in enumerate(lines, start=1))
    con.execute(f"CREATE TEMP TABLE {shifts} AS SELECT line - j AS k, max(j) AS j "
                f"FROM (VALUES {values}) AS t(line, j) GROUP BY 1")
    con.execute(f"""
        CREATE TEMP TABLE {parsed}_renumbered AS
        SELECT p.* REPLACE (CAST(p.source_row + coalesce(s.j, 0) AS INTEGER) AS source_row)
        FROM {parsed} p ASOF LEFT JOIN {shifts} s ON p.source_row > s.k
    """)
    con.execute(f"DROP TABLE {parsed}")
    con.execute(f"DROP TABLE {shifts}")
    con.execute(f"ALTER TABLE {parsed}_renumbered RENAME TO {parsed}")


def _placeholders_blanked(relation: str, bindings: list[Binding]) -> str:
    """The staged relation with placeholder cells ('-' in an amount or time column) blanked once, in a layer of
    their own (tested inside the parse, the CASE was inlined at every use of the value in the timestamp and amount
    macros: twice the trading load's CPU at 1 M rows). A column is blanked only when every binding reading it has
    placeholders (a text field's '-' stays)."""
    using: dict[int, list[Binding]] = {}
    for b in bindings:
        for column in (b.column, *(c for c, _ in b.fallbacks)):
            using.setdefault(column, []).append(b)
    blanked = {c: bs[0].placeholders for c, bs in using.items() if all(x.placeholders for x in bs)}
    if not blanked:
        return relation
    cases = ", ".join(f"(CASE WHEN c{c} IN ({', '.join(sql_literal(x) for x in values)}) THEN NULL ELSE c{c} END) AS c{c}"
                      for c, values in sorted(blanked.items()))
    return f"(SELECT * REPLACE ({cases}) FROM {relation})"


def parse_staged(
    con: duckdb.DuckDBPyConnection,
    f: RawFile,
    load_id: str,
    staged: StagedFile,
    bindings: list[Binding],
    checks: list[RowCheck] = (),
    extra_sql: dict[str, str] | None = None,
    header_repeat: str | None = None,
    note_words: tuple[str, ...] = (),
) -> ParsedFile:
    """Parse every bound column in one statement and write the row rejects.

    Creates a temp table (``source_row``, ``p_<field>``, extras, ``_errors``): ``_errors`` is NULL
    for a loadable row, else a list of {column, value, reason}. One ``raw.load_rejects`` row is
    written per bad cell (or failed row check, or structurally bad record), its reason starting
    with the row: ``第12行「中标金额」: …``. Records for which ``header_repeat`` (SQL over the staged
    columns) is true are the header again, not records: left out, counted nowhere, named in a note. So are the note
    lines under the data (``注：…``: ``text_notes``; ``note_words`` the words such a line opens with).
    """
    def select_sql(bindings: list[Binding]) -> str:
        relation = _placeholders_blanked(staged.relation, bindings)
        # a unit binding named after one amount (budget_amount_unit: 预算金额单位) is that amount's unit; any other is the
        # unit of every amount without its own
        units = {b.field: parsed_expr(b, None) for b in bindings if b.kind == "unit"}
        own = {f"{b.field}_unit" for b in bindings if b.kind == "amount"}
        unit_sql = next((sql for name, sql in units.items() if name not in own), None)
        # an amount's own unit stated but unreadable (bad: blank; the unit cell reported) leaves that amount unread
        unreadable = {f"{b.field}": f"({raw_expr(b)} IS NOT NULL AND {units[b.field]} IS NULL)"
                      for b in bindings if b.kind == "unit" and not b.bad_rejects_row}
        inner = ["source_row"]
        for b in bindings:
            own_sql = units.get(f"{b.field}_unit")
            amount_unit = f"coalesce({own_sql}, {unit_sql})" if own_sql and unit_sql else own_sql or unit_sql
            # its own unit unreadable, or the general one where it states none of its own (R4b: 单位 = an office)
            general = unreadable.get(next((n for n in units if n not in own), ""))
            mine = next((raw_expr(u) for u in bindings if u.field == f"{b.field}_unit"), None)
            general = f"({mine} IS NULL AND {general})" if general and mine else general
            lost = " OR ".join(x for x in (unreadable.get(f"{b.field}_unit"), general) if x) if b.kind == "amount" else None
            blank = (lambda e: f"(CASE WHEN {lost} THEN NULL ELSE {e} END)") if lost else (lambda e: e)  # noqa: E731
            inner.append(f"{blank(parsed_expr(b, amount_unit))} AS p_{b.field}")
            if b.kind != "text":
                inner.append(f"{blank(raw_expr(b))} AS r_{b.field}")
                if b.fallbacks:
                    inner.append(f"{header_expr(b)} AS h_{b.field}")
        for i, error in enumerate(staged.row_errors):
            inner += [f"coalesce({error.expr}, false) AS _row_error_{i}", f"({error.value_sql}) AS _row_value_{i}"]
        if header_repeat:
            inner.append(f"{header_repeat} AS _header_repeat")
        if note_words:
            inner.append(f"{text_notes.note_cell_sql(len(staged.headers), note_words)} AS _note_line")

        conditions, errors = [], []
        blanked = []
        for b in bindings:
            if b.kind != "text" and b.reports_errors and b.bad_rejects_row:
                bad, error = _cell_error(b)
                conditions.append(bad)
                errors.append(error)
            elif b.kind != "text" and b.reports_errors:
                blanked.append((f"(r_{b.field} IS NOT NULL AND p_{b.field} IS NULL)",
                                f"{{'column': {f'h_{b.field}' if b.fallbacks else sql_literal(b.header)}, "
                                f"'field': {sql_literal(b.field)}, "
                                f"'value': r_{b.field}, 'kind': {sql_literal(b.kind)}}}"))
        for i, error in enumerate(staged.row_errors):
            conditions.append(f"_row_error_{i}")
            errors.append(
                f"CASE WHEN _row_error_{i} THEN {{'column': NULL, 'value': _row_value_{i}, 'reason': "
                f"{sql_literal(': ' + error.reason)}}} END"
            )
        structural = " OR ".join(f"_row_error_{i}" for i, _ in enumerate(staged.row_errors))
        for check in checks:
            # a record that is not an object has no fields: say that once, not "field missing" too
            bad_sql = f"(NOT ({structural}) AND ({check.bad_sql}))" if structural else f"({check.bad_sql})"
            conditions.append(bad_sql)
            errors.append(
                f"CASE WHEN {bad_sql} THEN {{'column': {sql_literal(check.column)}, "
                f"'value': {check.value_sql}, 'reason': {sql_literal(': ' + check.reason)}}} END"
            )
        # built only for bad rows: CASE evaluates its THEN branch for the selected rows alone
        error_type = 'STRUCT("column" VARCHAR, "value" VARCHAR, reason VARCHAR)[]'
        error_list = (
            f"CASE WHEN {' OR '.join(conditions)} THEN list_filter([{', '.join(errors)}], lambda e: e IS NOT NULL) END"
            if conditions else f"CAST(NULL AS {error_type})"
        )
        keep = (["source_row"] + [f"p_{b.field}" for b in bindings] + (["_header_repeat"] if header_repeat else [])
                + (["_note_line"] if note_words else []))
        extras = "".join(f", {expr} AS {name}" for name, expr in (extra_sql or {}).items())
        if blanked:
            cells = ", ".join(f"CASE WHEN {bad} THEN {cell} END" for bad, cell in blanked)
            extras += (f", CASE WHEN {' OR '.join(bad for bad, _ in blanked)} "
                       f"THEN list_filter([{cells}], lambda e: e IS NOT NULL) END AS _blanked")
        return (f"SELECT {', '.join(keep)}, {error_list} AS _errors{extras} "
                f"FROM (SELECT {', '.join(inner)} FROM {relation})")

    parsed = f"parsed_{uuid.uuid4().hex[:10]}"
    try:
        con.execute(f"CREATE TEMP TABLE {parsed} AS {select_sql(bindings)}")
        if day_order := text_values.day_order_from_errors(con, parsed, bindings):
            # dates written day/month/year or month/day/year, none readable as the contract's year-first: read again
            # in the order the file shows (rare: a file's other loads pay one query over its rejected rows)
            bindings = [replace(b, day_order=day_order[0]) if b.kind in ("timestamp", "date") else b for b in bindings]
            for table in staged.scan_tables:  # the CSV scan appends its rejects again on a second scan
                con.execute(f"DELETE FROM {table}")
            con.execute(f"DROP TABLE {parsed}")
            con.execute(f"CREATE TEMP TABLE {parsed} AS {select_sql(bindings)}")
        skipped = csv_scan_rejects(con, staged)
    except duckdb.InvalidInputException as exc:  # the scan itself failed beyond single records
        detail = scrub(" ".join(str(exc).splitlines()[:3]), f.rel, f.path)
        raise FileRejected(
            f"{f.rel}: 无法按 CSV 读取 (cannot be read as CSV: comma-separated, double-quoted): {detail}"
        ) from exc
    finally:
        drop_temp(con, *staged.temp_tables)
    if skipped:
        _renumber_after_skipped_records(con, parsed, [row for row, _, _ in skipped])
    notes = [day_order[1]] if day_order else []
    notes += drop_header_repeats(con, parsed, staged) if header_repeat else []
    if note_words:
        skipped, note_lines = text_notes.take_note_lines(con, parsed, staged.row_places, skipped, note_words)
        notes += [text_notes.note_lines_note(note_lines, staged.row_word)] if note_lines else []
    if skipped:
        insert_rows(con, "raw.load_rejects",
                    [(load_id, f.family, f.rel, f.sha256, None, row, None, text, f"第{row}{staged.row_word}: {reason}",
                      False) for row, text, reason in skipped])
    drop_temp(con, *staged.scan_tables)
    # a workbook's rows say their sheet and its row (工作表「交易信息」第12行); a text file's, their row or record
    sheet, where, places = "NULL", f"'第' || source_row || {sql_literal(staged.row_word)}", ""
    if staged.row_places:
        sheet, where = "p.sheet", "'工作表「' || p.sheet || '」第' || p.sheet_row || '行'"
        places = f"LEFT JOIN {staged.row_places} AS p USING (source_row)"
    con.execute(f"""
        INSERT INTO raw.load_rejects
        SELECT {sql_literal(load_id)}, {sql_literal(f.family)}, {sql_literal(f.rel)}, {sql_literal(f.sha256)},
               {sheet}, source_row, e."column", e."value", {where} || e.reason, false
        FROM (SELECT source_row, unnest(_errors) AS e FROM {parsed} WHERE _errors IS NOT NULL) {places}
        ORDER BY source_row
    """)
    # the cells of loaded rows stored NULL: kept beside the rejects, each a finding (QUAR_CODE_DAMAGED); the same
    # one scan of the parsed table the file's note took before, the note then read from the few cells kept
    blanked = any(b.kind != "text" and b.reports_errors and not b.bad_rejects_row for b in bindings)
    kept = record_blanked_cells(con, parsed, f, load_id, staged, sheet, places) if blanked else 0
    if staged.row_places:
        drop_temp(con, staged.row_places)
    rows_in, rows_rejected = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE _errors IS NOT NULL) FROM {parsed}"
    ).fetchone()
    notes += blanked_notes(con, f, load_id, staged) if kept else []
    return ParsedFile(parsed, rows_in + len(skipped), rows_rejected + len(skipped), notes)


def insert_loadable(
    con: duckdb.DuckDBPyConnection, parsed: ParsedFile, f: RawFile, load_id: str, target: str,
    values: dict[str, str],
) -> int:
    """INSERT the rows without errors; ``values`` maps target column → SQL over the parsed table."""
    columns = ["load_id", "source_file", "source_sha256", "source_row", *values]
    exprs = [sql_literal(load_id), sql_literal(f.rel), sql_literal(f.sha256), "source_row", *values.values()]
    con.execute(
        f"INSERT INTO {target} ({', '.join(columns)}) SELECT {', '.join(exprs)} "
        f"FROM {parsed.table} WHERE _errors IS NULL"
    )
    return parsed.rows_in - parsed.rows_rejected


def drop_temp(con: duckdb.DuckDBPyConnection, *tables: str) -> None:
    """Drop scratch tables; after a failed statement the transaction is aborted and the framework's
    ROLLBACK removes them anyway, so a failure here must not hide the original error."""
    for table in tables:
        try:
            con.execute(f"DROP TABLE IF EXISTS {table}")
        except duckdb.Error:
            return


def stage_text_file(
    con: duckdb.DuckDBPyConnection, f: RawFile, src: TextSource, record_keys: tuple[str, ...] = ("data",),
    find_header=None,
) -> StagedFile:
    register_parse_macros(con)
    if f.path.suffix.lower() in DELIMITED_SUFFIXES:
        return stage_csv(con, src, f.rel, find_header)
    return stage_json(con, src, f.rel, record_keys, suffix=f.path.suffix)


def text_file_outcome(staged: "StagedFile", parsed: "ParsedFile", rows_loaded: int, notes: list[str],
                      kind: str) -> FileOutcome:
    """The outcome of a text file whose rows were parsed and loaded (rejects are already recorded)."""
    return FileOutcome(
        status="loaded_with_rejects" if parsed.rows_rejected else "loaded",
        reason="; ".join(staged.notes + notes) or None,
        rows_in=parsed.rows_in,
        rows_loaded=rows_loaded,
        rows_rejected=parsed.rows_rejected,
        file_format=staged.file_format,
        encoding=staged.encoding,
        detected_kind=kind,
    )
