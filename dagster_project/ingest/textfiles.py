"""Shared machinery for the text families (trading CSV/JSON, registry and portal CSV).

What lives here, and why it is shared:

* **Encoding**: a UTF-8 BOM means ``utf-8-sig``; otherwise the whole file must be strict UTF-8
  (validated in streaming chunks); otherwise strict GB18030 (a superset of GBK); otherwise the file
  is rejected naming the byte offset where decoding failed. We never guess silently: a file that
  decodes in neither is a file error. DuckDB cannot read GBK offline, so a GB18030 file is
  transcoded chunk by chunk to a temporary UTF-8 file under ``paths.settings().tmp_dir``.
* **Staging**: DuckDB reads the file (CSV ``all_varchar``; JSON array / ``{"data": [...]}`` /
  JSON Lines) into a temporary table of text columns with ``source_row``; nothing pulls a whole
  file into Python.
* **Parsing in SQL**: one generic, set-based step turns the staged text into typed columns
  (timestamps, dates, amounts in 元, integers, booleans, enumerations) and a list of per-cell
  errors; rows with an error go to ``raw.load_rejects`` (one reject row per bad cell), the others
  to the family's raw table. A non-empty value that does not parse is never a silent NULL or zero.
* **Memory**: while a file loads, DuckDB's ``memory_limit`` is capped (``LOADER_MEMORY_LIMIT``) so
  the scratch table of a very large file spills to disk; the caller's setting is restored after.

Times are stored as naive ``TIMESTAMP`` in Asia/Shanghai local time (UTC+8, no DST since 1991): a
value carrying an explicit offset (``Z``, ``+08:00``, ``-0500``) is converted to UTC+8 and the offset
dropped; a value without one is taken as Shanghai local time as printed.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import duckdb

from dagster_project import paths
from dagster_project.ingest.framework import FileOutcome, FileRejected, RawFile

CHUNK_BYTES = 4 << 20
# DuckDB's buffer pool cap while a text file is parsed: the parsed scratch table of a very large
# file spills to the warehouse's temp directory instead of growing RSS (the default is 80 % of RAM).
LOADER_MEMORY_LIMIT = "2GB"
UTF8_BOM = codecs.BOM_UTF8
AMOUNT_UNITS_SEED = paths.DBT_SEEDS_DIR / "ingest" / "ref_amount_units.csv"

# Excel serial day numbers accepted as dates: 20000 (1954-10-03) … 79999 (2119-01-08). Outside that
# range a bare number is far more likely a mistake (a year, a count) than a date, so it is rejected.
EXCEL_SERIAL_MIN, EXCEL_SERIAL_MAX = 20000, 80000

# Layouts accepted for a date/time text, grouped by a cheap marker so each value tries only its
# own group (DuckDB strptime: %m/%d/%H accept one or two digits).
# Full-width digits and separators and their ASCII forms (translate() maps them one to one).
FULLWIDTH = "０１２３４５６７８９－／：．＋"
HALFWIDTH = "0123456789-/:.+"
TIMESTAMP_FORMATS: dict[str, tuple[str, ...]] = {
    "chinese": ("%Y年%m月%d日", "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日%H:%M",
                "%Y年%m月%d日%H时%M分%S秒", "%Y年%m月%d日 %H时%M分%S秒", "%Y年%m月%d日%H时%M分",
                "%Y年%m月%d日 %H时%M分", "%Y年%m月%d日%H时", "%Y年%m月%d日 %H时"),
    "slash": ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y/%m/%d %H:%M:%S.%f"),
    "dash": ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S.%f"),
    "iso": ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S.%f",
            "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S.%f"),
    "dot": ("%Y.%m.%d %H:%M:%S", "%Y.%m.%d %H:%M", "%Y.%m.%d"),
    "compact": ("%Y%m%d", "%Y%m%d%H%M%S", "%Y%m%d %H:%M:%S", "%Y%m%d %H:%M"),
}

# Whitespace trimmed from every cell (ASCII, full-width ideographic space, no-break space, BOM).
TRIM_CHARS = " \t\r\n\u3000\u00a0\ufeff"

BOOLEAN_TRUE = ("true", "t", "1", "是", "y", "yes", "有")
BOOLEAN_FALSE = ("false", "f", "0", "否", "n", "no", "无")

KIND_REASONS = {
    "timestamp": "期望日期时间 (expected a date/time such as 2018-06-04 09:00:00, 2018/6/4 9:00, "
                 "2018年6月4日, 20180604 or an Excel serial number)",
    "date": "期望日期 (expected a date such as 2018-06-04, 2018/6/4, 2018年6月4日, 20180604 "
            "or an Excel serial number)",
    "amount": "期望金额数字 (expected a number; thousands separators allowed)",
    "integer": "期望整数 (expected a whole number)",
    "boolean": "期望是/否 (expected true/false, 1/0, 是/否 or Y/N)",
    "enum": "不是允许的取值 (not one of the allowed values)",
    "unit": "未知金额单位 (unknown amount unit)",
}


# --------------------------------------------------------------------------------------------
# Encoding detection and transcoding
# --------------------------------------------------------------------------------------------
@dataclass
class TextSource:
    """A text file as DuckDB should read it: ``read_path`` is UTF-8 (the original or a temp copy)."""

    original: Path
    read_path: Path
    encoding: str  # utf-8 | utf-8-sig | gb18030


def _scan_decode(path: Path, encoding: str, sink: io.TextIOBase | None, skip: int = 0) -> int | None:
    """Decode ``path`` strictly in chunks; write the text to ``sink`` if given.

    Returns None when the whole file decodes, else the byte offset of the first undecodable byte.
    A multibyte sequence cut by a chunk boundary is carried into the next chunk, so offsets are exact.
    """
    max_seq = 4  # longest UTF-8 / GB18030 sequence
    carry = b""
    base = skip  # file offset of carry[0]
    with path.open("rb") as handle:
        handle.seek(skip)
        while True:
            block = handle.read(CHUNK_BYTES)
            final = not block
            data = carry + block
            if not data:
                return None
            try:
                text = data.decode(encoding, errors="strict")
                carry = b""
                consumed = len(data)
            except UnicodeDecodeError as exc:
                if not final and exc.start >= len(data) - max_seq:
                    text = data[: exc.start].decode(encoding, errors="strict")
                    carry = data[exc.start:]
                    consumed = exc.start
                else:
                    return base + exc.start
            if sink is not None and text:
                sink.write(text)
            base += consumed
            if final:
                return None


def detect_encoding(path: Path) -> tuple[str, int | None, int | None]:
    """(encoding, utf8_error_offset, gb_error_offset); encoding '' when neither decodes."""
    with path.open("rb") as handle:
        head = handle.read(3)
    if head == UTF8_BOM:
        bad = _scan_decode(path, "utf-8", None, skip=3)
        return ("utf-8-sig", bad, None) if bad is None else ("", bad, None)
    utf8_bad = _scan_decode(path, "utf-8", None)
    if utf8_bad is None:
        return "utf-8", None, None
    gb_bad = _scan_decode(path, "gb18030", None)
    if gb_bad is None:
        return "gb18030", utf8_bad, None
    return "", utf8_bad, gb_bad


@contextmanager
def utf8_source(f: RawFile) -> Iterator[TextSource]:
    """Yield a UTF-8 view of ``f``; GB18030 files are transcoded to a temp file deleted afterwards."""
    if f.bytes == 0:
        raise FileRejected(f"{f.rel}: 空文件 (the file is empty)")
    encoding, utf8_bad, gb_bad = detect_encoding(f.path)
    if not encoding:
        if gb_bad is None:  # had a BOM, so it claimed UTF-8
            raise FileRejected(
                f"{f.rel}: 文件以 UTF-8 BOM 开头, 但第 {utf8_bad} 字节处不是有效的 UTF-8 "
                f"(starts with a UTF-8 BOM but is not valid UTF-8 at byte offset {utf8_bad})"
            )
        raise FileRejected(
            f"{f.rel}: 无法识别文件编码: 第 {utf8_bad} 字节处不是有效的 UTF-8, 第 {gb_bad} 字节处"
            f"不是有效的 GBK/GB18030 (cannot decode the file: invalid UTF-8 at byte offset "
            f"{utf8_bad}, invalid GBK/GB18030 at byte offset {gb_bad}); 请另存为 UTF-8 后重新提交 "
            f"(save it as UTF-8 and submit it again)"
        )
    if encoding != "gb18030":
        yield TextSource(f.path, f.path, encoding)
        return
    tmp_dir = paths.settings().tmp_dir
    tmp_dir.mkdir(parents=True, exist_ok=True)
    tmp = tmp_dir / f"transcoded-{uuid.uuid4().hex}{f.path.suffix.lower()}"
    try:
        with tmp.open("w", encoding="utf-8", newline="") as sink:
            _scan_decode(f.path, "gb18030", sink)
        yield TextSource(f.path, tmp, encoding)
    finally:
        tmp.unlink(missing_ok=True)


def _stable_limit(display: str) -> str:
    """A SET value that reads back as ``display``.

    DuckDB shows the limit truncated to one decimal ('2.7 GiB'); setting that text back yields
    '2.6 GiB', so a plain save/restore would shrink the limit on every file. Half a unit of the
    last shown digit keeps the round trip stable.
    """
    match = re.fullmatch(r"\s*(\d+)(?:\.(\d+))?\s*([A-Za-z]+)\s*", display)
    if not match:
        return display
    whole, frac, unit = match.groups()
    digits = len(frac or "")
    value = Decimal(f"{whole}.{frac or '0'}") + Decimal(5) / Decimal(10) ** (digits + 1)
    return f"{value}{unit}"


@contextmanager
def bounded_memory(con: duckdb.DuckDBPyConnection, limit: str = LOADER_MEMORY_LIMIT) -> Iterator[None]:
    """Cap DuckDB's memory for the duration of a file load, then restore the caller's setting."""
    setting = "SELECT current_setting('memory_limit')"
    previous = con.execute(setting).fetchone()[0]
    con.execute("RESET memory_limit")
    is_default = con.execute(setting).fetchone()[0] == previous
    con.execute(f"SET memory_limit = {sql_literal(limit)}")
    if previous == con.execute(setting).fetchone()[0] and id(con) in _CALLER_MEMORY_LIMITS:
        # the last restore failed (a statement aborted the transaction): restore the caller's own value
        previous, is_default = _CALLER_MEMORY_LIMITS[id(con)]
    _CALLER_MEMORY_LIMITS[id(con)] = (previous, is_default)
    try:
        yield
    finally:
        try:
            if is_default:
                con.execute("RESET memory_limit")
            else:
                con.execute(f"SET memory_limit = {sql_literal(_stable_limit(previous))}")
        except duckdb.Error:  # aborted transaction: SET is refused until the framework's ROLLBACK
            pass


_CALLER_MEMORY_LIMITS: dict[int, tuple[str, bool]] = {}


# --------------------------------------------------------------------------------------------
# SQL helpers
# --------------------------------------------------------------------------------------------
def sql_literal(value: object) -> str:
    if value is None:
        return "NULL"
    return "'" + str(value).replace("'", "''") + "'"


def sql_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def register_parse_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create the temporary parsing macros on this connection (idempotent, cheap)."""
    groups = {k: "[" + ", ".join(sql_literal(f) for f in v) + "]" for k, v in TIMESTAMP_FORMATS.items()}
    trim = sql_literal(TRIM_CHARS)
    con.execute(f"""
        -- trim(v, chars) with a non-ASCII set is slow: only values that start or end with one of
        -- them pay for it (measured: 28 columns x 1 M rows, 12 s -> under 3 s)
        CREATE OR REPLACE TEMP MACRO gk_clean(v) AS nullif(CASE
            WHEN strpos({trim}, left(v, 1)) > 0 OR strpos({trim}, right(v, 1)) > 0 THEN trim(v, {trim})
            ELSE v END, '');
        -- text with an explicit UTC offset: the offset in minutes (NULL when none)
        CREATE OR REPLACE TEMP MACRO gk_offset_minutes(s) AS CASE
            WHEN regexp_matches(s, ':\\d{{2}}(\\.\\d+)?\\s*Z$') THEN 0
            WHEN regexp_matches(s, ':\\d{{2}}(\\.\\d+)?\\s*[+-]\\d{{2}}:?\\d{{2}}$') THEN
                (CASE WHEN regexp_extract(s, '([+-])\\d{{2}}:?\\d{{2}}$', 1) = '-' THEN -1 ELSE 1 END)
                * (CAST(regexp_extract(s, '[+-](\\d{{2}}):?(\\d{{2}})$', 1) AS INTEGER) * 60
                   + CAST(regexp_extract(s, '[+-](\\d{{2}}):?(\\d{{2}})$', 2) AS INTEGER))
        END;
        CREATE OR REPLACE TEMP MACRO gk_iso_ts(s) AS CASE
            WHEN gk_offset_minutes(s) IS NOT NULL THEN
                try_strptime(trim(regexp_replace(s, '\\s*(Z|[+-]\\d{{2}}:?\\d{{2}})$', '')), {groups['iso']})
                + to_minutes(480 - gk_offset_minutes(s))
            ELSE try_strptime(s, {groups['iso']})
        END;
        -- Cheap markers (contains) route each value to its own group of layouts; the first branch is
        -- the common export layout. Excel serial: days since 1899-12-30 (Excel's 1900 leap-year bug
        -- makes this the epoch). A run of digits is a date only as YYYYMMDD / YYYYMMDDHHMMSS
        -- (strptime alone would take 2018064).
        -- full-width digits and separators (２０１８－０６－０４ ９：００) as ASCII: typed on a Chinese IME
        CREATE OR REPLACE TEMP MACRO gk_halfwidth(v) AS translate(v, {sql_literal(FULLWIDTH)}, {sql_literal(HALFWIDTH)});
        CREATE OR REPLACE TEMP MACRO gk_ts_ascii(v) AS CASE
            WHEN v IS NULL THEN NULL
            WHEN contains(v, '-') AND NOT contains(v, 'T') AND NOT contains(v, '+') AND NOT contains(v, 'Z')
                THEN try_strptime(v, {groups['dash']})
            WHEN contains(v, '年') THEN try_strptime(replace(v, '：', ':'), {groups['chinese']})
            WHEN contains(v, '/') THEN try_strptime(v, {groups['slash']})
            WHEN contains(v, 'T') OR contains(v, '+') OR contains(v, 'Z') THEN gk_iso_ts(v)
            WHEN regexp_full_match(v, '\\d{{5}}(\\.\\d+)?') THEN CASE
                WHEN CAST(v AS DECIMAL(18, 8)) >= {EXCEL_SERIAL_MIN} AND CAST(v AS DECIMAL(18, 8)) < {EXCEL_SERIAL_MAX}
                THEN TIMESTAMP '1899-12-30 00:00:00'
                     + to_seconds(CAST(round(CAST(v AS DECIMAL(18, 8)) * 86400) AS BIGINT)) END
            WHEN regexp_full_match(v, '\\d{{8}}|\\d{{14}}|\\d{{8}} \\d{{1,2}}:\\d{{2}}(:\\d{{2}})?')
                THEN try_strptime(v, {groups['compact']})
            WHEN contains(v, '.') THEN try_strptime(v, {groups['dot']})
        END;
        CREATE OR REPLACE TEMP MACRO gk_ts(v) AS gk_ts_ascii(gk_halfwidth(v));
        CREATE OR REPLACE TEMP MACRO gk_date(v) AS CAST(gk_ts(v) AS DATE);
        -- amount text -> DECIMAL; NULL when it is not a number. Thousands separators must be well placed.
        CREATE OR REPLACE TEMP MACRO gk_amount_text(v) AS
            regexp_replace(replace(replace(replace(gk_halfwidth(v), '，', ','), '￥', ''), '¥', ''), '\\s', '', 'g');
        CREATE OR REPLACE TEMP MACRO gk_amount(v) AS CASE
            WHEN v IS NULL THEN NULL
            -- fast path for plain numbers ('_' excluded: the cast would read 1_000 as 1000)
            WHEN NOT contains(v, '_') AND TRY_CAST(v AS DECIMAL(38, 10)) IS NOT NULL THEN CAST(v AS DECIMAL(38, 10))
            WHEN regexp_full_match(gk_amount_text(v), '[+-]?(\\d{{1,3}}(,\\d{{3}})+|\\d+)(\\.\\d+)?')
                THEN TRY_CAST(replace(gk_amount_text(v), ',', '') AS DECIMAL(38, 10))
            WHEN regexp_full_match(gk_amount_text(v), '[+-]?\\d+(\\.\\d+)?[eE][+-]?\\d+')
                THEN TRY_CAST(TRY_CAST(gk_amount_text(v) AS DOUBLE) AS DECIMAL(38, 10))
        END;
        CREATE OR REPLACE TEMP MACRO gk_integer(v) AS CASE
            WHEN regexp_full_match(v, '[+-]?\\d{{1,9}}(\\.0+)?') THEN CAST(CAST(v AS DECIMAL(18, 2)) AS INTEGER)
        END;
        CREATE OR REPLACE TEMP MACRO gk_boolean(v) AS CASE
            WHEN lower(v) IN ({", ".join(sql_literal(x) for x in BOOLEAN_TRUE)}) THEN true
            WHEN lower(v) IN ({", ".join(sql_literal(x) for x in BOOLEAN_FALSE)}) THEN false
        END;
    """)


