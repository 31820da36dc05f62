"""The same dbt models on DuckDB and on Spark give the same rows (issue 17, phase 1), also when built by load.

One raw root — the contract root of ``contract_raw`` plus the hard cases of ``spark_parity``, one budget workbook
of which is then re-published twice (revisions), plus the sample's trading export and an export holding the only
deal of a year of its own (``spark_incremental.add_lone_year``) — is loaded by the real loaders into DuckDB and
built there with ``dbt build``; its raw tables are exported as Parquet and the models tagged ``portable`` are built
from them on Spark (target ``spark_ci``: a local[2] session inside dbt, its catalog in memory). Every portable model
and seed must build on Spark and hold the same rows as on DuckDB. Of dbt's tests, Spark runs those that reach a
Spark-only path (``spark_parity.spark_tests``, computed from the manifest): the portable singular tests (every
portable macro's spark__ form on fixed inputs), the unit tests whose model calls a dispatch macro no singular test
reaches (none today), and one test of each generic test SQL the project defines; each must end as on DuckDB (unit
tests: pass). A generic test on rows already equal ends the same on both engines; the unit tests' model logic is
DuckDB's to prove (the suite's other builds run them).

Every model is tagged portable today. A model that is not (a new one, before its SQL is ported) is not built
on Spark: where a portable model reads one, Spark reads DuckDB's rows of it (exported like the raw tables), so
the portable model is still compared on equal inputs. The hard cases carry the personal-number corpus of
test_personal_numbers (one notice), so the Spark form of the finder is compared on it too.

Then Spark's incremental path (issues 16 and 17; test_incremental_build proves the DuckDB side): the trading root
changes (``spark_incremental``: a new year, a bulletin re-dated into the year before, one dropped, an amount
corrected, an export removed, the lone year's export removed — its partition must end empty: dynamic partition
overwrite alone would keep it), the real loader reads the change into a DuckDB copy, the chain's raw tables are
exported again, and the trading chain is built incrementally on both engines (on Spark: dbt-spark's
insert_overwrite with dynamic partition overwrite, the partitions emptied first by ``spark__clear_partitions``,
the watermark read back from the tables the fresh build left in the catalog) and with ``--full-refresh`` on
another DuckDB copy. Every incremental table must hold the same rows on Spark, on DuckDB and in the full refresh,
and Spark must have rebuilt the same partitions as DuckDB (not the whole table). Shown to fail: with
``spark__clear_partitions`` emptied (no partition dropped), Spark keeps the lone year's deal in every table while
DuckDB and the full refresh drop it.

Both Spark builds are dbt calls in one process (``spark_dbt_session``): one JVM, one Spark session whose
in-memory catalog keeps the fresh build for the incremental one. Needs Java on PATH and the ``[spark]`` extra
(``make test`` installs it when Java is there); skipped otherwise. The timings are printed with ``-s``.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from contract_raw import build_contract_raw
from dbt_fixed_path import STATE, run_dbt
from spark_dbt_session import SparkDbtSession
from spark_incremental import (CHAIN, add_lone_year, chain_sources, export_chain_sources, load_trading,
                               rebuilt_partitions, spark_differences, spark_files)
from spark_parity import (compare_relation, dbt_test_outcomes, missing_spark, republish_revised_budget, spark_tests,
                          with_test_jvm, write_hard_cases)
from test_incremental_build import EXPORT, INCREMENTAL_TABLES, change_trading_root, differing_rows

pytestmark = pytest.mark.slow

AS_OF = "2026-11-01"
PORTABLE = "portable"
INCREMENTAL_STREAM = "trading/ggzy_stream.jsonl"   # the sample's export that change_trading_root removes


def _paths(tmp: Path, name: str) -> list[str]:
    return ["--project-dir", str(REPO_DBT), "--profiles-dir", str(REPO_DBT),
            "--target-path", str(tmp / f"target-{name}"), "--log-path", str(tmp / f"logs-{name}")]


def _dbt(args: list[str], env: dict, tmp: Path, name: str) -> tuple[subprocess.CompletedProcess, Path, float]:
    """A dbt call on DuckDB, through the test process's fixed warehouse path: one parse state for the module's
    DuckDB calls, each on a warehouse named warehouse.duckdb (dbt_fixed_path)."""
    started = time.perf_counter()
    result = run_dbt(args, env, tmp / f"target-{name}", tmp / f"logs-{name}")
    return result, tmp / f"target-{name}", time.perf_counter() - started


def _spark_dbt(session: SparkDbtSession, args: list[str], tmp: Path, name: str) -> tuple[bool, str, Path, float]:
    started = time.perf_counter()
    success, log = session.run([*args, *_paths(tmp, name)])
    return success, log, tmp / f"target-{name}", time.perf_counter() - started


from dagster_project.paths import DBT_PROJECT_DIR as REPO_DBT  # noqa: E402


def _selector(manifest: dict, unique_id: str) -> str:
    """A dbt selector for exactly one test: its fully qualified name."""
    node = manifest["unit_tests"].get(unique_id) or manifest["nodes"][unique_id]
    return "fqn:" + ".".join(node["fqn"])


def portable_nodes(manifest: dict) -> tuple[set[str], set[str], list[tuple[str, str]]]:
    """(portable model ids, seed ids, non-portable models a portable model reads, as (schema, name))."""
    nodes = manifest["nodes"]
    models = {k for k, n in nodes.items() if n["resource_type"] == "model" and PORTABLE in n["tags"]}
    seeds = {k for k, n in nodes.items() if n["resource_type"] == "seed"}
    stand_ins = sorted({(nodes[p]["schema"], nodes[p]["name"])
                        for k in models for p in nodes[k]["depends_on"]["nodes"]
                        if p.startswith("model.") and p not in models})
    return models, seeds, stand_ins


@pytest.fixture(scope="module")
def parity(request, tmp_path_factory):
    reason = missing_spark()
    if reason:
        pytest.skip(reason)
    from dagster_project.ingest import framework
    from dagster_project.ingest.assets import FAMILY_LOADERS, resolve_loader
    from dagster_project.paths import REPO_ROOT, settings
    from dagster_project.transform import spark_exchange

    tmp = tmp_path_factory.mktemp("spark_parity")
    raw = tmp / "raw"
    build_contract_raw(raw)
    write_hard_cases(raw)
    # the incremental scenario's exports: the sample's (change_trading_root changes them) and the lone year's
    for name in (EXPORT, INCREMENTAL_STREAM):
        shutil.copyfile(REPO_ROOT / "data" / "raw" / name, raw / name)
    lone = add_lone_year(raw)
    timings = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GONGKAI_RAW_DIR", str(raw))
        mp.setenv("GONGKAI_WAREHOUSE", str(tmp / "warehouse.duckdb"))
        mp.setenv("GONGKAI_OUT_DIR", str(tmp / "out"))
        mp.setenv("GONGKAI_AS_OF", AS_OF)
        mp.setenv("GONGKAI_SPARK_DIR", str(tmp / "spark"))
        mp.delenv("GONGKAI_SPARK_EXCHANGE_URI", raising=False)
        mp.setenv("GONGKAI_DBT_TARGET", "spark_ci")
        current = settings()
    env = current.env_for_subprocess()

    con = duckdb.connect(str(current.warehouse))
    try:
        loaded = {family: framework.load_family(con, raw, family, resolve_loader(spec), progress=lambda _: None)
                  for family, spec in FAMILY_LOADERS.items()}
        assert loaded["trading"].loaded, loaded["trading"]   # the lone deal: counted in a test below
        # two re-publications of one workbook: three versions for int_figure_versions and fct_revisions
        budget_loader = resolve_loader(FAMILY_LOADERS["budget"])
        republish_revised_budget(
            con, raw, lambda: framework.load_family(con, raw, "budget", budget_loader, progress=lambda _: None))
    finally:
        con.close()

    # the portable models, what they read (the stand-ins included), the seeds and every test on them
    duck, duck_target, timings["dbt build on DuckDB"] = _dbt(
        # cautious: a test that also reads a model outside this selection (fct_deals → dim_region) is not run.
        # dbt's unit tests are left out here: their fixtures are the same on every root, the suite runs them on
        # DuckDB (sample_built's dbt build), and those the Spark build runs must pass there
        ["build", "--select", f"+tag:{PORTABLE}", "resource_type:seed", "--indirect-selection", "cautious",
         "--exclude", "test_type:unit"],
        env, tmp, "duckdb")
    assert duck.returncode == 0, duck.stdout[-6000:]
    manifest = json.loads((duck_target / "manifest.json").read_text(encoding="utf-8"))
    models, seeds, stand_ins = portable_nodes(manifest)
    on_spark = spark_tests(manifest, models)

    started = time.perf_counter()
    exported = spark_exchange.prepare_spark_dir(current, extra=stand_ins)
    timings["export to Parquet"] = time.perf_counter() - started
    spark_rows = tmp / "spark-rows"
    session = SparkDbtSession(with_test_jvm(dict(env, GONGKAI_SPARK_EXPORT_DIR=str(spark_rows))), tmp,
                              tmp / "spark-session.stderr")
    request.addfinalizer(session.close)
    _, spark_log, spark_target, timings["dbt build on Spark"] = _spark_dbt(
        # seeds, the portable models and the tests that reach a Spark-only path (spark_parity.spark_tests), each
        # named; no other test comes along (indirect selection empty)
        session, ["build", "--target", "spark_ci", "--select", f"tag:{PORTABLE},resource_type:model",
                  "resource_type:seed", *sorted(_selector(manifest, k) for k in on_spark),
                  "--indirect-selection", "empty"], tmp, "spark")
    # Spark's tables as the fresh build left them: the incremental build rewrites the chain's in place
    spark_tables = current.spark_work_dir / spark_exchange.SPARK_CI_WAREHOUSE
    shutil.copytree(spark_tables, tmp / "spark-fresh")
    print("\nSpark parity timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
          + f"; load {os.getloadavg()[0]:.1f}; {len(exported)} tables exported, stand-ins {stand_ins}")
    return {
        "warehouse": current.warehouse, "spark_log": spark_log, "spark_rows": spark_rows, "manifest": manifest,
        "spark_tables": tmp / "spark-fresh", "models": models, "seeds": seeds,
        "tmp": tmp, "raw": raw, "lone": lone, "env": env, "session": session, "settings": current,
        "live_spark_tables": spark_tables,
        "duckdb_tests": dbt_test_outcomes(duck_target / "run_results.json"), "on_spark": on_spark,
        "spark_results": json.loads((spark_target / "run_results.json").read_text(encoding="utf-8"))
        if (spark_target / "run_results.json").is_file() else {"results": []},
    }


def test_every_portable_model_and_seed_builds_on_spark(parity):
    statuses = {r["unique_id"]: r["status"] for r in parity["spark_results"]["results"]}
    expected = parity["models"] | parity["seeds"]
    assert len(parity["models"]) >= 25, "the portable set shrank"
    not_built = {k: statuses.get(k, "not run") for k in expected if statuses.get(k) != "success"}
    assert not not_built, (not_built, parity["spark_log"][-4000:])


def _spark_relation(con, folder: Path) -> "str | None":
    if sorted(folder.glob("*/*.parquet")):  # a partitioned table (the incremental models): <column>=<value>/ folders
        return f"read_parquet('{folder}/*/*.parquet', hive_partitioning = true)"
    files = sorted(folder.glob("*.parquet"))
    return f"read_parquet('{folder}/*.parquet')" if files else None


def test_every_portable_model_and_seed_has_the_same_rows_on_both_engines(parity):
    nodes = parity["manifest"]["nodes"]
    con = duckdb.connect(str(parity["warehouse"]), read_only=True)
    differences, compared = [], 0
    try:
        for key in sorted(parity["models"] | parity["seeds"]):
            node = nodes[key]
            relation = f"{node['schema']}.{node['alias']}"
            if node["resource_type"] == "model" and node["config"]["materialized"] == "view":
                folder = parity["spark_rows"] / f"{node['schema']}.{node['name']}"
            else:   # tables and seeds: Spark's own Parquet files
                folder = parity["spark_tables"] / f"{node['schema']}.db" / node["alias"]
            spark_sql = _spark_relation(con, folder)
            duck_sql = f"select * from {relation}"
            if spark_sql is None:   # Spark wrote no file: the relation must be empty on DuckDB too
                n = con.execute(f"select count(*) from {relation}").fetchone()[0]
                if n:
                    differences.append(f"{relation}: {n} rows on DuckDB, none exported from Spark")
                continue
            diff = compare_relation(con, relation, duck_sql, f"select * from {spark_sql}")
            compared += 1
            if diff:
                differences.append(str(diff))
    finally:
        con.close()
    assert compared >= 30
    assert not differences, "\n".join(differences)


def test_the_tests_on_spark_only_paths_end_on_spark_as_on_duckdb(parity):
    """Each data test chosen for Spark (spark_parity.spark_tests) ends as on DuckDB; each unit test passes."""
    spark = {r["unique_id"]: (r["status"], r.get("failures")) for r in parity["spark_results"]["results"]
             if r["unique_id"].split(".")[0] in ("test", "unit_test")}
    assert set(spark) == parity["on_spark"], "the chosen tests did not all run on Spark (or others did)"
    assert "test.gongkai.assert_portable_macros" in spark, "the portable macros' checks did not run on Spark"
    differing = {k: (parity["duckdb_tests"].get(k, ("pass", 0) if k.startswith("unit_test.") else None), v)
                 for k, v in spark.items()}
    assert not {k: d for k, d in differing.items() if d[0] != d[1]}, differing


def test_the_hard_cases_come_out_right_not_only_equal(parity):
    """Equal is not enough: the normalised hard cases are what DOMAIN.md wants, on Spark's side."""
    con = duckdb.connect()
    rows = parity["spark_rows"]
    bulletins = con.execute(
        f"select tender_agency_name, tenderer_code, tenderer_uscc_is_valid, tender_agency_uscc_invalid_reason, "
        f"notice_name, budget_amount_yuan from read_parquet('{rows}/staging.stg_trading__bulletins/*.parquet') "
        "where project_code = 'E6404002020HC01' and bulletin_type_code = 'announcement'").fetchall()
    assert bulletins, "the hard-case bulletins did not reach staging on Spark"
    agency, tenderer_code, valid, agency_reason, notice, budget = bulletins[0]
    assert agency == "C:\\代理\\宁夏(恒信)招标 有限公司"            # backslashes kept, brackets half-width, spaces collapsed
    assert tenderer_code == tenderer_code.upper() and valid is True   # full-width lower-case code folded, then valid
    assert agency_reason.startswith("check character")
    assert notice.startswith("固原市(GY)第2中学“教学楼”改造工程\\施工 招标公告")
    assert str(budget) == "12345678.00"                                   # 1,234.5678 万元
    attachment = con.execute(
        f"select attachment, attachment_file_name from read_parquet('{rows}/staging.stg_portal__publications/*.parquet') "
        "where title like '%（补）' or title like '%(补)'").fetchall()
    assert attachment == [("budget/2020/附件_损坏.xlsx", "附件_损坏.xlsx")]


