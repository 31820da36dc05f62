"""A mart changed by hand in a DuckDB session — no dbt build, no generation moved — is published, not hidden behind the
release gate (``publish/assets.py::publish_fingerprint``) and the part fingerprints kept by dbt generation.

Wave 15 left it unseen (CONTRACTS.md: "a DuckDB session changing a mart by hand is not seen"): the gate was the dbt
stage's record, the parts' cache key the generations, and neither moves without the dbt asset. Now both hold the
relations' storage marks (``relation_fingerprint.StorageMarks``: columns, row count and column segments from DuckDB's
catalogue and storage metadata, never a row): an update, insert, delete or replaced table moves the mark of that
relation and of no other, so the gate opens, the changed relation is hashed again and its part rebuilt, and every other
relation stays kept. A mark that moves without a change (the same rows written again) costs a hash, never a release.
Fixture marts: ``test_publish_support``.
"""
from __future__ import annotations

import duckdb
import pytest

from dagster_project.publish import assets
from dagster_project.relation_fingerprint import StorageMarks
from test_publish_support import publish_state, release_skipping_identical, run_sql

BUDGET = "main_marts.fct_budget_lines"


@pytest.fixture
def state(tmp_path, monkeypatch):
    return publish_state(tmp_path, monkeypatch)


def _marks(warehouse) -> dict[str, str]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        marks = StorageMarks(con)
        return {name: marks.of(name) for name in ("fct_budget_lines", "fct_deals", "fct_trading_bulletins")}
    finally:
        con.close()


@pytest.mark.parametrize("statement", [
    f"UPDATE {BUDGET} SET amount_yuan = amount_yuan + 1 WHERE fiscal_year = 2018 AND code = '205'",
    f"DELETE FROM {BUDGET} WHERE fiscal_year = 2018 AND code = '20805'",
    f"INSERT INTO {BUDGET} SELECT * REPLACE ('hand-' || budget_line_id AS budget_line_id, '209' AS code) FROM {BUDGET} "
    "WHERE fiscal_year = 2018 AND code = '208'",
])
def test_a_mart_changed_by_hand_opens_the_gate_and_is_published(state, statement):
    warehouse, out, _ = state
    first = release_skipping_identical(warehouse, out)
    gate = assets.publish_fingerprint("publish_release")
    marks = _marks(warehouse)
    assert gate is not None and assets.publish_fingerprint("publish_release") == gate
    # what a run writes beside the marts (publishing's kept values, a quality run) moves no mark
    run_sql(warehouse, "INSERT OR REPLACE INTO raw.stage_state VALUES ('publish_probe', 'x', localtimestamp)",
            "UPDATE quality.runs SET success = success")
    assert _marks(warehouse) == marks and assets.publish_fingerprint("publish_release") == gate

    run_sql(warehouse, statement)
    moved = _marks(warehouse)
    assert moved["fct_budget_lines"] != marks["fct_budget_lines"]
    assert {k: v for k, v in moved.items() if k != "fct_budget_lines"} == \
        {k: v for k, v in marks.items() if k != "fct_budget_lines"}
    assert assets.publish_fingerprint("publish_release") != gate
    changed = release_skipping_identical(warehouse, out)
    assert not changed.unchanged and changed.release_id != first.release_id
    assert changed.parts_with("new") == ["budget_lines/2018"]


def test_the_same_rows_written_again_by_hand_publish_nothing(state):
    warehouse, out, _ = state
    first = release_skipping_identical(warehouse, out)
    gate = assets.publish_fingerprint("publish_release")
    run_sql(warehouse, f"CREATE OR REPLACE TABLE {BUDGET} AS SELECT * FROM {BUDGET} ORDER BY budget_line_id DESC")
    assert assets.publish_fingerprint("publish_release") != gate  # the gate cannot know: it opens
    again = release_skipping_identical(warehouse, out)  # the rows are hashed: the same content, nothing published
    assert again.unchanged and again.release_id == first.release_id
    assert release_skipping_identical(warehouse, out).parts_with("new") == []


def test_a_constant_column_changed_by_hand_to_another_constant_is_published(state):
    """Every row of a column one value: DuckDB stores the segment as a constant, in no block — an update to another
    constant rewrites no block, moves no count; only the segment's statistics (its min and max) say it changed."""
    warehouse, out, _ = state
    run_sql(warehouse, f"UPDATE {BUDGET} SET amount_yuan = 1")
    first = release_skipping_identical(warehouse, out)
    gate = assets.publish_fingerprint("publish_release")
    run_sql(warehouse, f"UPDATE {BUDGET} SET amount_yuan = 2")
    assert assets.publish_fingerprint("publish_release") != gate
    changed = release_skipping_identical(warehouse, out)
    assert not changed.unchanged and changed.release_id != first.release_id
    assert changed.parts_with("new") and all(k.startswith("budget_lines/") for k in changed.parts_with("new"))


ROUND_TRIP = f"UPDATE {BUDGET} SET amount_yuan = amount_yuan + 1 WHERE fiscal_year = 2018 AND code = '205'"


@pytest.mark.parametrize("sessions", [
    [ROUND_TRIP, ROUND_TRIP],  # two sessions, each closed with a checkpoint
    [f"{ROUND_TRIP}; CHECKPOINT; {ROUND_TRIP}"],  # one session, a checkpoint between
])
def test_two_checkpointed_hand_changes_do_not_bring_a_mark_back(state, sessions):
    """DuckDB reuses freed blocks: a session rewrites the changed segment to a new block and frees the old one, the
    next session's rewrite takes the freed block back — an even number of sessions, each closed with a checkpoint,
    (or two changes with a ``CHECKPOINT`` between) leaves the segments where they were (block, offset, count, statistics: the figure is no minimum nor maximum). The
    mark holds what is in those blocks too, so the release still sees the figure moved."""
    warehouse, out, _ = state
    release_skipping_identical(warehouse, out)
    run_sql(warehouse, ROUND_TRIP)  # a first hand session, published
    first = release_skipping_identical(warehouse, out)
    assert first.parts_with("new") == ["budget_lines/2018"]
    gate = assets.publish_fingerprint("publish_release")
    marks = _marks(warehouse)
    for session in sessions:
        run_sql(warehouse, session)
    assert _marks(warehouse)["fct_budget_lines"] != marks["fct_budget_lines"]
    assert assets.publish_fingerprint("publish_release") != gate
    changed = release_skipping_identical(warehouse, out)
    assert not changed.unchanged and changed.release_id != first.release_id
    assert changed.parts_with("new") == ["budget_lines/2018"]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        (amount,) = con.execute(f"SELECT amount_yuan FROM {BUDGET} WHERE fiscal_year = 2018 AND code = '205' "
                                "AND phase = 'budget'").fetchone()
    finally:
        con.close()
    assert amount == 3_000_003  # three sessions: +3 on the recorded 1 500 000 × 2