# --------------------------------------------------------------------------------------------
# Headers and units
# --------------------------------------------------------------------------------------------
def normalise_label(text: str) -> str:
    """Compare-form of a header or alias: NFKC (full-width → half-width), no spaces, lower case."""
    text = unicodedata.normalize("NFKC", text or "")
    text = re.sub(r"[\s\u200b\ufeff]+", "", text)
    return text.lower()


@lru_cache(maxsize=1)
def amount_units() -> dict[str, Decimal]:
    """Unit label (normalised) → 元 per unit, from ``dbt/seeds/ingest/ref_amount_units.csv``."""
    with AMOUNT_UNITS_SEED.open(encoding="utf-8") as handle:
        return {
            normalise_label(row["unit_label"]): Decimal(row["multiplier_yuan"])
            for row in csv.DictReader(handle)
        }


def normalise_unit(text: str) -> str:
    """'金额单位：万元' / '(万元)' / '单位:万元' → '万元' (normalised)."""
    norm = normalise_label(text)
    norm = re.sub(r"^(金额)?单位[:]?", "", norm)
    return norm.strip("()[]")


def split_header_unit(header: str) -> tuple[str, str | None, Decimal | None]:
    """Split a printed header into (normalised base label, unit label, multiplier).

    ``中标金额(万元)`` / ``预算金额（万元）`` / ``BID_AMOUNT[万元]`` / ``中标金额(单位:万元)`` carry their unit.
    """
    norm = normalise_label(header)
    match = re.fullmatch(r"(.+?)[(\[](?:金额)?(?:单位[:]?)?([^()\[\]]+)[)\]]", norm)
    if match:
        units = amount_units()
        unit = match.group(2)
        if unit in units:
            return match.group(1), unit, units[unit]
    return norm, None, None