def test_the_revisions_are_compared_and_come_out_right(parity):
    """The revision models are portable and the re-published workbook gives every kind of revision on Spark."""
    names = {parity["manifest"]["nodes"][k]["name"] for k in parity["models"]}
    assert {"int_figure_versions", "fct_revisions"} <= names
    folder = parity["spark_tables"] / "marts.db" / "fct_revisions"
    rows = duckdb.connect().execute(
        f"select change_kind, has_correction_note, count(*), "
        f"count(*) filter (where first_seen_at < last_seen_at) from read_parquet('{folder}/*.parquet') "
        "group by all order by all").fetchall()
    kinds = {(kind, note): (n, dated) for kind, note, n, dated in rows}
    # version 2 (silent): changed and vanished; version 3 (with a correction note): changed and added
    assert set(kinds) == {("changed", False), ("vanished", False), ("changed", True), ("added", True)}, rows
    assert kinds[("vanished", False)][0] == kinds[("added", True)][0] >= 1   # the deleted line came back whole
    assert kinds[("added", True)][1] == 0                                 # an added figure has no first_seen_at
    assert all(kinds[(k, n)][1] == kinds[(k, n)][0] for k, n in kinds if k != "added")
    # a figure equal in versions 1 and 2 and changed in 3 was first seen before version 2 replaced version 1
    carried, = duckdb.connect().execute(
        f"select bool_and(first_seen_at < (select min(last_seen_at) from read_parquet('{folder}/*.parquet'))) "
        f"from read_parquet('{folder}/*.parquet') where has_correction_note and change_kind = 'changed'").fetchone()
    assert carried is True


