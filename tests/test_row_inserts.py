"""Rows inserted in multi-row statements land as row-by-row ``executemany`` would have put them."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest

from dagster_project import row_inserts
from dagster_project.row_inserts import insert_rows

DDL = """CREATE TABLE t (k VARCHAR PRIMARY KEY, amount DECIMAL(20,2), n INTEGER, seen TIMESTAMP, flag BOOLEAN,
                        note VARCHAR)"""


def _pair() -> tuple[duckdb.DuckDBPyConnection, duckdb.DuckDBPyConnection]:
    left, right = duckdb.connect(), duckdb.connect()
    for con in (left, right):
        con.execute(DDL)
    return left, right


def test_mixed_python_types_in_one_column_reach_the_table_as_row_by_row(monkeypatch):
    # an int, a Decimal with cents and a float in one column: a bare VALUES list would make them all DOUBLE first
    rows = [("a", 3, 1, dt.datetime(2024, 1, 2, 3, 4, 5), True, None),
            ("b", Decimal("12345678901234567.89"), None, None, False, "第3行"),
            ("c", 0.1, 7, dt.datetime(2024, 5, 6), None, "'; DROP TABLE t; --"),
            ("d", "4.5", "8", "2024-02-03 00:00:00", "true", 5)]
    monkeypatch.setattr(row_inserts, "ROWS_PER_STATEMENT", 3)   # two statements, the second of one row
    chunked, by_row = _pair()
    assert insert_rows(chunked, "t", rows) == 4
    by_row.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", rows)
    got, want = (c.execute("SELECT * FROM t ORDER BY k").fetchall() for c in (chunked, by_row))
    assert got == want
    assert got[1][1] == Decimal("12345678901234567.89")


def test_named_columns_leave_the_others_to_their_defaults():
    con = duckdb.connect()
    con.execute("CREATE TABLE d (a VARCHAR, b BOOLEAN NOT NULL DEFAULT false, c INTEGER)")
    insert_rows(con, "d", [(2, "x"), (None, "y")], ["c", "a"])
    assert con.execute("SELECT a, b, c FROM d ORDER BY a").fetchall() == [("x", False, 2), ("y", False, None)]


def test_or_replace_keeps_the_last_row_of_a_key_given_twice():
    chunked, by_row = _pair()
    rows = [("a", 1, 1, None, True, "first"), ("b", 2, 2, None, True, "b"), ("a", 3, 3, None, False, "last")]
    for con in (chunked, by_row):
        con.execute("INSERT INTO t VALUES ('a', 0, 0, NULL, NULL, 'before')")
    insert_rows(chunked, "t", rows, or_replace=True)
    by_row.executemany("INSERT OR REPLACE INTO t VALUES (?, ?, ?, ?, ?, ?)", rows)
    got, want = (c.execute("SELECT * FROM t ORDER BY k").fetchall() for c in (chunked, by_row))
    assert got == want and got[0][-1] == "last"


def test_a_row_of_the_wrong_width_inserts_nothing():
    con = duckdb.connect()
    con.execute(DDL)
    with pytest.raises(ValueError, match="6 columns"):
        insert_rows(con, "t", [("a", 1, 1, None, True, "x"), ("b", 1)])
    assert con.execute("SELECT count(*) FROM t").fetchone() == (0,)
    assert insert_rows(con, "t", []) == 0
