"""Which dbt nodes a build runs (transform/selection.py) and the carried results of the tests it does not run
(transform/carried_checks.py): the pure helpers, on dbt's real manifest and on small hand-made graphs; the carried
failing result through real Dagster (it blocks). The whole path on the sample: test_dbt_republished_workbook.py."""
from __future__ import annotations

import datetime as dt
import json

import dagster as dg
import duckdb
import pytest

from dagster_project.ingest.framework import FAMILY_TABLES, ensure_schema
from dagster_project.transform import carried_checks, selection
from dagster_project.transform.dbt_project import require_manifest

TRADING_CHAIN = {"int_bulletins_deduplicated", "int_deals_assembled", "int_deal_timelines_evaluated", "fct_deals",
                 "fct_trading_bulletins", "int_bulletin_privacy_hits", "int_bulletin_copies_compared", "dim_supplier"}


@pytest.fixture(scope="module")
def manifest():
    return json.loads(require_manifest().read_text(encoding="utf-8"))


def _models(manifest, uids) -> set[str]:
    return {manifest["nodes"][u]["name"] for u in uids if manifest["nodes"].get(u, {}).get("resource_type") == "model"}


def _descendants(manifest, roots) -> set[str]:
    """dbt's own child map, followed from the roots: what `dbt build --select <root>+` would select."""
    out, stack = set(), list(roots)
    while stack:
        for child in manifest["child_map"].get(stack.pop(), []):
            if child not in out:
                out.add(child)
                stack.append(child)
    return out


def test_a_budget_load_selects_what_the_budget_tables_feed_and_no_trading_model(manifest):
    chosen = selection.nodes_fed_by(manifest, FAMILY_TABLES, {"budget"})
    budget_sources = [u for u, s in manifest["sources"].items() if s["source_name"] == "budget"]
    fed = _models(manifest, _descendants(manifest, budget_sources))
    models = _models(manifest, chosen.nodes)
    assert fed <= models  # every model below a budget table: source:budget+
    assert not models & TRADING_CHAIN
    # beyond source:budget+ only the load manifest's staging views (every load writes the manifest)
    assert {m for m in models - fed} <= {"stg_load_manifest__load_files", "stg_load_manifest__load_rejects",
                                         "stg_load_manifest__file_versions"}
    tests = [u for u in chosen.nodes if manifest["nodes"][u]["resource_type"] == "test"]
    all_tests = [u for u, n in manifest["nodes"].items() if n["resource_type"] == "test"]
    assert 0 < len(tests) < len(all_tests) / 2


def test_a_trading_load_selects_the_trading_chain_and_the_manifest_brings_no_budget_revision(manifest):
    models = _models(manifest, selection.nodes_fed_by(manifest, FAMILY_TABLES, {"trading"}).nodes)
    assert TRADING_CHAIN <= models
    assert "int_figure_versions" not in models and "fct_revisions" not in models  # budget/debt versions only
    assert not selection.nodes_fed_by(manifest, FAMILY_TABLES, set()).nodes


def test_the_evaluation_date_selects_the_models_calling_as_of_date_and_their_descendants(manifest):
    dated = _models(manifest, selection.evaluation_date_nodes(manifest))
    assert {"fct_disclosure_status", "dim_economic_class", "dim_function_class"} <= dated
    chosen = selection.nodes_fed_by(manifest, FAMILY_TABLES, set(), as_of_changed=True)
    roots = [u for u in manifest["nodes"] if manifest["nodes"][u]["name"] in dated]
    assert _models(manifest, chosen.nodes) == dated | _models(manifest, _descendants(manifest, roots))


def test_no_model_reads_the_clock_except_through_as_of_date(manifest):
    """The date-dependent nodes are found by their call of as_of_date: a model reading the clock itself would be
    missed when the date moves."""
    clock = ("current_date", "current_timestamp", "now()", "getdate(", "today(")
    readers = [n["name"] for n in manifest["nodes"].values() if n["resource_type"] in ("model", "test")
               and any(word in (n.get("raw_code") or "").lower() for word in clock)]
    assert readers == []


def test_declared_load_manifest_families_are_families_and_the_model_reads_the_manifest(manifest):
    manifest_sources = {u for u, s in manifest["sources"].items()
                        if f"{s['schema']}.{s['name']}" in selection.LOAD_MANIFEST_TABLES}
    declared = {u: f for u, n in manifest["nodes"].items() if (f := selection.manifest_families_declared(n))}
    assert {manifest["nodes"][u]["name"] for u in declared} >= {"int_bulletins_deduplicated", "int_figure_versions"}
    for uid, families in declared.items():
        assert families <= set(FAMILY_TABLES), uid
        ancestors = {u for u in manifest_sources if uid in _descendants(manifest, [u])}
        assert ancestors, f"{uid} declares load-manifest families but reads no load-manifest table"


