"""Relation fingerprints kept with the relation's dbt generation (``inputs.KeptFingerprints``), as the dashboards'
page fingerprints read them: a relation no build reached is not hashed again; a moved generation, a change by hand
(its storage mark moved: ``relation_fingerprint.StorageMarks``), a dbt build under way, a relation without a generation
(not dbt's) or ``GONGKAI_NO_CARRY=1`` hashes it. That a relation whose generation stayed holds the same rows is the
generations' promise (``transform/generations.py``, ``test_dbt_generations.py``).
"""
from __future__ import annotations

from dagster_project.publish.dashboards import page_fingerprints
from test_publish_support import build_fixture_warehouse, kept_fingerprint, record_dbt_build, run_sql

BULLETINS = "main_marts.fct_trading_bulletins"


def test_kept_while_the_generation_stays(tmp_path, monkeypatch):
    monkeypatch.delenv("GONGKAI_NO_CARRY", raising=False)
    warehouse = tmp_path / "w.duckdb"
    build_fixture_warehouse(warehouse)
    change = f"UPDATE {BULLETINS} SET notice_name = notice_name || '（更正）' WHERE notice_name IS NOT NULL"
    # no generations yet: computed every time, nothing kept
    first, computed = kept_fingerprint(warehouse, BULLETINS)
    assert first and computed == set()
    record_dbt_build(warehouse, ["fct_trading_bulletins", "fct_deals"], "g1")
    assert kept_fingerprint(warehouse, BULLETINS) == (first, {BULLETINS})  # computed once, kept
    record_dbt_build(warehouse, ["fct_budget_lines"], "g2")  # a build that did not reach the bulletins
    assert kept_fingerprint(warehouse, BULLETINS) == (first, set())
    run_sql(warehouse, change)  # by hand, behind the build's back: the storage mark moved, hashed again, seen
    second, computed = kept_fingerprint(warehouse, BULLETINS)
    assert second != first and computed == {BULLETINS}
    assert kept_fingerprint(warehouse, BULLETINS) == (second, set())
    record_dbt_build(warehouse, ["fct_trading_bulletins"], "g3")  # a build that reached them: hashed again
    assert kept_fingerprint(warehouse, BULLETINS) == (second, {BULLETINS})
    run_sql(warehouse, change, "DELETE FROM raw.stage_state WHERE stage = 'dbt'")  # a build under way
    third, computed = kept_fingerprint(warehouse, BULLETINS)
    assert third not in (first, second) and computed == set()
    record_dbt_build(warehouse, [], "g4")
    monkeypatch.setenv("GONGKAI_NO_CARRY", "1")
    run_sql(warehouse, change)
    assert kept_fingerprint(warehouse, BULLETINS)[0] not in (first, second, third)
    # raw tables have no generation: always hashed
    monkeypatch.delenv("GONGKAI_NO_CARRY")
    assert kept_fingerprint(warehouse, "raw.load_files")[1] == set()


def test_dashboard_pages_read_the_kept_fingerprints(tmp_path, monkeypatch):
    monkeypatch.delenv("GONGKAI_NO_CARRY", raising=False)
    warehouse = tmp_path / "w.duckdb"
    build_fixture_warehouse(warehouse)
    record_dbt_build(warehouse, ["fct_trading_bulletins", "fct_deals", "fct_budget_lines"], "g1")
    before = page_fingerprints(warehouse)
    record_dbt_build(warehouse, ["fct_budget_lines"], "g2")
    assert page_fingerprints(warehouse) == before
    # changed by hand (no generation moved): the trading pages see it by the storage marks, the budget page does not
    run_sql(warehouse, f"UPDATE {BULLETINS} SET bidder_count = coalesce(bidder_count, 0) + 1",
            "UPDATE main_marts.fct_deals SET bidder_count = coalesce(bidder_count, 0) + 1")
    after = page_fingerprints(warehouse)
    assert after["procurement_competition"] != before["procurement_competition"]
    assert after["budget_composition"] == before["budget_composition"]


def test_kept_with_the_code_that_computed_them(tmp_path, monkeypatch):
    """A kept fingerprint names the code that computed it (``relation_fingerprint.py`` and what it imports,
    ``code_closure``): after a change to that code the relation is hashed again though its generation stayed (a fix to
    how fingerprints are computed must not leave values the old code computed in use)."""
    import shutil
    from pathlib import Path

    from dagster_project import code_closure

    monkeypatch.delenv("GONGKAI_NO_CARRY", raising=False)
    warehouse = tmp_path / "w.duckdb"
    build_fixture_warehouse(warehouse)
    record_dbt_build(warehouse, ["fct_trading_bulletins"], "g1")
    first, computed = kept_fingerprint(warehouse, BULLETINS)
    assert computed == {BULLETINS} and kept_fingerprint(warehouse, BULLETINS) == (first, set())
    changed = tmp_path / "changed" / "dagster_project"  # the package with relation_fingerprint.py's code changed
    shutil.copytree(code_closure.PACKAGE_DIR, changed, ignore=shutil.ignore_patterns("__pycache__", "specs", "*.yaml"))
    module = changed / "relation_fingerprint.py"
    module.write_text(module.read_text(encoding="utf-8") + "\n\nFINGERPRINT_FORM = 2\n", encoding="utf-8")
    monkeypatch.setattr(code_closure, "PACKAGE_DIR", changed)
    assert kept_fingerprint(warehouse, BULLETINS)[1] == {BULLETINS}  # hashed again, then kept with the new code
    assert kept_fingerprint(warehouse, BULLETINS)[1] == set()
    monkeypatch.setattr(code_closure, "PACKAGE_DIR", Path(code_closure.__file__).resolve().parent)
    assert kept_fingerprint(warehouse, BULLETINS)[1] == {BULLETINS}
