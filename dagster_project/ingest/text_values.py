"""Value forms of the text families beyond the parse macros of ``textfiles``: what a person reads in a cell that a
bare number or a year-first date would not say.

* **Counts written with their unit** (``3家``, ``5 家``, ``５家``) and a cell repeating its own label
  (``投标人数：5 家``): the count. The units a field's count may carry are spec data (``units:`` of the field in
  ``trading_bulletins.yaml``); the label is only one naming that very field (``其中：5家`` is no count of all).
* **Chinese times with the half of the day** (``2018年6月4日上午9时30分``, ``下午2:30``, ``14点30分``, ``9点半``), as
  notices print 开标时间: 下午/晚上 add twelve hours to an hour below 12; an hour that contradicts its half
  (上午14时) or that custom, not the clock, reads (上午12点, 晚上12点) is no time (a row reject).
* **Dates with the day and month before the year** (``06/04/2018``, ``6/4/2018 9:00`` from an Excel in US locale,
  ``25/06/2018`` from one in a day-first locale). The contract's times are year-first; such a value is read only
  as the file itself says: a value whose first number is above 12 is day-first, one whose second number is, month-
  first. The file's date columns are written by one program in one locale, so one such value decides the others —
  and the file's note says which value decided. A file giving no evidence (every such value has both numbers at
  most 12, and they differ), or giving both, leaves its undecidable values unread: a row reject naming row and
  column and saying why, never a date guessed.
* **Dates with an English month name** (``06-Dec-2026``, ``6 Dec 2026``, ``Dec 6, 2026``, ``Sunday, December 6, 2026
  9:05 AM``): what Excel in an English locale writes when it saves a CSV. The name says the month, the four-digit
  number the year: read whatever the file's other dates do. Read on the same second pass as day/month/year values
  (only files whose rejected time cells hold one pay for it).
* **Two-digit years** (``26/12/06``, ``06-Dec-26``, ``2026`` nowhere): the century and, for ``26/12/06``, which
  number is the year are a guess — a row reject saying so (before, ``26/12/06`` read as the year 26 and ``06/12/26``
  as the year 6). The contract's times are year-first with four digits.
"""
from __future__ import annotations

import re

import duckdb

from dagster_project.ingest.parsed import CN_DIGITS, CN_TENS_DIGITS
from dagster_project.ingest.text_staging import sql_literal

# Day and month before a four-digit year, '/', '-' or '.' between them, a time after (12-hour with AM/PM as Excel's
# US locale writes it, or 24-hour). Full-width digits are made ASCII first (gk_halfwidth).
DAY_MONTH_PATTERN = (r"(\d{1,2})([/.-])(\d{1,2})[/.-](\d{4})"
                     r"(?:\s+(\d{1,2}:\d{2}(?::\d{2})?)(?:\s*([AaPp][Mm]))?)?")
DAY_FIRST, MONTH_FIRST, UNDECIDED = "dmy", "mdy", "undecided"
DAY_ORDER_REASON = ("日和月的顺序无法确定, 文件中没有一个日期能说明 (cannot tell the day from the month: the file holds "
                    "no date whose day is above 12 to tell whether it writes day/month/year or month/day/year)")


def _parts(value_sql: str) -> str:
    return (f"regexp_extract(gk_halfwidth({value_sql}), {sql_literal(DAY_MONTH_PATTERN)}, "
            "['a', 'sep', 'b', 'y', 't', 'ampm'])")


def _matches(value_sql: str) -> str:
    return f"regexp_full_match(gk_halfwidth({value_sql}), {sql_literal(DAY_MONTH_PATTERN)})"


# a month's English name (Excel's English locales: Dec, December; Sept as some write it), then the formats such dates
# come in, each with or without a time (24-hour, or 12-hour with AM/PM)
ENGLISH_MONTH = r"(?i)(?:^|[^a-z])(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?(?:[^a-z]|$)"
ENGLISH_DATES = ("%d-%b-%Y", "%d %b %Y", "%d/%b/%Y", "%b %d, %Y", "%b %d %Y", "%A, %b %d, %Y",
                 "%d-%B-%Y", "%d %B %Y", "%B %d, %Y", "%B %d %Y", "%A, %B %d, %Y", "%A, %d %B %Y")
