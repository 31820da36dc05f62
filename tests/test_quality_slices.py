"""The touched slices' filter written on typed columns (``slices.Touched.scan_condition``) selects exactly the rows
the key-string form (``Touched.condition``) selects, NULLs and empty strings included, and is never NULL."""
from __future__ import annotations

import duckdb
import pytest

from dagster_project.quality.slices import Touched


@pytest.mark.parametrize("year_type", ["INTEGER", "BIGINT", "VARCHAR"])
def test_scan_condition_selects_the_rows_the_key_string_selects(year_type):
    con = duckdb.connect()
    con.execute(f"create table t (publisher_code varchar, fiscal_year {year_type}, i integer)")
    con.execute("insert into t values ('640000', 2019, 1), ('640000', 2020, 2), ('640100', 2020, 3), (null, 2020, 4), "
                "('', 2020, 5), ('640100', null, 6), (null, null, 7), ('6401', 2021, 8), ('640100', 2019, 9)")
    if year_type == "VARCHAR":
        con.execute("insert into t values ('640000', '', 10), ('640000', '02020', 11)")
    types = dict(con.execute("select column_name, data_type from information_schema.columns "
                             "where table_name = 't'").fetchall())
    cases = [Touched({"640000|2020", "|2020"}), Touched({"640100|"}, {"2021"}), Touched(set(), {"", "2019"}),
             Touched({"640000|02020", "640000|"}), Touched({"|"}), Touched()]
    for touched in cases:
        for level in ("publisher_year", "year"):
            def rows(condition: str) -> list:
                return con.execute(f"select i, ({condition}) is null from t where {condition} order by i").fetchall()

            typed = touched.scan_condition(level, types)
            assert rows(typed) == rows(touched.condition(level)), (touched, level, typed)
            negated = con.execute(f"select count(*) from t where not {typed}").fetchone()[0]
            assert negated + len(rows(typed)) == con.execute("select count(*) from t").fetchone()[0]
    assert " in (2020)" in Touched({"640000|2020"}).scan_condition("publisher_year", {**types, "fiscal_year": "INTEGER"})