def _toy_manifest(declared=None):
    """raw.t (family a), raw.u (family b), raw.load_files → stg_files → m_a (reads a and the manifest), m_b, mart."""
    def node(name, parents, macros=(), meta=None, kind="model"):
        return {"name": name, "resource_type": kind, "depends_on": {"nodes": list(parents), "macros": list(macros)},
                "config": {"meta": meta or {}}}
    nodes = {
        "model.p.stg_files": node("stg_files", ["source.p.m.load_files"]),
        "model.p.m_a": node("m_a", ["source.p.a.t", "model.p.stg_files"],
                            meta={"gongkai": {"load_manifest_families": declared}} if declared else None),
        "model.p.m_b": node("m_b", ["source.p.b.u"], macros=["macro.p.wrapper"]),
        "model.p.mart": node("mart", ["model.p.m_a", "model.p.m_b"]),
        "test.p.not_null_m_a": node("not_null_m_a", ["model.p.m_a"], kind="test"),
    }
    sources = {"source.p.a.t": {"schema": "raw", "name": "t"}, "source.p.b.u": {"schema": "raw", "name": "u"},
               "source.p.m.load_files": {"schema": "raw", "name": "load_files"}}
    macros = {"macro.p.as_of_date": {"depends_on": {"macros": []}},
              "macro.p.wrapper": {"depends_on": {"macros": ["macro.p.as_of_date"]}}}
    return {"metadata": {"project_name": "p"}, "nodes": nodes, "sources": sources, "macros": macros}


def test_a_declaration_stops_other_families_at_the_manifest_only():
    tables = {"a": ["raw.t"], "b": ["raw.u"]}
    names = lambda s: {u.split(".")[-1] for u in s.nodes}  # noqa: E731
    undeclared = selection.nodes_fed_by(_toy_manifest(), tables, {"b"})
    assert names(undeclared) == {"stg_files", "m_a", "m_b", "mart", "not_null_m_a"}  # the manifest reaches m_a
    declared = selection.nodes_fed_by(_toy_manifest(["a"]), tables, {"b"})
    assert names(declared) == {"stg_files", "m_b", "mart"}
    assert names(selection.nodes_fed_by(_toy_manifest(["a"]), tables, {"a"})) == {"stg_files", "m_a", "mart",
                                                                                  "not_null_m_a"}
    # the date reaches m_b through the macro that wraps as_of_date
    assert names(selection.nodes_fed_by(_toy_manifest(["a"]), tables, set(), as_of_changed=True)) == {"m_b", "mart"}


def test_the_plan(manifest):
    common = dict(full_refresh=False, current_families={"budget": "2", "trading": "1"}, as_of="2026-12-05")
    plan = lambda **kw: selection.plan_build(manifest, FAMILY_TABLES, **{**common, **kw})  # noqa: E731
    assert plan(full_refresh=True, previous_families={}, previous_as_of="x").mode == "full_refresh"
    assert plan(previous_families=None, previous_as_of=None).mode == "whole"
    same = dict(previous_families={"budget": "2", "trading": "1"}, previous_as_of="2026-12-05")
    assert plan(**same).mode == "skip"
    a_test = next(u for u, n in manifest["nodes"].items() if n["name"].startswith("not_null_fct_deals"))
    only_test = plan(**same, tests_to_run=[a_test])
    assert only_test.mode == "selected" and only_test.select == (manifest["nodes"][a_test]["name"],)
    budget = plan(previous_families={"budget": "1", "trading": "1"}, previous_as_of="2026-12-05")
    assert budget.mode == "selected" and "fct_revisions" in budget.select and "fct_deals" not in budget.select
    # its staging views are not re-created (they read the raw tables when read), their tests run
    views = {n["name"] for n in manifest["nodes"].values()
             if n["resource_type"] == "model" and n["config"].get("materialized") == "view"}
    fed = selection.nodes_fed_by(manifest, FAMILY_TABLES, {"budget"})
    fed_views = {manifest["nodes"][u]["name"] for u in fed.nodes} & views
    assert "stg_budget__lines" in fed_views and not fed_views & set(budget.select)
    assert not {manifest["nodes"][u]["name"] for u in budget.selection.nodes} & views
    trading = plan(previous_families={"budget": "2", "trading": "0"}, previous_as_of="2026-12-05")
    assert "stg_trading__bulletins" not in trading.select
    assert {"not_null_stg_trading__bulletins_bulletin_type_code", "unique_stg_trading__exports_source_file"} <= set(
        trading.select)
    moved = plan(**{**same, "previous_as_of": "2026-12-04"})
    assert "fct_disclosure_status" in moved.select and "fct_revisions" not in moved.select