def unit_case_sql(value_sql: str) -> str:
    """SQL CASE mapping a unit cell to its multiplier (NULL: unknown unit)."""
    norm = (
        f"lower(regexp_replace(regexp_replace({value_sql}, '\\s', '', 'g'), "
        f"'^(金额)?单位[:：]?|[()（）\\[\\]]', '', 'g'))"
    )
    whens = " ".join(
        f"WHEN {sql_literal(label)} THEN CAST({mult} AS DECIMAL(20, 4))"
        for label, mult in amount_units().items()
    )
    return f"(CASE {norm} {whens} END)"


# --------------------------------------------------------------------------------------------
# Staging: file → a relation of text columns c0 … cN + source_row
# --------------------------------------------------------------------------------------------
@dataclass
class StagedFile:
    relation: str  # SQL usable in FROM: source_row INTEGER, c0 … cN VARCHAR (trimmed, blank → NULL)
    headers: list[str]  # as printed, index i ↔ column c{i}
    file_format: str  # csv | json | jsonl
    encoding: str
    temp_tables: list[str] = field(default_factory=list)  # scratch tables to drop afterwards
    row_errors: list[str] = field(default_factory=list)  # SQL boolean exprs marking structurally bad rows


def _csv_header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        try:
            return next(reader)
        except StopIteration:
            return []
        except csv.Error as exc:
            raise FileRejected(f"表头无法读取 (the header row cannot be read as CSV): {exc}") from exc


