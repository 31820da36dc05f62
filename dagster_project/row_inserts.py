"""Python rows into a DuckDB table in a few statements, not one statement per row.

DuckDB's ``executemany`` runs its INSERT once per row: ≈ 0.6 ms a row of ten columns on this machine, seven times
what the same rows cost as multi-row ``VALUES`` lists (1 000 rows: 0.62 against 0.09 CPU-s; a test warehouse of a
few thousand lines paid 19 CPU-s). DuckDB binds the parameters of an INSERT's ``VALUES`` to the target columns'
types, so an int, a Decimal and a float in one column each reach the table as ``executemany`` puts them
(tests/test_row_inserts.py compares the two on such rows).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import duckdb

ROWS_PER_STATEMENT = 250


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """Every column of ``table`` (a qualified name as SQL writes it), in its order."""
    return [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {table}").fetchall()]


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: Iterable[Sequence], columns: Sequence[str] | None = None,
                *, or_replace: bool = False) -> int:
    """Insert ``rows`` (one value per column of ``columns``, default every column of ``table`` in order); the count.
    ``or_replace``: ``INSERT OR REPLACE`` (a key given twice among ``rows``: the last row wins, as row by row)."""
    rows = [tuple(r) for r in rows]
    if not rows:
        return 0
    columns = list(columns) if columns is not None else table_columns(con, table)
    if any(len(r) != len(columns) for r in rows):
        raise ValueError(f"{table}: a row does not hold one value for each of its {len(columns)} columns")
    if or_replace:
        rows = _last_of_each_key(con, table, columns, rows)
    one_row = "(" + ", ".join("?" * len(columns)) + ")"
    head = (f"INSERT {'OR REPLACE ' if or_replace else ''}INTO {table} (" + ", ".join(f'"{c}"' for c in columns)
            + ") VALUES ")
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        chunk = rows[start:start + ROWS_PER_STATEMENT]
        con.execute(head + ", ".join([one_row] * len(chunk)), [v for r in chunk for v in r])
    return len(rows)


def _last_of_each_key(con: duckdb.DuckDBPyConnection, table: str, columns: list[str], rows: list[tuple]) -> list[tuple]:
    """One row per primary key, the last given: one statement may not replace a row twice (DuckDB refuses it)."""
    schema, _, name = table.rpartition(".")
    keys = con.execute(
        "SELECT constraint_column_names FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY' "
        "AND table_name = ? AND (? = '' OR schema_name = ?)", [name, schema, schema]).fetchone()
    if not keys:
        return rows
    at = [columns.index(k) for k in keys[0]]
    last = {tuple(r[i] for i in at): r for r in rows}
    return list(last.values())
