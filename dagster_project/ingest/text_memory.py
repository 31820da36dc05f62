"""DuckDB's memory cap while a text file loads (split out of ``textfiles``, which re-exports ``bounded_memory``)."""
from __future__ import annotations

import re
from contextlib import contextmanager
from decimal import Decimal
from typing import Iterator

import duckdb

from dagster_project.ingest.text_staging import sql_literal

# DuckDB's buffer pool cap while a text file is parsed: the parsed scratch table of a very large
# file spills to the warehouse's temp directory instead of growing RSS (the default is 80 % of RAM).
LOADER_MEMORY_LIMIT = "2GB"


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