def stage_csv(con: duckdb.DuckDBPyConnection, src: TextSource, rel: str) -> StagedFile:
    """A CSV is not copied: the parse step reads it straight from DuckDB's CSV scan."""
    headers = _csv_header(src.read_path)
    if not any(h.strip() for h in headers):
        raise FileRejected(f"{rel}: 第1行没有表头 (row 1 holds no column headers)")
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(headers))) + "}"
    cols = ", ".join(f"gk_clean(c{i}) AS c{i}" for i in range(len(headers)))
    # row_number() OVER () runs as DuckDB's streaming window over the CSV scan, in file order
    # (rowid cannot be used: inside the framework's transaction it is not 0-based).
    # The Excel row = record number + 1 (the header is row 1).
    relation = f"""(
        SELECT CAST(row_number() OVER () + 1 AS INTEGER) AS source_row, {cols}
        FROM read_csv({sql_literal(str(src.read_path))}, header = true, auto_detect = false,
             delim = ',', quote = '"', escape = '"', columns = {columns}, null_padding = true,
             max_line_size = 16777216, encoding = 'utf-8'))"""
    return StagedFile(relation, headers, "csv", src.encoding)


def _first_char(path: Path) -> str:
    with path.open(encoding="utf-8-sig", errors="replace") as handle:
        while True:
            block = handle.read(4096)
            if not block:
                return ""
            stripped = block.lstrip()
            if stripped:
                return stripped[0]