@pytest.fixture(scope="module")
def incremental(parity):
    """The trading root changed, loaded into a DuckDB copy, the chain built by load on both engines (Spark: in the
    session of the fresh build) and with --full-refresh on another DuckDB copy."""
    p = parity
    tmp, raw, env, timings = p["tmp"], p["raw"], p["env"], {}
    changes = change_trading_root(raw)
    p["lone"]["path"].unlink()
    duck, full = tmp / "incremental" / "warehouse.duckdb", tmp / "full" / "warehouse.duckdb"
    for copy in (duck, full):
        copy.parent.mkdir()
    shutil.copyfile(p["warehouse"], duck)
    report = load_trading(duck, raw)
    assert len(report.retired) == 2, report
    shutil.copyfile(duck, full)
    duck_run, duck_target, timings["DuckDB incremental"] = _dbt(
        ["run", "--select", *CHAIN], dict(env, GONGKAI_WAREHOUSE=str(duck)), tmp, "duck-after")
    assert duck_run.returncode == 0, duck_run.stdout[-6000:]
    full_run, _, timings["DuckDB full refresh"] = _dbt(
        ["run", "--full-refresh", "--select", *CHAIN], dict(env, GONGKAI_WAREHOUSE=str(full)), tmp, "full")
    assert full_run.returncode == 0, full_run.stdout[-6000:]
    export_chain_sources(duck, p["settings"].spark_exchange_dir, chain_sources(duck_target / "manifest.json"))
    # the fresh build's parse state (same profile, same env): the incremental call parses only what changed
    (tmp / "target-spark-incremental").mkdir()
    shutil.copyfile(tmp / "target-spark" / STATE, tmp / "target-spark-incremental" / STATE)
    spark_ok, spark_log, _, timings["Spark incremental"] = _spark_dbt(
        p["session"], ["run", "--target", "spark_ci", "--select", *CHAIN], tmp, "spark-incremental")
    assert spark_ok, spark_log[-6000:]
    print("\nSpark incremental timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
          + f"; load {os.getloadavg()[0]:.1f}")
    return dict(duck=duck, full=full, spark_tables=p["live_spark_tables"],
                changes={**changes, "lone_year": p["lone"]["lone_year"]},
                duck_log=duck_run.stdout, spark_log=spark_log)


