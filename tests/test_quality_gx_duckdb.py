"""The GX 1.24 + DuckDB workaround: needed (without it the answer is wrong) and working (with it, exact).

If GX one day fetches results before releasing the connection, the first test fails: the workaround
can then be removed. If GX renames or reshapes `_PERSISTED_CONNECTION_DIALECTS`, the second fails.
"""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dagster_project.quality import gx_duckdb

ROWS, MODULUS, BAD_VALUE = 1000, 7, 3


def _warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema marts")
        con.execute(f"create table marts.t as select range as id, range % {MODULUS} as v from range({ROWS})")
        expected_bad = con.execute(f"select count(*) from marts.t where v = {BAD_VALUE}").fetchone()[0]
    finally:
        con.close()
    assert expected_bad > 0
    return path


def _validate(path: Path, workaround: bool):
    import great_expectations as gx

    with gx_duckdb.ephemeral_duckdb_context(path, workaround=workaround) as (_, datasource):
        asset = datasource.add_table_asset("t", table_name="t", schema_name="marts")
        batch = asset.add_batch_definition_whole_table("all").get_batch()
        suite = gx.ExpectationSuite(name="probe")
        suite.add_expectation(gx.expectations.UnexpectedRowsExpectation(
            unexpected_rows_query=f"select * from {{batch}} where v = {BAD_VALUE}"))
        suite.add_expectation(gx.expectations.ExpectColumnValuesToBeUnique(column="id"))
        return batch.validate(suite)


@pytest.fixture
def restore_workaround():
    yield
    gx_duckdb.apply_duckdb_workaround()


def test_without_workaround_duckdb_results_are_lost(tmp_path, restore_workaround):
    path = _warehouse(tmp_path)
    gx_duckdb.remove_duckdb_workaround()
    assert not gx_duckdb.is_duckdb_persisted()
    result = _validate(path, workaround=False)
    unexpected_rows, unique_ids = result.results
    # Both are wrong: the rows query cannot report its count, and the unique ids are not found unique.
    assert unexpected_rows.result.get("observed_value") is None
    assert unique_ids.success is False


def test_with_workaround_every_expectation_is_exact(tmp_path):
    path = _warehouse(tmp_path)
    con = duckdb.connect(str(path))
    expected_bad = con.execute(f"select count(*) from marts.t where v = {BAD_VALUE}").fetchone()[0]
    con.close()
    result = _validate(path, workaround=True)
    assert gx_duckdb.is_duckdb_persisted()
    unexpected_rows, unique_ids = result.results
    assert unexpected_rows.result["observed_value"] == expected_bad
    assert unexpected_rows.success is False
    assert unique_ids.success is True


def test_workaround_is_idempotent_and_a_str_with_value():
    gx_duckdb.apply_duckdb_workaround()
    gx_duckdb.apply_duckdb_workaround()
    from great_expectations.execution_engine import sqlalchemy_execution_engine as engine

    entries = [e for e in engine._PERSISTED_CONNECTION_DIALECTS if e == "duckdb"]
    assert len(entries) == 1
    assert isinstance(entries[0], str) and entries[0].value == "duckdb"
    assert engine._dialect_requires_persisted_connection(connection_string="duckdb:///x.duckdb")


def test_file_is_released_after_the_context(tmp_path):
    path = _warehouse(tmp_path)
    _validate(path, workaround=True)
    # A writer in another process would fail on a held lock; a fresh read-write connection with a
    # different configuration in this process fails the same way while duckdb-engine still holds it.
    con = duckdb.connect(str(path), config={"threads": 1})
    try:
        con.execute("create table marts.after_gx as select 1 as x")
    finally:
        con.close()
    import subprocess
    import sys

    code = f"import duckdb; c = duckdb.connect({str(path)!r}); c.execute('select 1'); c.close()"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_gx_validations_run_under_the_processes_duckdb_memory_cap(tmp_path, monkeypatch):
    """GX's own connection is not one gongkai opens: without the cap in its URL it kept DuckDB's default of 80 % of
    RAM, and quality's step reached 3.4 GiB of the 4 GiB budget at 10 M trading rows."""
    import great_expectations as gx

    from dagster_project.duckdb_memory import PROCESS_BUDGET_ENV, capped

    # a budget the process already exceeds: the cap is its floor whatever the process holds, so GX's connection
    # (opened later) and the reference read the same value
    monkeypatch.setenv(PROCESS_BUDGET_ENV, "1")
    path = _warehouse(tmp_path)
    reference = capped(duckdb.connect())  # how DuckDB shows the cap (it rounds to one decimal of GiB)
    try:
        cap = reference.execute("select current_setting('memory_limit')").fetchone()[0]
        default = duckdb.connect().execute("select current_setting('memory_limit')").fetchone()[0]
    finally:
        reference.close()
    assert cap != default, "the machine's default equals the cap: the test would prove nothing"
    with gx_duckdb.ephemeral_duckdb_context(path) as (_, datasource):
        asset = datasource.add_query_asset("limit", query="select current_setting('memory_limit') as memory_limit")
        batch = asset.add_batch_definition_whole_table("all").get_batch()
        suite = gx.ExpectationSuite(name="cap")
        suite.add_expectation(gx.expectations.ExpectColumnDistinctValuesToEqualSet(column="memory_limit",
                                                                                    value_set=[cap]))
        result = batch.validate(suite)
    assert result.success, result.results[0].result