def test_views_are_left_out_of_a_selection_and_their_tests_kept():
    manifest = _toy_manifest()
    manifest["nodes"]["model.p.stg_files"]["config"]["materialized"] = "view"
    manifest["nodes"]["test.p.not_null_stg_files"] = {
        "name": "not_null_stg_files", "resource_type": "test", "config": {},
        "depends_on": {"nodes": ["model.p.stg_files"], "macros": []}}
    fed = selection.nodes_fed_by(manifest, {"a": ["raw.t"], "b": ["raw.u"]}, {"b"})
    assert "model.p.stg_files" in fed.nodes
    kept = selection.without_views(manifest, fed)
    assert kept.nodes == fed.nodes - {"model.p.stg_files"} and "test.p.not_null_stg_files" in kept.nodes
    assert set(kept.reasons) == set(kept.nodes)


def test_family_digests_move_with_a_load_a_reload_and_a_retirement():
    con = duckdb.connect()
    ensure_schema(con)

    def add(load_id, rel, sha, family="budget", status="loaded"):
        con.execute("UPDATE raw.load_files SET is_current = false WHERE source_file = ?", [rel])
        con.execute("INSERT INTO raw.load_files VALUES (?, ?, ?, 1, ?, 'xlsx', NULL, NULL, ?, NULL, 1, 1, 0, now(), "
                    "true, NULL)", [load_id, rel, sha, family, status])

    add("l1", "budget/a.xlsx", "s1")
    add("l1", "trading/x.csv", "t1", family="trading")
    first = selection.family_digests(con, FAMILY_TABLES)
    assert set(first) == set(FAMILY_TABLES)
    add("l2", "budget/a.xlsx", "s2")
    second = selection.family_digests(con, FAMILY_TABLES)
    assert selection.changed_families(first, second) == {"budget"}
    add("l3", "budget/a.xlsx", "s1")  # back to the first bytes: a new version all the same (revision history)
    third = selection.family_digests(con, FAMILY_TABLES)
    assert selection.changed_families(second, third) == {"budget"} and third != first
    con.execute("UPDATE raw.load_files SET status = 'retired' WHERE source_file = 'trading/x.csv' AND is_current")
    assert selection.changed_families(third, selection.family_digests(con, FAMILY_TABLES)) == {"trading"}


KEY = dg.AssetCheckKey(dg.AssetKey(["fct_deals"]), "not_null_fct_deals_deal_key")


def _outcome(passed=True, severity="ERROR"):
    return carried_checks.TestOutcome("test.p.nn", "fct_deals", KEY.name, passed, severity, 0 if passed else 3,
                                      "run-1", dt.datetime(2026, 12, 5, 1, 0))


def test_outcomes_are_kept_and_carried_only_for_tests_that_did_not_run():
    con = duckdb.connect()
    result = dg.AssetCheckResult(asset_key=KEY.asset_key, check_name=KEY.name, passed=False,
                                 severity=dg.AssetCheckSeverity.WARN,
                                 metadata={"unique_id": "test.p.nn", "dagster_dbt/failed_row_count": 3})
    outcome = carried_checks.outcome_of(result, "run-1", dt.datetime(2026, 12, 5, 1, 0))
    assert carried_checks.save_outcomes(con, [outcome]) == 1
    kept = carried_checks.load_outcomes(con)
    assert kept == {"test.p.nn": outcome}
    ids = {KEY: "test.p.nn", dg.AssetCheckKey(KEY.asset_key, "other"): "test.p.other"}
    assert carried_checks.checks_without_result(ids, kept) == {"test.p.other"}
    assert carried_checks.carried_results(ids, kept, evaluated={"test.p.nn"}) == []
    carried, = carried_checks.carried_results(ids, kept, evaluated=set())
    assert (carried.passed, carried.severity, carried.check_name) == (False, dg.AssetCheckSeverity.WARN, KEY.name)
    assert carried.metadata["carried_from_run"].value == "run-1"
    # a carried result is never kept again as if the test had run
    assert carried_checks.outcome_of(carried, "run-2", dt.datetime.now()) is None


def test_a_carried_failing_blocking_check_still_blocks():
    """Real Dagster: the asset yields a carried failing ERROR result for its blocking check; the step fails and the
    asset below it does not run."""
    kept = {"test.p.nn": _outcome(passed=False)}

    @dg.asset(name="fct_deals", check_specs=[dg.AssetCheckSpec(KEY.name, asset=KEY.asset_key, blocking=True)])
    def deals():
        yield dg.MaterializeResult(metadata={"dbt_build": "not rebuilt"})
        yield from carried_checks.carried_results({KEY: "test.p.nn"}, kept, evaluated=set())

    @dg.asset(deps=[deals])
    def release():
        return None

    result = dg.materialize([deals, release], raise_on_error=False)
    assert not result.success
    evaluation, = result.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.metadata["carried_from_run"].value == "run-1"
    assert dg.AssetKey("release") not in {e.asset_key for e in result.get_asset_materialization_events()}
    kept["test.p.nn"] = _outcome(passed=True)
    assert dg.materialize([deals, release]).success
