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


def _move(path, names, token):
    from dagster_project.transform import generations

    con = duckdb.connect(str(path))
    try:
        generations.move(con, names, token)
    finally:
        con.close()


def test_trading_marts_not_hashed_again_after_a_build_that_did_not_reach_them(tmp_path, monkeypatch):
    """A corrected budget figure moves the dbt stage's fingerprint but not the trading marts' generations
    (``transform/generations.py``): their digest is kept; a build that reaches one of them hashes again."""
    monkeypatch.delenv("GONGKAI_NO_CARRY", raising=False)
    warehouse = tmp_path / "w.duckdb"
    _warehouse(warehouse)
    ocds = ("fct_trading_bulletins", "fct_deals", "int_records_quarantined")
    _move(warehouse, [*ocds, "fct_budget_lines"], "g1")
    _run(warehouse, dbt="build 1")
    first = ocds_fingerprint(warehouse, "prefix")
    # a budget build: new dbt fingerprint, only the budget mart moved; rows changed behind the build's back stay unseen
    _move(warehouse, ["fct_budget_lines"], "g2")
    _run(warehouse, "insert into marts.fct_deals values (100)", dbt="build 2")
    assert ocds_fingerprint(warehouse, "prefix") == first
    # a trading build moves fct_deals: hashed again, the changed rows seen
    _move(warehouse, ["fct_deals"], "g3")
    _run(warehouse, dbt="build 3")
    second = ocds_fingerprint(warehouse, "prefix")
    assert second != first
    # a relation without a generation (never built since they were kept): keyed by the dbt build as before
    _run(warehouse, "delete from raw.stage_state where stage = 'dbt_generation:fct_deals'", dbt="build 4")
    _run(warehouse, "insert into marts.fct_deals values (101)")
    assert ocds_fingerprint(warehouse, "prefix") not in (first, second)
    # a build under way (the dbt stage forgot its fingerprint): hashed whatever the generations say
    _move(warehouse, ocds, "g5")
    _run(warehouse, "delete from raw.stage_state where stage = 'dbt'")
    third = ocds_fingerprint(warehouse, "prefix")
    _run(warehouse, "insert into marts.fct_deals values (102)")
    assert ocds_fingerprint(warehouse, "prefix") != third
