"""Spreadsheet-safe cells: every CSV and XLSX gongkai writes goes through here.

Publishers' text reaches people through spreadsheets, and a spreadsheet runs a cell that starts with
``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return before one) as a formula: ``=HYPERLINK(…)``
in a notice title, ``=cmd|' /C calc'!A0`` in a name (CSV/formula injection). So:

- a **text** cell that starts with one of ``= + - @ \\t \\r`` and is not a number gets a leading ``'``
  (``neutralise`` / ``neutralise_sql``) — the same in CSV and XLSX, so both files of a dataset hold
  the same text (but for the characters only XLSX drops, below: ``<VT>=cmd`` is itself in CSV, ``'=cmd`` in XLSX); numbers, negative ones included, and number-like text (``-1,234.50``) stay as they are;
- in XLSX, text is stored as text (an inline string), never as a formula, and numbers as numbers: every workbook
  is written by ``publish/excel.py`` (the release's datasets, and the quality findings through
  ``quality/findings_xlsx.py``), which neutralises with ``neutralise_sql``; characters XML 1.0 forbids (control
  characters but tab, line feed and carriage return; U+FFFE, U+FFFF) are dropped from its text: a vertical tab pasted
  into a name would otherwise make the file unreadable;
- Parquet keeps the values as they are (it is not a spreadsheet; they are masked all the same).

Writers: ``write_csv`` (Python rows, UTF-8 with BOM for Excel on a Chinese Windows), ``neutralised_select``
(a DuckDB ``SELECT`` whose text columns are neutralised, for ``COPY … TO '….csv'``).
"""
from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Iterable, Sequence

DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r")
# A number as people write it: sign, digits with optional thousands separators, decimals, exponent.
NUMBER_PATTERN = r"[+-]?(?:[0-9]+(?:,[0-9]{3})*(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_NUMBER = re.compile(NUMBER_PATTERN)


def is_number_text(text: str) -> bool:
    return bool(_NUMBER.fullmatch(text.strip()))


def neutralise(value):
    """A cell value as it may be written to a spreadsheet: dangerous text gets a leading ``'``."""
    if isinstance(value, str) and value[:1] in DANGEROUS_FIRST and not is_number_text(value):
        return "'" + value
    return value


def neutralise_sql(expr: str, dropped_later: str = "") -> str:
    """DuckDB expression: ``neutralise`` of a VARCHAR expression (NULL stays NULL). ``dropped_later``: the body of a
    regex character class of characters the writer removes afterwards (an XLSX writer drops what XML forbids): a
    dangerous character behind them counts as first, so ``<VT>=cmd`` is written ``'=cmd``, never ``=cmd``."""
    return f"CASE WHEN {guarded_sql(expr, dropped_later)} THEN '''' || {expr} ELSE {expr} END"


def guarded_sql(expr: str, dropped_later: str = "") -> str:
    """DuckDB condition: ``neutralise_sql`` puts its ``'`` before this text (``dropped_later`` as there)."""
    lead = f"[{dropped_later}]*" if dropped_later else ""
    kept = f"regexp_replace({expr}, '[{dropped_later}]', '', 'g')" if dropped_later else expr
    return (f"(regexp_matches({expr}, '^{lead}[=+\\-@\\t\\r]') AND NOT regexp_full_match(trim({kept}), "
            f"'{NUMBER_PATTERN}'))")


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def neutralised_select(columns: Sequence[tuple[str, str]], relation_sql: str,
                       aliases: dict[str, str] | None = None) -> str:
    """``SELECT`` of ``relation_sql`` (name, DuckDB type columns) with every text column neutralised,
    names (or their ``aliases``) and order kept: what a ``COPY … (FORMAT csv)`` should read."""
    parts = []
    aliases = aliases or {}
    for name, duckdb_type in columns:
        col = _quote_ident(name)
        alias = _quote_ident(aliases.get(name, name))
        is_text = duckdb_type.upper().startswith(("VARCHAR", "TEXT", "STRING", "CHAR"))
        parts.append(f"{neutralise_sql(col)} AS {alias}" if is_text else (col if alias == col else f"{col} AS {alias}"))
    return f"SELECT {', '.join(parts)} FROM {relation_sql} AS src"


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence], bom: bool = True) -> Path:
    """Rows to CSV with every text cell neutralised (UTF-8 with BOM unless ``bom=False``)."""
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([neutralise(h) for h in header])
        for row in rows:
            writer.writerow([neutralise(v) for v in row])
    return path


# the characters XML 1.0 forbids in text (excel.py's _FORBIDDEN as a Python class: the rule the SQL writer's tests hold
# it to)
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids (an XLSX cell cannot hold them)."""
    return _XML_FORBIDDEN.sub("", text)


__all__ = ["DANGEROUS_FIRST", "NUMBER_PATTERN", "is_number_text", "neutralise", "neutralise_sql", "neutralised_select",
           "write_csv", "xml_text"]
