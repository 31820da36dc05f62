"""The tests' kept dbt process (tests/dbt_session.py) answers as a dbt CLI call would: the warehouse is free when
the call returns, and a failed call fails with dbt's message."""
from __future__ import annotations

import duckdb

from dbt_fixed_path import run_dbt, scenario_env


def test_a_call_frees_the_warehouse_and_a_failed_call_fails_as_on_the_cli(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    env = scenario_env(tmp_path, warehouse)
    seeded = run_dbt(["seed", "--select", "ref_amount_units"], env, tmp_path / "target")
    assert seeded.returncode == 0, seeded.stdout[-3000:]
    # opened for writing by this process: another process still holding the file would make this fail
    con = duckdb.connect(str(warehouse))
    try:
        assert con.execute("select count(*) from reference.ref_amount_units").fetchone()[0] > 0
    finally:
        con.close()
    failed = run_dbt(["run-operation", "no_such_macro_anywhere"], env, tmp_path / "target")
    assert failed.returncode == 2 and "no_such_macro_anywhere" in failed.stdout   # as the CLI ends it
