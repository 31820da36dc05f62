"""The text loaders' parsing macros (DuckDB temporary macros: ``gk_clean``, ``gk_code``, ``gk_ts``, ``gk_amount`` …)
and the constants they are built from; ``textfiles`` re-exports them. Temporary macros live on one connection:
``parse_macros_setup`` (a loader's ``connection_setup``, called by ``framework.load_family`` outside any file's
transaction) makes them once per connection; ``register_parse_macros`` makes them where that did not run."""
from __future__ import annotations

import weakref

import duckdb

from dagster_project.ingest import text_values
from dagster_project.ingest.text_staging import sql_literal

# Excel serial day numbers accepted as dates: 20000 (1954-10-03) … 79999 (2119-01-08). Outside that
# range a bare number is far more likely a mistake (a year, a count) than a date, so it is rejected.
EXCEL_SERIAL_MIN, EXCEL_SERIAL_MAX = 20000, 80000
# Unix times read as times: 2000-01-01 to 2099-12-31 (UTC), so an id or a phone number is never one
EPOCH_SECONDS_MIN, EPOCH_SECONDS_MAX = 946_684_800, 4_102_444_799

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
    "compact": ("%Y%m%d", "%Y%m%d%H%M%S", "%Y%m%d%H%M", "%Y%m%d %H:%M:%S", "%Y%m%d %H:%M"),
}

# Whitespace trimmed from every cell (ASCII, full-width ideographic space, no-break space, BOM).
TRIM_CHARS = " \t\r\n\u3000\u00a0\ufeff"

BOOLEAN_TRUE = ("true", "t", "1", "是", "y", "yes", "有")
BOOLEAN_FALSE = ("false", "f", "0", "否", "n", "no", "无")


# connections whose parsing macros were created outside a transaction (``parse_macros_setup``): they stay, so a file
# loaded on it does not create them again (≈ 20 ms of CPU a file; a file's ROLLBACK would drop macros it created)
_MACROS_COMMITTED: "weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, bool]" = weakref.WeakKeyDictionary()


# DuckDB's IN-clause optimizer walks every expression of a statement, and a parse query is one CASE tree per column
# with the macros inlined (≈ 50 kB of SQL for a 33-column export): planning it took ≈ 0.45 s a file whatever its
# rows, ≈ 0.22 s of it this optimizer alone (measured on a 20-row export: 0.46 → 0.22 s; on a 324 k-row export
# 3.4–3.9 s either way, the same rows). What it would rewrite in a parse is a handful of labels or placeholders per
# column, compared as they stand; the loaders' lists of files are ``list_contains`` already. Off on the loading
# connection (its own: ``WarehouseResource.connect`` per family asset), which every file of the family plans on.
PARSE_DISABLED_OPTIMIZERS = ("in_clause",)


def parse_macros_setup(con: duckdb.DuckDBPyConnection) -> None:
    """A loader's ``connection_setup`` (``framework.load_family``, outside any transaction): the macros, once, and
    the optimizers a parse does without (``PARSE_DISABLED_OPTIMIZERS``) added to those the connection disables."""
    if con not in _MACROS_COMMITTED:
        register_parse_macros(con)
        disable_optimizers(con, PARSE_DISABLED_OPTIMIZERS)
        _MACROS_COMMITTED[con] = True


def disable_optimizers(con: duckdb.DuckDBPyConnection, names: tuple[str, ...]) -> None:
    """Add ``names`` to the connection's ``disabled_optimizers`` (those it disables already stay disabled)."""
    current = con.execute("SELECT current_setting('disabled_optimizers')").fetchone()[0] or ""
    disabled = [n.strip() for n in current.split(",") if n.strip()]
    wanted = disabled + [n for n in names if n not in disabled]
    if wanted != disabled:
        con.execute(f"SET disabled_optimizers = {sql_literal(','.join(wanted))}")