def stage_json(
    con: duckdb.DuckDBPyConnection, src: TextSource, rel: str, record_keys: tuple[str, ...]
) -> StagedFile:
    """Stage a JSON array, a ``{"data": [...]}`` wrapper (keys in ``record_keys``) or JSON Lines.

    ``source_row`` is the 1-based index of the object in the array / of the line's object.
    """
    path = sql_literal(str(src.read_path))
    objects = f"stage_{uuid.uuid4().hex[:10]}"
    first = _first_char(src.read_path)
    file_format = "json"
    try:
        if first == "[":
            con.execute(
                f"CREATE TEMP TABLE {objects} AS SELECT row_number() OVER () AS n, json AS obj "
                f"FROM read_json_objects({path}, format = 'array')"
            )
        elif first == "{":
            # 'unstructured' reads JSON Lines and a (pretty-printed) single object alike; a failed
            # attempt cannot be retried inside the framework's transaction, so there is one attempt.
            con.execute(
                f"CREATE TEMP TABLE {objects} AS SELECT row_number() OVER () AS n, json AS obj FROM "
                f"read_json_objects({path}, format = 'unstructured')"
            )
            file_format = "jsonl"
            count = con.execute(f"SELECT count(*) FROM {objects}").fetchone()[0]
            if count == 1:
                for key in record_keys:
                    is_wrapper = con.execute(
                        f"SELECT json_type(obj, {sql_literal('$.' + key)}) = 'ARRAY' FROM {objects}"
                    ).fetchone()[0]
                    if is_wrapper:
                        con.execute(
                            f"CREATE TEMP TABLE {objects}_records AS SELECT unnest(range(1, len(records) + 1)) AS n, "
                            f"unnest(records) AS obj FROM (SELECT CAST(json_extract(obj, "
                            f"{sql_literal('$.' + key)}) AS JSON[]) AS records FROM {objects})"
                        )
                        con.execute(f"DROP TABLE {objects}")
                        con.execute(f"ALTER TABLE {objects}_records RENAME TO {objects}")
                        file_format = "json"
                        break
        else:
            raise FileRejected(
                f'{rel}: 不是 JSON 数组、{{"data": [...]}} 或 JSON Lines (not a JSON array, a '
                f'{{"data": [...]}} object or JSON Lines)'
            )
    except duckdb.Error as exc:
        raise FileRejected(f"{rel}: 无法按 JSON 读取 (cannot be read as JSON): {str(exc).splitlines()[0]}") from exc
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
        f"(SELECT CAST(n AS INTEGER) AS source_row, json_type(obj) = 'OBJECT' AS is_object{cols} FROM {objects})"
    )
    return StagedFile(relation, keys, file_format, src.encoding, temp_tables=[objects], row_errors=["NOT is_object"])


