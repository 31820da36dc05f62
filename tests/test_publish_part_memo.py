"""A release keeps each dataset's part fingerprints with the dbt generations of the relations it reads
(``parts.memo_key``): a build that did not reach a mart (a corrected budget figure and the trading marts) does not
hash its rows again. Rows changed by hand behind the dbt asset's back (no generation moved) move the relation's storage
mark (``relation_fingerprint.StorageMarks``, in the key): hashed again, the change seen. A moved generation, another
dbt build state (under way) or ``GONGKAI_NO_CARRY=1`` hashes them again too. The generations themselves:
``test_dbt_generations.py``.
"""
from __future__ import annotations

import duckdb
import pytest

from dagster_project.publish import atomic, parts
from test_publish_support import publish_state, record_dbt_build, release_skipping_identical, run_sql


@pytest.fixture
def state(tmp_path, monkeypatch):
    return publish_state(tmp_path, monkeypatch)


def _kept_at(warehouse) -> dict[str, object]:
    """dataset -> when its part fingerprints were last computed and kept."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {stage[len(parts.MEMO_STAGE):]: at for stage, at in con.execute(
            "SELECT stage, completed_at FROM raw.stage_state WHERE stage LIKE ?", [parts.MEMO_STAGE + "%"]).fetchall()}
    finally:
        con.close()


def _kept(warehouse) -> set[str]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {r[0][len(parts.MEMO_STAGE):] for r in con.execute(
            "SELECT stage FROM raw.stage_state WHERE stage LIKE ?", [parts.MEMO_STAGE + "%"]).fetchall()}
    finally:
        con.close()


def test_part_fingerprints_are_kept_while_the_generations_stay(state, monkeypatch):
    warehouse, out, relations = state
    first = release_skipping_identical(warehouse, out)
    # every dataset read from dbt relations is kept; the findings (SQL over quality's tables) are not
    assert {"budget_lines", "trading_bulletins", "deals"} <= _kept(warehouse)
    assert "quality_findings" not in _kept(warehouse)
    change = ("UPDATE main_marts.fct_budget_lines SET amount_yuan = amount_yuan + 1 "
              "WHERE fiscal_year = 2018 AND code = '205'")
    # a build that reached only the trading marts: the budget lines' generation stayed, so they are not hashed again
    kept = _kept_at(warehouse)
    record_dbt_build(warehouse, ["fct_trading_bulletins", "fct_deals"], "g2")
    same = release_skipping_identical(warehouse, out)
    assert same.unchanged and same.release_id == first.release_id
    now = _kept_at(warehouse)
    assert now["budget_lines"] == kept["budget_lines"] and now["trading_bulletins"] != kept["trading_bulletins"]
    # a budget figure changed by hand in a DuckDB session, no dbt build: the storage mark moved, the rows are hashed
    run_sql(warehouse, change)
    seen = release_skipping_identical(warehouse, out)
    assert not seen.unchanged and seen.parts_with("new") == ["budget_lines/2018"]
    # with carrying disabled the rows are hashed whatever is kept: the change is seen
    run_sql(warehouse, change)
    monkeypatch.setenv("GONGKAI_NO_CARRY", "1")
    seen = release_skipping_identical(warehouse, out)
    monkeypatch.delenv("GONGKAI_NO_CARRY")
    assert not seen.unchanged and "budget_lines/2018" in seen.parts_with("new")
    # and a build that reaches the budget lines (their generation moves) sees the next change
    run_sql(warehouse, change)
    record_dbt_build(warehouse, ["fct_budget_lines"], "g3")
    moved = release_skipping_identical(warehouse, out)
    assert not moved.unchanged and moved.parts_with("new") == ["budget_lines/2018"]
    # a dbt build under way (its fingerprint forgotten): hashed whatever the generations say
    run_sql(warehouse, change, "DELETE FROM raw.stage_state WHERE stage = 'dbt'")
    under_way = release_skipping_identical(warehouse, out)
    assert not under_way.unchanged and under_way.parts_with("new") == ["budget_lines/2018"]
    assert atomic.read_pointer(out / "open-data") == under_way.release_id