ENGLISH_TIMES = ("", " %H:%M", " %H:%M:%S", " %I:%M %p", " %I:%M:%S %p")
# Sept (as some write September's short name) is %b's Sep — the word alone: replacing it inside September made Sepember
SEPT = r"(?i)\bsept\b"
NAMED = "named"  # the file's day/month/year values, if any, decide nothing: only month names were found
# a year written with two digits: yy/mm/dd or dd/mm/yy (any of / . -), yy年, or a month name beside no four-digit number
TWO_DIGIT_YEAR = r"\d{1,2}[/.-]\d{1,2}[/.-]\d{1,2}(?:[\sT].*)?|\d{2}年.*"
FOUR_DIGITS = r"\d{4}"
TWO_DIGIT_YEAR_REASON = ("年份只写了两位, 世纪(及哪一个数是年)无法确定; 未读取 (a year written with two digits: its century "
                         "— and for 26/12/06 which number is the year — would be a guess; not read)")


def _english(value_sql: str) -> str:
    return f"regexp_matches({value_sql}, {sql_literal(ENGLISH_MONTH)})"


def english_timestamp_sql(raw: str) -> str:
    """A date with an English month name and a four-digit year, as English-locale Excel writes it; NULL otherwise."""
    formats = "[" + ", ".join(sql_literal(d + t) for d in ENGLISH_DATES for t in ENGLISH_TIMES) + "]"
    value = f"regexp_replace(trim(gk_halfwidth({raw})), '\\s+', ' ', 'g')"
    return (f"(CASE WHEN regexp_matches({value}, {sql_literal(FOUR_DIGITS)}) "
            f"THEN try_strptime(replace(regexp_replace({value}, {sql_literal(SEPT)}, 'Sep'), '.', ''), {formats}) END)")


def two_digit_year_sql(raw: str) -> str:
    """True for a date whose year has two digits (no reading of it is more than a guess)."""
    value = f"gk_halfwidth({raw})"
    return (f"coalesce(regexp_full_match({value}, {sql_literal(TWO_DIGIT_YEAR)}) OR ({_english(value)} "
            f"AND NOT regexp_matches({value}, {sql_literal(FOUR_DIGITS)})), false)")


# the half of the day a Chinese time may name, and which of them are afternoon/evening
HALF_DAY = "上午|下午|早上|晚上|凌晨"
AFTERNOON = "下午|晚上"


def register_chinese_time_macro(con: duckdb.DuckDBPyConnection, formats_sql: str) -> None:
    """``gk_cn_ts(v)``: a time with 年 read by ``formats_sql`` (the Chinese layouts), with 上午/下午, 点 and 半 read."""
    half = f"regexp_extract(v, {sql_literal(HALF_DAY)})"
    half_pattern = sql_literal(r"\s*(" + HALF_DAY + r")\s*")
    plain = (f"regexp_replace(replace(replace(replace(v, '点半', '时30分'), '时半', '时30分'), '点', '时'), "
             f"{half_pattern}, ' ')")
    # 上午12点 / 下午12点 / 晚上12点 say noon or midnight by custom, not by the clock: no time, as 上午14时 is none
    con.execute(f"""
        CREATE OR REPLACE TEMP MACRO gk_cn_half_ts(v, t) AS CASE
            WHEN t IS NULL THEN NULL
            WHEN {half} = '' THEN t
            WHEN regexp_full_match({half}, {sql_literal(AFTERNOON)}) THEN CASE
                WHEN hour(t) BETWEEN 1 AND 11 THEN t + INTERVAL 12 HOUR
                WHEN hour(t) > 12 THEN t END
            WHEN hour(t) < 12 THEN t
        END;
        CREATE OR REPLACE TEMP MACRO gk_cn_ts(v) AS CASE
            WHEN regexp_matches(v, '{HALF_DAY}|点|半') THEN gk_cn_half_ts(v, try_strptime(trim({plain}), {formats_sql}))
            ELSE try_strptime(v, {formats_sql})
        END;
    """)


