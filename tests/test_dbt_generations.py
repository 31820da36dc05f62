"""Which dbt relations a build may change (``transform/generations.py``), on this project's manifest."""
from __future__ import annotations

import json

import duckdb

from dagster_project.ingest.framework import FAMILY_TABLES
from dagster_project.transform import generations
from dagster_project.transform.dbt_project import require_manifest


def _manifest():
    return json.loads(require_manifest().read_text(encoding="utf-8"))


def _reached(manifest, mode, changed=(), as_of_moved=False):
    previous = {family: "before" for family in FAMILY_TABLES}
    current = {family: ("after" if family in changed else "before") for family in FAMILY_TABLES}
    return generations.reached(manifest, FAMILY_TABLES, mode=mode, previous_families=previous,
                               current_families=current, previous_as_of="2026-12-05",
                               as_of="2026-12-06" if as_of_moved else "2026-12-05")


def test_a_budget_build_moves_the_budget_chain_not_the_trading_marts():
    manifest = _manifest()
    budget = _reached(manifest, "selected", {"budget"})
    assert {"fct_budget_lines", "int_lines_resolved", "fct_revisions", "stg_budget__lines"} <= budget  # a view too
    assert not budget & {"fct_trading_bulletins", "fct_deals", "int_records_quarantined", "int_deal_timelines_evaluated"}
    trading = _reached(manifest, "selected", {"trading"})
    assert {"fct_trading_bulletins", "fct_deals", "int_records_quarantined"} <= trading  # the view fct_trading_bulletins


def test_every_relation_moves_unless_the_build_is_selected():
    manifest = _manifest()
    everything = generations.relation_names(manifest)
    assert "ref_rule_catalogue" in everything and "fct_deals" in everything  # seeds and models
    for mode in ("full_refresh", "whole"):
        assert _reached(manifest, mode, {"budget"}) == everything
    assert _reached(manifest, "selected", (), as_of_moved=True) == generations.relation_names(
        manifest, [uid for uid in manifest["nodes"] if manifest["nodes"][uid]["name"] in
                   _reached(manifest, "selected", (), as_of_moved=True)])


def test_generations_move_and_read(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        assert generations.of(con, ["fct_deals"]) is None  # no state table yet
        generations.move(con, ["fct_deals", "fct_budget_lines"], "t1")
        first = generations.of(con, ["fct_deals", "fct_budget_lines"])
        assert first is not None and generations.of(con, ["fct_deals", "dim_region"]) is None
        generations.move(con, ["fct_budget_lines"], "t2")
        assert generations.of(con, ["fct_deals"]) == generations.of(con, ["fct_deals"])
        assert generations.of(con, ["fct_deals", "fct_budget_lines"]) != first
    finally:
        con.close()


def test_a_build_of_tests_only_moves_nothing(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        generations.move(con, [], "t1")
        generations.move(con, ["fct_deals"], "t1")
        before = generations.of(con, ["fct_deals"])
        generations.move(con, set(), "t2")
        assert generations.of(con, ["fct_deals"]) == before
    finally:
        con.close()