def register_parse_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create the temporary parsing macros on this connection (idempotent); nothing to do where
    ``parse_macros_setup`` made them."""
    if con in _MACROS_COMMITTED:
        return
    groups = {k: "[" + ", ".join(sql_literal(f) for f in v) + "]" for k, v in TIMESTAMP_FORMATS.items()}
    trim = sql_literal(TRIM_CHARS)
    text_values.register_chinese_time_macro(con, groups["chinese"])
    con.execute(f"""
        -- trim(v, chars) with a non-ASCII set is slow: only values that start or end with one of
        -- them pay for it (measured: 28 columns x 1 M rows, 12 s -> under 3 s)
        -- ="0123" is how exporters (and people) keep a code as text when the file is opened in Excel: the
        -- text between the quotes is the value, as Excel shows it (one CASE: a second one around this doubled
        -- the cost of every cell)
        CREATE OR REPLACE TEMP MACRO gk_clean(v) AS nullif(CASE
            WHEN strpos({trim}, left(v, 1)) > 0 OR strpos({trim}, right(v, 1)) > 0 THEN trim(v, {trim})
            WHEN starts_with(v, '="') AND suffix(v, '"') AND length(v) >= 3 THEN substr(v, 3, length(v) - 3)
            ELSE v END, '');
        -- a code a spreadsheet or a script rewrote as a number when it opened and saved the file: in scientific
        -- notation (Excel 9.16403E+17, LibreOffice 9.16403007668853E+017, pandas 9.164030076688526e+17) or with
        -- 16+ digits and a '.0' (a JSON number, a float column) its digits are lost, so it is no code; up to 15
        -- digits and a '.0' (640104.0: a float holds them exactly) it is the code written as a number. The cheap
        -- contains() first: a code without 'E', 'e' or '.' (nearly all) pays no regular expression
        CREATE OR REPLACE TEMP MACRO gk_code(v) AS CASE
            WHEN contains(v, 'E') OR contains(v, 'e') OR contains(v, '.') THEN CASE
                WHEN regexp_full_match(v, '[+-]?[0-9](\\.[0-9]+)?[Ee]\\+[0-9]{{1,3}}') THEN NULL
                WHEN regexp_full_match(v, '[0-9]{{16,}}\\.0+') THEN NULL
                WHEN regexp_full_match(v, '[0-9]{{1,15}}\\.0+') THEN split_part(v, '.', 1)
                ELSE v END
            ELSE v END;
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
        -- Cheap markers (contains) route each value to its own group of layouts; the first branch is the common
        -- export layout. Excel serial: days since 1899-12-30 (Excel's 1900 leap-year bug makes this the epoch). A run
        -- of digits is a date only as YYYYMMDD / YYYYMMDDHHMMSS (strptime alone would take 2018064). A year of fewer
        -- than four digits is no year: %Y takes 1-4 digits (26/12/06 was the year 26; TWO_DIGIT_YEAR_REASON).
        -- full-width digits and separators (２０１８－０６－０４ ９：００) as ASCII: typed on a Chinese IME
        CREATE OR REPLACE TEMP MACRO gk_halfwidth(v) AS translate(v, {sql_literal(FULLWIDTH)}, {sql_literal(HALFWIDTH)});
        CREATE OR REPLACE TEMP MACRO gk_ts_ascii(v) AS CASE
            WHEN v IS NULL THEN NULL
            WHEN contains(v, '-') AND NOT contains(v, 'T') AND NOT contains(v, '+') AND NOT contains(v, 'Z')
                THEN CASE WHEN strpos(v, '-') > 4 THEN try_strptime(v, {groups['dash']}) END
            WHEN contains(v, '年') THEN CASE WHEN strpos(v, '年') > 4 THEN gk_cn_ts(replace(v, '：', ':')) END
            WHEN contains(v, '/') THEN CASE WHEN strpos(v, '/') > 4 THEN try_strptime(v, {groups['slash']}) END
            WHEN contains(v, 'T') OR contains(v, '+') OR contains(v, 'Z')
                THEN CASE WHEN NOT regexp_matches(v, '^\\s*\\d{{1,3}}\\D') THEN gk_iso_ts(v) END
            WHEN regexp_full_match(v, '\\d{{5}}(\\.\\d+)?') THEN CASE
                WHEN CAST(v AS DECIMAL(18, 8)) >= {EXCEL_SERIAL_MIN} AND CAST(v AS DECIMAL(18, 8)) < {EXCEL_SERIAL_MAX}
                THEN TIMESTAMP '1899-12-30 00:00:00'
                     + to_seconds(CAST(round(CAST(v AS DECIMAL(18, 8)) * 86400) AS BIGINT)) END
            WHEN regexp_full_match(v, '\\d{{8}}|(19|20)\\d{{10}}|\\d{{14}}|\\d{{8}} \\d{{1,2}}:\\d{{2}}(:\\d{{2}})?')
                THEN try_strptime(v, {groups['compact']})
            -- a Unix time, as Java platforms' JSON writes a date (milliseconds: Jackson's default; or seconds):
            -- UTC, shown in Beijing time like every other time here; only within 2000-2099
            -- (seconds: 9-10 digits; milliseconds: 12-13 — a 12-digit one from 19/20 is yyyyMMddHHmm above)
            WHEN regexp_full_match(v, '\\d{{9,10}}|\\d{{12,13}}') THEN CASE
                WHEN CAST(v AS BIGINT) // (CASE WHEN length(v) >= 12 THEN 1000 ELSE 1 END)
                     BETWEEN {EPOCH_SECONDS_MIN} AND {EPOCH_SECONDS_MAX}
                THEN TIMESTAMP '1970-01-01 08:00:00'
                     + to_milliseconds(CAST(v AS BIGINT) * (CASE WHEN length(v) >= 12 THEN 1 ELSE 1000 END)) END
            -- yyyyMMdd[HHmmss] written by a float column (pandas writes 20190715100000.0 once the column has a blank)
            WHEN regexp_full_match(v, '(\\d{{8}}|(19|20)\\d{{10}}|\\d{{14}})\\.0+')
                THEN try_strptime(split_part(v, '.', 1), {groups['compact']})
            WHEN contains(v, '.') AND strpos(v, '.') > 4 THEN try_strptime(v, {groups['dot']})
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
        -- an amount written with its unit: the number before it and the unit text after it
        CREATE OR REPLACE TEMP MACRO gk_has_unit_text(v) AS (contains(v, '元') OR contains(v, '万') OR contains(v, '亿'));
        CREATE OR REPLACE TEMP MACRO gk_amount_number_part(v) AS regexp_extract(v, '^([^元万千亿百十人（(\\[]*)', 1);
        CREATE OR REPLACE TEMP MACRO gk_amount_unit_part(v) AS substr(v, length(gk_amount_number_part(v)) + 1);
        CREATE OR REPLACE TEMP MACRO gk_integer(v) AS CASE
            WHEN regexp_full_match(v, '[+-]?\\d{{1,9}}(\\.0+)?') THEN CAST(CAST(v AS DECIMAL(18, 2)) AS INTEGER)
        END;
        CREATE OR REPLACE TEMP MACRO gk_boolean(v) AS CASE
            WHEN lower(v) IN ({", ".join(sql_literal(x) for x in BOOLEAN_TRUE)}) THEN true
            WHEN lower(v) IN ({", ".join(sql_literal(x) for x in BOOLEAN_FALSE)}) THEN false
        END;
    """)
