"""A re-published budget workbook with one figure changed rebuilds and re-tests only what the budget tables feed.

On a copy of the session's sample warehouse (built whole by ``dbt build``, recorded as such), the ingest and dbt
assets of the main job run twice through Dagster with the real resources: first with nothing changed (the warehouse
has no kept test outcomes yet, so every test runs and nothing is rebuilt), then after one amount of one department
budget workbook was re-saved with openpyxl one unit higher. The second run must build only models below the budget
and load-manifest tables (dbt's run_results), leave the trading tables as they were, show the change in
fct_revisions, give every intermediate table and mart a full refresh gives, and report a result for every blocking
check — the tests it did not run carried from the first run, saying so. Expected values come from the cell changed
here and from dbt's manifest, never from an output.
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from openpyxl import load_workbook

from dagster_project.paths import DBT_PROJECT_DIR
from dbt_fixed_path import run_dbt, sample_copy_in_dagster

pytestmark = pytest.mark.slow
TABLE = "部门支出总表"
TRADING_TABLES = ("intermediate.int_bulletins_deduplicated", "intermediate.int_deals_assembled",
                  "intermediate.int_deal_timelines_evaluated", "intermediate.int_bulletin_privacy_hits",
                  "intermediate.int_bulletin_copies_compared", "marts.fct_trading_bulletins", "marts.fct_deals",
                  "marts.dim_supplier")


def _one(con, sql, params=()):
    return con.execute(sql, list(params)).fetchone()


def change_one_figure(warehouse: Path, raw: Path) -> dict:
    """One leaf line's basic expenditure in one department budget workbook, one unit (of the sheet) higher."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        source_file = next(p.relative_to(raw).as_posix() for p in sorted((raw / "budget").rglob("*部门预算.xlsx")))
        sheet, unit = _one(con, "select sheet, unit_multiplier from raw.budget_sheets where source_file = ? and "
                                "table_name = ? and not is_retired", [source_file, TABLE])
        row, column, amount = _one(con, """
            select source_row, source_column, amount_yuan from raw.budget_lines
            where source_file = ? and sheet = ? and column_key = 'basic' and not is_retired and not is_total
              and length(line_code) = 7 and amount_yuan > 0
            order by source_row limit 1""", [source_file, sheet])
    finally:
        con.close()
    book = load_workbook(raw / source_file)
    cell = book[sheet][f"{column}{row}"]
    old = Decimal(str(cell.value).replace(",", ""))
    assert old * unit == amount  # the cell is the figure the warehouse holds
    cell.value = float(old + 1)
    book.save(raw / source_file)
    return dict(source_file=source_file, row=row, old=old * unit, new=(old + 1) * unit)


def _differing_rows(left: Path, right: Path, table: str) -> tuple[int, int]:
    con = duckdb.connect()
    try:
        con.execute(f"attach '{left}' as l (read_only)")
        con.execute(f"attach '{right}' as r (read_only)")
        schema, name = table.split(".")
        columns = ", ".join(f'"{c}"' for c, in con.execute(
            "select column_name from duckdb_columns() where database_name = 'l' and schema_name = ? and table_name = ? "
            "order by column_index", [schema, name]).fetchall())
        return tuple(con.execute(f"select count(*) from (select {columns} from {a}.{table} except all "
                                 f"select {columns} from {b}.{table})").fetchone()[0] for a, b in (("l", "r"), ("r", "l")))
    finally:
        con.close()


def _tables(warehouse: Path) -> list[str]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return [f"{s}.{t}" for s, t in con.execute(
            "select table_schema, table_name from information_schema.tables where table_schema in "
            "('intermediate', 'marts') and table_type = 'BASE TABLE' order by 1, 2").fetchall()]
    finally:
        con.close()