def register_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Macros reading a day/month/year value in a given order ('dmy', 'mdy', or 'undecided': only values that tell
    their order themselves — first number above 12, second above 12, or both equal)."""
    con.execute("""
        CREATE OR REPLACE TEMP MACRO gk_dm_order(p, file_order) AS CASE
            WHEN TRY_CAST(p.a AS INTEGER) = TRY_CAST(p.b AS INTEGER) THEN 'dmy'
            WHEN TRY_CAST(p.a AS INTEGER) > 12 AND TRY_CAST(p.b AS INTEGER) <= 12 THEN 'dmy'
            WHEN TRY_CAST(p.b AS INTEGER) > 12 AND TRY_CAST(p.a AS INTEGER) <= 12 THEN 'mdy'
            WHEN TRY_CAST(p.a AS INTEGER) <= 12 AND TRY_CAST(p.b AS INTEGER) <= 12 AND file_order IN ('dmy', 'mdy')
                THEN file_order
        END;
        CREATE OR REPLACE TEMP MACRO gk_dm_ts(p, file_order) AS CASE
            WHEN gk_dm_order(p, file_order) IS NULL THEN NULL
            ELSE try_strptime(
                p.y || '-' || (CASE gk_dm_order(p, file_order) WHEN 'dmy' THEN p.b ELSE p.a END) || '-'
                || (CASE gk_dm_order(p, file_order) WHEN 'dmy' THEN p.a ELSE p.b END)
                || (CASE WHEN p.t = '' THEN ' 00:00:00' ELSE ' ' || p.t || (CASE WHEN length(p.t) <= 5 THEN ':00' ELSE '' END) END)
                || (CASE WHEN p.ampm = '' THEN '' ELSE ' ' || upper(p.ampm) END),
                ['%Y-%m-%d %H:%M:%S', '%Y-%m-%d %I:%M:%S %p'])
        END;
    """)


def timestamp_sql(raw: str, order: str) -> str:
    """A time value of a file whose dates may be day/month/year or name their month in English: those read in
    ``order`` and by the name, every other form as ``gk_ts`` reads it."""
    return (f"(CASE WHEN {_matches(raw)} THEN gk_dm_ts({_parts(raw)}, {sql_literal(order)}) "
            f"WHEN {_english(raw)} THEN {english_timestamp_sql(raw)} ELSE gk_ts({raw}) END)")


def undecided_sql(raw: str) -> str:
    """True for a day/month/year value that does not tell its order itself (06/04/2018)."""
    return f"coalesce({_matches(raw)} AND gk_dm_order({_parts(raw)}, NULL) IS NULL, false)"


def day_order_from_errors(con: duckdb.DuckDBPyConnection, parsed: str, bindings) -> tuple[str, str] | None:
    """How a parsed file writes its dates with the day and month before the year, from its rejected time cells alone
    (no such value reads as the contract's year-first times, so every one of them is there): None when there is
    none, else ('dmy' / 'mdy' / 'undecided', the note saying which value decided it) — or ('named', its note) when
    the only such values name their month in English."""
    headers = sorted({h for b in bindings if b.kind in ("timestamp", "date")
                      for h in (b.header, *(h for _, h in b.fallbacks))})
    if not headers:
        return None
    register_macros(con)
    evidence = "e.column || chr(31) || source_row || chr(31) || e.value"
    found, named, day_first, month_first = con.execute(f"""
        WITH errors AS (
            SELECT source_row, e
            FROM (SELECT source_row, unnest(_errors) AS e FROM {parsed} WHERE _errors IS NOT NULL)
            WHERE e.column IN ({', '.join(sql_literal(h) for h in headers)})
        ), cells AS (
            SELECT source_row, e, {_parts('e.value')} AS p FROM errors WHERE {_matches('e.value')}
        )
        SELECT count(*),
               (SELECT arg_min({evidence}, source_row) FROM errors
                WHERE {_english('e.value')} AND {english_timestamp_sql('e.value')} IS NOT NULL),
               arg_min({evidence}, source_row) FILTER (WHERE gk_dm_order(p, NULL) = 'dmy'
                                                        AND TRY_CAST(p.a AS INTEGER) <> TRY_CAST(p.b AS INTEGER)),
               arg_min({evidence}, source_row) FILTER (WHERE gk_dm_order(p, NULL) = 'mdy')
        FROM cells
    """).fetchone()
    named_note = (f"英文月份名的日期按月份名读取, 如 {_where(named)} (dates naming their month in English read by "
                  "the name)") if named else ""
    if not found:
        return (NAMED, named_note) if named else None
    order, note = _day_order(day_first, month_first)
    return order, "; ".join(n for n in (note, named_note) if n)


def _day_order(day_first: str | None, month_first: str | None) -> tuple[str, str]:
    if day_first and not month_first:
        return DAY_FIRST, f"日期按 日/月/年 读取, 依据 {_where(day_first)} (dates read as day/month/year)"
    if month_first and not day_first:
        return MONTH_FIRST, f"日期按 月/日/年 读取, 依据 {_where(month_first)} (dates read as month/day/year)"
    if day_first and month_first:
        return UNDECIDED, (f"日期的日月顺序前后矛盾: {_where(day_first)} 是日/月/年, {_where(month_first)} 是月/日/年; "
                           "无法判定的日期未读取 (the file writes dates both day-first and month-first; dates that "
                           "do not tell their order themselves are rejected)")
    return UNDECIDED, ("日期写成 日/月/年 或 月/日/年, 文件中无法判定; 这些日期未读取 (dates with the day and month "
                       "before the year, and no date in the file tells which comes first: they are rejected)")


def _where(found_at: str) -> str:
    column, row, value = found_at.split(chr(31))
    return f"第{row}行「{column}」的 {value} (row {row}'s {value})"


# Chinese numerals of a small count or rank (三家, 第一名): a digit, or 十 as the tens (十二 = 12, 二十 = 20, 二十三 =
# 23) — parsed.whole_number's grammar below 100, from its digits; characters forming no number (三三, 十十, 十二三, 两十)
# are left as they are, so the cell is read as what it is (not a number), never guessed as 33
CHINESE_DIGITS, ASCII_DIGITS = "〇零一二两三四五六七八九", "001223456789"
_CHINESE_NUMERAL = f"[〇零{CN_DIGITS}]|[{CN_TENS_DIGITS}]?十[{CN_DIGITS}]?"


def chinese_numeral_sql(value: str) -> str:
    """SQL of ``value`` with a Chinese numeral below 100 written in digits (二十三 → '23'); any other text as it is."""
    digits = f"translate({value}, {sql_literal(CHINESE_DIGITS)}, {sql_literal(ASCII_DIGITS)})"
    return (f"(CASE WHEN regexp_full_match({value}, {sql_literal(_CHINESE_NUMERAL)}) THEN "
            f"regexp_replace(regexp_replace(regexp_replace(regexp_replace({digits}, "
            f"'^十$', '10'), '^十', '1'), '十$', '0'), '十', '') ELSE {value} END)")


def integer_sql(raw: str, labels: tuple[str, ...], units: tuple[str, ...], prefixes: tuple[str, ...] = ()) -> str:
    """A count written with its unit (``3家``, ``三家``) or after its own label (``投标人数：5 家``), a rank with its
    ordinal (``第1名``, ``第一名``): the number as ``gk_integer`` reads it; anything else as it is."""
    if not labels and not units and not prefixes:
        return f"gk_integer({raw})"
    value = f"gk_halfwidth({raw})"
    if labels:
        alternatives = "|".join(re.escape(label) for label in sorted(set(labels), key=len, reverse=True))
        pattern = sql_literal(r"^\s*(?:" + alternatives + r")\s*[:：]\s*")
        value = f"regexp_replace({value}, {pattern}, '')"
    if prefixes:
        alternatives = "|".join(re.escape(prefix) for prefix in sorted(set(prefixes), key=len, reverse=True))
        pattern = sql_literal(r"^\s*(?:" + alternatives + r")\s*")
        value = f"regexp_replace({value}, {pattern}, '')"
    if units:
        alternatives = "|".join(re.escape(unit) for unit in sorted(set(units), key=len, reverse=True))
        pattern = sql_literal(r"\s*(?:" + alternatives + r")\s*$")
        value = f"regexp_replace({value}, {pattern}, '')"
    # a plain number (nearly every cell) pays one cast more, not the regular expressions of the written-out forms
    return (f"(CASE WHEN {raw} IS NULL OR TRY_CAST({raw} AS INTEGER) IS NOT NULL THEN gk_integer({raw}) "
            f"ELSE gk_integer({chinese_numeral_sql(f'trim({value})')}) END)")