def json_path(key: str) -> str:
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --------------------------------------------------------------------------------------------
# Generic typed parse of a staged file
# --------------------------------------------------------------------------------------------
@dataclass
class Binding:
    """One target field bound to one staged column."""

    field: str
    kind: str  # text | timestamp | date | amount | integer | boolean | enum | unit
    column: int  # staged column index (c{column})
    header: str  # as printed
    multiplier: Decimal | None = None  # amounts: unit from the header
    values: dict[str, str] | None = None  # enum: lower-case synonym → canonical value


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
    rows_in: int
    rows_rejected: int


def parsed_expr(b: Binding, unit_sql: str | None) -> str:
    raw = f"c{b.column}"
    if b.kind == "text":
        return raw
    if b.kind == "timestamp":
        return f"gk_ts({raw})"
    if b.kind == "date":
        return f"gk_date({raw})"
    if b.kind == "integer":
        return f"gk_integer({raw})"
    if b.kind == "boolean":
        return f"gk_boolean({raw})"
    if b.kind == "unit":
        return unit_case_sql(raw)
    if b.kind == "enum":
        whens = " ".join(
            f"WHEN {sql_literal(k)} THEN {sql_literal(v)}" for k, v in (b.values or {}).items()
        )
        return f"(CASE lower({raw}) {whens} END)"
    if b.kind == "amount":
        if b.multiplier is not None:
            mult = f"CAST({b.multiplier} AS DECIMAL(20, 4))"
        elif unit_sql is not None:
            # an unknown unit rejects the row through the unit cell, so the fallback 1 never loads
            mult = f"coalesce({unit_sql}, 1)"
        else:
            mult = "1"
        # TRY_CAST: an amount too large for DECIMAL(20, 2) is a row reject, not a failed file
        return f"TRY_CAST(gk_amount({raw}) * {mult} AS DECIMAL(20, 2))"
    raise ValueError(f"unknown field kind {b.kind!r}")