def test_the_fresh_spark_build_agrees_before_the_change(parity):
    """The starting point of the incremental build: Spark's fresh build holds DuckDB's rows in the chain's tables,
    the lone year's partition included."""
    differences = spark_differences(parity["warehouse"], parity["spark_tables"])
    assert not differences, "Spark fresh vs DuckDB before the change:\n" + "\n".join(differences)
    con = duckdb.connect(str(parity["warehouse"]), read_only=True)
    try:
        lone_deals, = con.execute("select count(*) from marts.fct_deals where partition_year = ?",
                                  [parity["lone"]["lone_year"]]).fetchone()
    finally:
        con.close()
    assert lone_deals == 1, "the lone year should hold exactly one deal"


def test_spark_incremental_equals_duckdb_incremental_and_full_refresh(incremental):
    b = incremental
    for table in INCREMENTAL_TABLES:
        assert differing_rows(b["duck"], b["full"], table) == (0, 0), f"{table}: DuckDB incremental ≠ full refresh"
    only_incremental = spark_differences(b["duck"], b["spark_tables"])
    only_full = spark_differences(b["full"], b["spark_tables"])
    assert not only_incremental, "Spark incremental vs DuckDB incremental:\n" + "\n".join(only_incremental)
    assert not only_full, "Spark incremental vs DuckDB full refresh:\n" + "\n".join(only_full)


def test_spark_rebuilt_the_same_partitions_as_duckdb(incremental):
    """Both engines rebuilt exactly the touched partitions (so neither quietly rebuilt the whole table), and the
    lone year's partition is gone from Spark's files, not only from its catalog."""
    b = incremental
    duck, spark = rebuilt_partitions(b["duck_log"]), rebuilt_partitions(b["spark_log"])
    assert set(duck) == set(CHAIN), duck
    assert spark == duck
    years = {int(y) for y in duck["int_deals_assembled"].replace(",", " ").split()}
    assert {b["changes"]["new_year"], b["changes"]["lone_year"]} <= years
    for table in INCREMENTAL_TABLES:
        folder = spark_files(b["spark_tables"], table)
        assert not (folder / f"partition_year={b['changes']['lone_year']}").exists(), table