@pytest.fixture(scope="module")
def runs(sample_built, tmp_path_factory):
    from dagster_project.ingest.assets import ingest_assets
    from dagster_project.resources import WarehouseResource
    from dagster_project.transform.assets import dbt_resource, gongkai_dbt

    warehouse0, _, env0 = sample_built
    root = tmp_path_factory.mktemp("republished")
    instance = dg.DagsterInstance.ephemeral()
    assets = [*ingest_assets, gongkai_dbt]
    resources = {"warehouse": WarehouseResource(), "dbt": dbt_resource}
    # The Dagster runs keep the warehouse's own path (not dbt_fixed_path's): the last test needs the first build to
    # start from a state parsed for another warehouse.
    with sample_copy_in_dagster(warehouse0, root) as (raw, warehouse, target):
        started = time.perf_counter()
        first = dg.materialize([gongkai_dbt], resources=resources, instance=instance)  # nothing loaded since
        first_s = time.perf_counter() - started
        assert first.success
        before = root / "before.duckdb"
        shutil.copyfile(warehouse, before)
        change = change_one_figure(warehouse, raw)
        started = time.perf_counter()
        second = dg.materialize(assets, resources=resources, instance=instance)
        second_s = time.perf_counter() - started
        assert second.success
    full = root / "full" / "warehouse.duckdb"  # named as the sample's: dbt's partial parse carries over (dbt_fixed_path.py)
    full.parent.mkdir()
    shutil.copyfile(warehouse, full)
    env = {**env0, "GONGKAI_WAREHOUSE": str(full), "GONGKAI_RAW_DIR": str(raw), "GONGKAI_AS_OF": dt.date.today().isoformat()}
    started = time.perf_counter()
    refresh = run_dbt(["run", "--full-refresh"], env, root / "full-target", root / "full-logs")
    assert refresh.returncode == 0, refresh.stdout[-6000:]
    print(f"Dagster ingest + dbt: unchanged {first_s:.1f} s, one figure changed {second_s:.1f} s; "
          f"dbt run --full-refresh {time.perf_counter() - started:.1f} s")
    results = {run.run_id: run for run in (first, second)}
    return dict(first=first, second=second, results=results, change=change, before=before, warehouse=warehouse,
                full=full, checks=list(gongkai_dbt.check_specs), target=target)


def _executed(run, kind: str) -> set[str]:
    """The dbt nodes of ``kind`` dbt ran in ``run`` (the build writes no run_results.json): dagster-dbt's
    materialisations and test results carry dbt's invocation id; a not-rebuilt asset or a carried check does not."""
    metadata = [e.materialization.metadata for e in run.get_asset_materialization_events()]
    metadata += [e.metadata for e in run.get_asset_check_evaluations()]
    return {m["unique_id"].value for m in metadata
            if "invocation_id" in m and m["unique_id"].value.startswith(kind + ".")}


def test_only_what_the_budget_tables_feed_was_built(runs):
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text(encoding="utf-8"))
    fed, stack = set(), [u for u, s in manifest["sources"].items() if s["source_name"] in ("budget", "load_manifest")]
    while stack:
        for child in manifest["child_map"].get(stack.pop(), []):
            if child not in fed:
                fed.add(child)
                stack.append(child)
    assert not _executed(runs["results"][runs["first"].run_id], "model")  # nothing changed: tests only
    built = _executed(runs["results"][runs["second"].run_id], "model")
    assert {"model.gongkai.int_lines_resolved", "model.gongkai.fct_budget_lines", "model.gongkai.fct_revisions"} <= built
    assert built <= fed
    trading = {u for u in manifest["nodes"] if manifest["nodes"][u]["name"] in {t.split(".")[1] for t in TRADING_TABLES}}
    assert not built & trading
    tests = _executed(runs["results"][runs["second"].run_id], "test")
    assert 0 < len(tests) < len([u for u in manifest["nodes"] if u.startswith("test.")]) / 2
    materialised = {e.asset_key.path[-1]: e.materialization.metadata
                    for e in runs["second"].get_asset_materialization_events()}
    assert all("dbt_build" in materialised[t.split(".")[1]] for t in ("marts.fct_deals", "marts.fct_trading_bulletins"))
    assert "dbt_build" not in materialised["fct_revisions"]