def _cell_error(b: Binding) -> tuple[str, str]:
    reason = KIND_REASONS[b.kind]
    if b.kind == "enum":
        reason = f"{reason}: {'、'.join(sorted(set((b.values or {}).values())))}"
    bad = f"(r_{b.field} IS NOT NULL AND p_{b.field} IS NULL)"
    header = sql_literal(b.header)
    found = f"', 实际为「' || r_{b.field} || '」 (found ''' || r_{b.field} || ''')'"
    message = f"'第' || source_row || '行「' || {header} || '」: ' || {sql_literal(reason)} || {found}"
    return bad, (
        f"CASE WHEN {bad} THEN {{'column': {header}, 'value': r_{b.field}, 'reason': {message}}} END"
    )


def parse_staged(
    con: duckdb.DuckDBPyConnection,
    f: RawFile,
    load_id: str,
    staged: StagedFile,
    bindings: list[Binding],
    checks: list[RowCheck] = (),
    extra_sql: dict[str, str] | None = None,
) -> ParsedFile:
    """Parse every bound column in one statement and write the row rejects.

    Creates a temp table (``source_row``, ``p_<field>``, extras, ``_errors``): ``_errors`` is NULL
    for a loadable row, else a list of {column, value, reason}. One ``raw.load_rejects`` row is
    written per bad cell (or failed row check).
    """
    unit_binding = next((b for b in bindings if b.kind == "unit"), None)
    unit_sql = unit_case_sql(f"c{unit_binding.column}") if unit_binding else None
    inner = ["source_row"]
    for b in bindings:
        inner.append(f"{parsed_expr(b, unit_sql)} AS p_{b.field}")
        if b.kind != "text":
            inner.append(f"c{b.column} AS r_{b.field}")
    inner += [f"({expr}) AS _row_error_{i}" for i, expr in enumerate(staged.row_errors)]

    conditions, errors = [], []
    for b in bindings:
        if b.kind != "text":
            bad, error = _cell_error(b)
            conditions.append(bad)
            errors.append(error)
    for i, _ in enumerate(staged.row_errors):
        conditions.append(f"_row_error_{i}")
        errors.append(
            f"CASE WHEN _row_error_{i} THEN {{'column': NULL, 'value': NULL, 'reason': "
            f"'第' || source_row || '条: 不是 JSON 对象 (the record is not a JSON object)'}} END"
        )
    structural = " OR ".join(f"_row_error_{i}" for i, _ in enumerate(staged.row_errors))
    for check in checks:
        # a record that is not an object has no fields: say that once, not "field missing" too
        bad_sql = f"(NOT ({structural}) AND ({check.bad_sql}))" if structural else f"({check.bad_sql})"
        conditions.append(bad_sql)
        errors.append(
            f"CASE WHEN {bad_sql} THEN {{'column': {sql_literal(check.column)}, "
            f"'value': {check.value_sql}, 'reason': '第' || source_row || '行: ' || "
            f"{sql_literal(check.reason)}}} END"
        )
    # built only for bad rows: CASE evaluates its THEN branch for the selected rows alone
    error_type = 'STRUCT("column" VARCHAR, "value" VARCHAR, reason VARCHAR)[]'
    error_list = (
        f"CASE WHEN {' OR '.join(conditions)} THEN list_filter([{', '.join(errors)}], lambda e: e IS NOT NULL) END"
        if conditions else f"CAST(NULL AS {error_type})"
    )
    keep = ["source_row"] + [f"p_{b.field}" for b in bindings]
    extras = "".join(f", {expr} AS {name}" for name, expr in (extra_sql or {}).items())
    parsed = f"parsed_{uuid.uuid4().hex[:10]}"
    try:
        con.execute(f"""
            CREATE TEMP TABLE {parsed} AS
            SELECT {', '.join(keep)}, {error_list} AS _errors{extras}
            FROM (SELECT {', '.join(inner)} FROM {staged.relation})
        """)
    except duckdb.InvalidInputException as exc:  # the CSV scan itself failed (ragged row, quoting)
        raise FileRejected(
            f"{f.rel}: 无法按 CSV 读取 (cannot be read as CSV: comma-separated, double-quoted): "
            f"{' '.join(str(exc).splitlines()[:3])}"
        ) from exc
    finally:
        drop_temp(con, *staged.temp_tables)
    con.execute(f"""
        INSERT INTO raw.load_rejects
        SELECT {sql_literal(load_id)}, {sql_literal(f.family)}, {sql_literal(f.rel)}, {sql_literal(f.sha256)},
               NULL, source_row, e."column", e."value", e.reason, false
        FROM (SELECT source_row, unnest(_errors) AS e FROM {parsed} WHERE _errors IS NOT NULL)
        ORDER BY source_row
    """)
    rows_in, rows_rejected = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE _errors IS NOT NULL) FROM {parsed}"
    ).fetchone()
    return ParsedFile(parsed, rows_in, rows_rejected)


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
    con: duckdb.DuckDBPyConnection, f: RawFile, src: TextSource, record_keys: tuple[str, ...] = ("data",)
) -> StagedFile:
    register_parse_macros(con)
    if f.path.suffix.lower() == ".csv":
        return stage_csv(con, src, f.rel)
    return stage_json(con, src, f.rel, record_keys)


def text_file_outcome(staged: "StagedFile", parsed: "ParsedFile", rows_loaded: int, notes: list[str],
                      kind: str) -> FileOutcome:
    """The outcome of a text file whose rows were parsed and loaded (rejects are already recorded)."""
    return FileOutcome(
        status="loaded_with_rejects" if parsed.rows_rejected else "loaded",
        reason="; ".join(notes) or None,
        rows_in=parsed.rows_in,
        rows_loaded=rows_loaded,
        rows_rejected=parsed.rows_rejected,
        file_format=staged.file_format,
        encoding=staged.encoding,
        detected_kind=kind,
    )
