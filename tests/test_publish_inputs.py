"""The OCDS input fingerprint (``publish/inputs.py``): the trading marts hashed once per dbt build."""
from __future__ import annotations

import duckdb

from dagster_project import stage_state
from dagster_project.publish.inputs import OCDS_INPUTS_STAGE, ocds_fingerprint


def _warehouse(path):
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema marts; create schema intermediate")
        con.execute("create table marts.fct_trading_bulletins as select range as bulletin_id, 'b' || range as text "
                    "from range(1000)")
        con.execute("create table marts.fct_deals as select range as deal_id from range(100)")
        con.execute("create table intermediate.int_records_quarantined (ocid varchar)")
    finally:
        con.close()


def _run(path, sql=None, dbt=None):
    con = duckdb.connect(str(path))
    try:
        if sql:
            con.execute(sql)
        if dbt:
            stage_state.record(con, "dbt", dbt)
    finally:
        con.close()


def test_trading_marts_hashed_once_per_dbt_build(tmp_path, monkeypatch):
    monkeypatch.delenv("GONGKAI_NO_CARRY", raising=False)
    warehouse = tmp_path / "w.duckdb"
    _warehouse(warehouse)
    _run(warehouse, dbt="build 1")
    first = ocds_fingerprint(warehouse, "prefix")
    assert ocds_fingerprint(warehouse, "prefix") == first and ocds_fingerprint(warehouse, "other") != first
    # rows changed behind the dbt stage's back are not seen while it records the same build: the digest is kept
    _run(warehouse, "update marts.fct_trading_bulletins set text = 'x' where bulletin_id = 7")
    assert ocds_fingerprint(warehouse, "prefix") == first
    # a new build: the marts are hashed again
    _run(warehouse, dbt="build 2")
    second = ocds_fingerprint(warehouse, "prefix")
    assert second != first
    # another build with the same trading rows (a changed budget figure): the same fingerprint, packages kept
    _run(warehouse, dbt="build 3")
    assert ocds_fingerprint(warehouse, "prefix") == second
    # what is kept is what a fresh hash gives
    _run(warehouse, f"delete from raw.stage_state where stage = '{OCDS_INPUTS_STAGE}'")
    assert ocds_fingerprint(warehouse, "prefix") == second
    # no recorded build (a dbt build under way): hashed every time, nothing kept
    _run(warehouse, "delete from raw.stage_state")
    assert ocds_fingerprint(warehouse, "prefix") == second
    _run(warehouse, "update marts.fct_deals set deal_id = deal_id + 1 where deal_id = 3")
    assert ocds_fingerprint(warehouse, "prefix") != second
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert con.execute("select count(*) from raw.stage_state").fetchone()[0] == 0
    finally:
        con.close()