def test_the_trading_tables_are_untouched(runs):
    for table in TRADING_TABLES:
        assert _differing_rows(runs["before"], runs["warehouse"], table) == (0, 0), table


def test_the_change_shows_in_fct_revisions(runs):
    c = runs["change"]
    con = duckdb.connect(str(runs["warehouse"]), read_only=True)
    try:
        rows = con.execute("select new_source_row, measure, change_kind, old_amount_yuan, new_amount_yuan "
                           "from marts.fct_revisions where new_source_file = ?", [c["source_file"]]).fetchall()
    finally:
        con.close()
    assert rows == [(c["row"], "basic", "changed", c["old"], c["new"])]


def test_every_table_equals_a_full_refresh(runs):
    tables = _tables(runs["full"])
    assert _tables(runs["warehouse"]) == tables and "marts.fct_revisions" in tables
    differing = {t: d for t in tables if (d := _differing_rows(runs["warehouse"], runs["full"], t)) != (0, 0)}
    assert not differing, f"rows only in the selective build / only in the full refresh: {differing}"


def test_every_blocking_check_has_a_result_and_carried_ones_say_from_which_run(runs):
    dbt_checks = {spec.key for spec in runs["checks"]}
    blocking = {spec.key for spec in runs["checks"] if spec.blocking}
    assert len(blocking) > 50
    first = {e.asset_check_key: e for e in runs["first"].get_asset_check_evaluations() if e.asset_check_key in dbt_checks}
    assert blocking <= set(first) and not any("carried_from_run" in e.metadata for e in first.values())
    second = {e.asset_check_key: e for e in runs["second"].get_asset_check_evaluations()
              if e.asset_check_key in dbt_checks}
    assert blocking <= set(second)
    ran = _executed(runs["results"][runs["second"].run_id], "test")
    carried = {k for k, e in second.items() if "carried_from_run" in e.metadata}
    assert carried and {k for k in second if second[k].metadata["unique_id"].value not in ran} == carried
    assert {second[k].metadata["carried_from_run"].value for k in carried} == {runs["first"].run_id}
    assert any(k.asset_key == dg.AssetKey("fct_deals") for k in carried)
    assert all(e.passed for e in second.values() if e.asset_check_key in blocking)


def test_the_build_adopts_what_it_built_without_dbt_json_artifacts(runs):
    """The asset runs dbt with --no-write-json and takes dbt's invocation id from dbt's events: every relation the
    second build wrote is adopted as the asset's (none looks written by a hand build, which would turn every carry
    off and make the next build whole), and its invocation folder holds no manifest.json or run_results.json."""
    from dagster_project.transform import generations

    folder = next(runs["target"].glob(f"gongkai_dbt-{runs['second'].run_id[:7]}-*"))
    assert (folder / "dbt.log").is_file()
    assert not (folder / "manifest.json").exists() and not (folder / "run_results.json").exists()
    con = duckdb.connect(str(runs["warehouse"]), read_only=True)
    try:
        assert generations.built_outside(con) == set()
        assert generations.of(con, ["fct_revisions", "fct_budget_lines"]) is not None
    finally:
        con.close()


def test_the_second_build_reuses_the_parse_kept_for_this_warehouse(runs):
    """The first build on this warehouse parsed the project (the state under dbt/target was made for another warehouse
    path, so another profile); the second starts from the state the first kept beside the warehouse (parse_state)."""
    def parse_messages(run) -> list[str]:
        log = next(runs["target"].glob(f"gongkai_dbt-{run.run_id[:7]}-*/dbt.log"))
        messages = [json.loads(line)["info"]["msg"] for line in log.read_text(encoding="utf-8").splitlines()
                    if line.startswith("{")]
        return [m for m in messages if "partial pars" in m.lower() or "full parse" in m.lower()]

    assert any("Unable to do partial parsing" in m for m in parse_messages(runs["first"]))
    second = parse_messages(runs["second"])
    assert second and not any("Unable to do partial parsing" in m for m in second), second
