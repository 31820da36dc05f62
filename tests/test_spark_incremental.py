"""The trading chain built incrementally ON SPARK gives DuckDB's rows (issues 16 and 17).

test_spark_parity builds every model fresh on both engines; test_incremental_build proves on DuckDB that an
incremental build by load equals a full refresh. What neither proves is Spark's incremental path: dbt-spark's
insert_overwrite with dynamic partition overwrite, the partitions emptied first by ``spark__clear_partitions``
(``alter table … drop partition``), and the watermark read back from Spark's own tables. Here the sample's
warehouse (``sample_built``) is copied and given one more export holding the only deal of a year of its own; the
trading chain is built on DuckDB (incrementally, from the sample's build) and fresh on Spark (target
``spark_local``: a Derby metastore under GONGKAI_SPARK_DIR, so what one dbt call builds is there for the next).
The trading root then changes as test_incremental_build changes it (a new year, a bulletin re-dated into the year
before, one dropped, an amount corrected, an export removed) and the lone year's export is removed too (its
partition must end empty: dynamic partition overwrite alone would keep it). The real loader reads the change into
DuckDB, the raw tables are exported again, and the chain is built incrementally on both engines and with
``--full-refresh`` on a DuckDB copy. Every incremental table must hold the same rows on Spark, on DuckDB and in the
full refresh, and Spark must have rebuilt the same partitions as DuckDB (not the whole table).

Shown to fail: with ``spark__clear_partitions`` emptied (no partition dropped), Spark keeps the lone year's deal in
every table while DuckDB and the full refresh drop it.

Needs Java on PATH and the ``[spark]`` extra; skipped otherwise (like test_spark_parity). Two Spark sessions
(fresh: the 10 models and 5 seeds the chain reads; incremental: the 6 chain models), each starting a JVM and the
Derby metastore; only the raw tables the chain reads are exported. The timings are printed with ``-s`` (≈7 min at
load 7–9 on 2 cores, most of it the two Spark calls; the JVM's CPU time is not visible to this process).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from spark_parity import compare_relation, missing_spark, with_test_jvm
from test_incremental_build import (EXPORT, INCREMENTAL_TABLES, _deals, _read_export, _shift_years, _write_export,
                                    change_trading_root, differing_rows)

pytestmark = pytest.mark.slow

DBT = str(Path(sys.executable).with_name("dbt"))
CHAIN = [t.split(".")[1] for t in INCREMENTAL_TABLES]
# the chain and everything it reads (staging views, the calendar, seeds); no tests: parity compares test outcomes
CHAIN_WITH_INPUTS = [f"+{m}" for m in CHAIN]
REBUILT = re.compile(r"(\w+): rebuilding partition_year ([\d, -]+|none)")


def add_lone_year(raw: Path) -> dict[str, object]:
    """A further export holding one deal of the sample export, re-coded and moved to a year no other deal has."""
    header, rows = _read_export(raw / EXPORT)
    years = sorted({int(r["NOTICE_SEND_TIME"][:4]) for r in rows if r["NOTICE_SEND_TIME"][:4].isdigit()})
    lone_year = years[0] - 3
    deals = _deals(rows)
    # the last deal with several bulletins: change_trading_root uses the first six
    key = [k for k, bulletins in deals.items() if len(bulletins) >= 3][-1]
    lone = []
    for row in deals[key]:
        new = _shift_years(row, lone_year - int(deals[key][0]["NOTICE_SEND_TIME"][:4] or years[0]))
        for field in ("PROJECT_CODE", "TENDER_PROJECT_CODE", "BID_SECTION_CODE", "UNIFIED_DEAL_CODE"):
            new[field] = f"L{new[field]}" if new[field] else new[field]
        lone.append(new)
    path = raw / "trading" / f"{lone_year}_交易信息_导出.csv"
    _write_export(path, header, lone)
    return {"lone_year": lone_year, "path": path}


def _dbt(args: list[str], env: dict, work: Path) -> tuple[subprocess.CompletedProcess, float]:
    from dagster_project.paths import DBT_PROJECT_DIR, REPO_ROOT

    started = time.perf_counter()
    result = subprocess.run(
        [DBT, *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
         "--target-path", str(work / "target"), "--log-path", str(work / "logs")],
        env=env, capture_output=True, text=True, cwd=REPO_ROOT,
    )
    assert result.returncode == 0, result.stdout[-6000:]
    return result, time.perf_counter() - started


def chain_sources(manifest_path: Path) -> list[tuple[str, str]]:
    """The raw tables the chain reads, directly or through the models it reads (from dbt's manifest)."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    nodes, sources = manifest["nodes"], manifest["sources"]
    todo = [k for k, n in nodes.items() if n["resource_type"] == "model" and n["name"] in CHAIN]
    seen: set[str] = set()
    while todo:
        key = todo.pop()
        if key not in seen:
            seen.add(key)
            todo.extend(nodes[key].get("depends_on", {}).get("nodes", []) if key in nodes else [])
    return sorted((sources[k]["schema"], sources[k]["identifier"]) for k in seen if k in sources)


def export_chain_sources(warehouse: Path, exchange: Path, tables: list[tuple[str, str]]) -> None:
    """Only what the chain reads goes to Spark: each exported table is registered again in Spark's metastore at
    the start of every dbt call, a cost per table."""
    from dagster_project.transform import spark_exchange

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        spark_exchange.export_tables(con, exchange, tables)
    finally:
        con.close()


def rebuilt_partitions(log: str) -> dict[str, str]:
    """{model: the partition years its build logged} (the first line per model: compile time, before clearing)."""
    found: dict[str, str] = {}
    for model, years in REBUILT.findall(log):
        found.setdefault(model, years.strip())
    return found


def _load_trading(warehouse: Path, raw: Path):
    from dagster_project.ingest import framework
    from dagster_project.ingest.assets import FAMILY_LOADERS, resolve_loader

    con = duckdb.connect(str(warehouse))
    try:
        return framework.load_family(con, raw, "trading", resolve_loader(FAMILY_LOADERS["trading"]),
                                     progress=lambda _: None)
    finally:
        con.close()


@pytest.fixture(scope="module")
def both_engines(request, tmp_path_factory):
    reason = missing_spark()
    if reason:   # before the sample is built: a skip costs nothing
        pytest.skip(reason)
    sample_built = request.getfixturevalue("sample_built")
    from dagster_project.paths import REPO_ROOT, settings

    warehouse0, _, _ = sample_built
    root = tmp_path_factory.mktemp("spark_incremental")
    raw = root / "raw"
    shutil.copytree(REPO_ROOT / "data" / "raw", raw)
    duck, before, full = root / "incremental.duckdb", root / "before.duckdb", root / "full.duckdb"
    shutil.copyfile(warehouse0, duck)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GONGKAI_RAW_DIR", str(raw))
        mp.setenv("GONGKAI_WAREHOUSE", str(duck))
        mp.setenv("GONGKAI_OUT_DIR", str(root / "out"))
        mp.delenv("GONGKAI_AS_OF", raising=False)    # as sample_built: today
        mp.setenv("GONGKAI_SPARK_DIR", str(root / "spark"))
        mp.delenv("GONGKAI_SPARK_EXCHANGE_URI", raising=False)
        mp.setenv("GONGKAI_DBT_TARGET", "spark_local")
        current = settings()
    env = with_test_jvm(current.env_for_subprocess())   # the Spark calls' (the DuckDB calls start no JVM)
    duck_env = dict(env, GONGKAI_DBT_TARGET="local")
    timings: dict[str, float] = {}

    # before: the sample plus a year held by one deal, built on DuckDB (incrementally from the sample's build)
    # and fresh on Spark from the same raw tables
    lone = add_lone_year(raw)
    assert _load_trading(duck, raw).loaded
    _, timings["DuckDB chain, before"] = _dbt(["run", "--select", *CHAIN], duck_env, root / "duck-before")
    shutil.copyfile(duck, before)
    sources = chain_sources(root / "duck-before" / "target" / "manifest.json")
    export_chain_sources(duck, current.spark_exchange_dir, sources)
    _, timings["Spark fresh build"] = _dbt(
        ["build", "--target", "spark_local", "--select", *CHAIN_WITH_INPUTS,
         "--exclude", "resource_type:test", "resource_type:unit_test"], env, root / "spark-fresh")
    spark_before = snapshot_spark_tables(current.spark_work_dir / "warehouse", root / "spark-before")

    # the change: test_incremental_build's, and the lone year's export removed
    changes = change_trading_root(raw)
    lone["path"].unlink()
    report = _load_trading(duck, raw)
    assert len(report.retired) == 2, report
    shutil.copyfile(duck, full)
    duck_run, timings["DuckDB incremental"] = _dbt(["run", "--select", *CHAIN], duck_env, root / "duck-after")
    _, timings["DuckDB full refresh"] = _dbt(["run", "--full-refresh", "--select", *CHAIN],
                                             dict(duck_env, GONGKAI_WAREHOUSE=str(full)), root / "full")
    export_chain_sources(duck, current.spark_exchange_dir, sources)
    spark_run, timings["Spark incremental"] = _dbt(
        ["run", "--target", "spark_local", "--select", *CHAIN], env, root / "spark-incremental")
    print("\nSpark incremental timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
          + f"; load {os.getloadavg()[0]:.1f}")
    return dict(duck=duck, before=before, full=full, spark_before=spark_before,
                spark_tables=current.spark_work_dir / "warehouse",
                changes={**changes, "lone_year": lone["lone_year"]},
                duck_log=duck_run.stdout, spark_log=spark_run.stdout)


def spark_files(tables: Path, table: str) -> Path:
    schema, name = table.split(".")
    return tables / f"{schema}.db" / name


def snapshot_spark_tables(tables: Path, into: Path) -> Path:
    """Copy the chain's Parquet files as Spark left them (the incremental build rewrites them in place)."""
    for table in INCREMENTAL_TABLES:
        shutil.copytree(spark_files(tables, table), spark_files(into, table))
    return into


def _spark_rows(folder: Path) -> str:
    # partitioned tables: one partition_year=<year>/ folder per partition (read from the folder names)
    assert sorted(folder.glob("*/*.parquet")), f"{folder}: Spark wrote no partition"
    return f"select * from read_parquet('{folder}/*/*.parquet', hive_partitioning = true)"


def spark_differences(warehouse: Path, tables: Path) -> list[str]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return [str(diff) for table in INCREMENTAL_TABLES
                if (diff := compare_relation(con, table, f"select * from {table}",
                                             _spark_rows(spark_files(tables, table))))]
    finally:
        con.close()


def test_the_fresh_spark_build_agrees_before_the_change(both_engines):
    """The starting point: Spark's fresh build holds DuckDB's rows, the lone year's partition included."""
    b = both_engines
    differences = spark_differences(b["before"], b["spark_before"])
    assert not differences, "Spark fresh vs DuckDB before the change:\n" + "\n".join(differences)
    con = duckdb.connect(str(b["before"]), read_only=True)
    try:
        lone_deals, = con.execute("select count(*) from marts.fct_deals where partition_year = ?",
                                  [b["changes"]["lone_year"]]).fetchone()
    finally:
        con.close()
    assert lone_deals == 1, "the lone year should hold exactly one deal"


def test_spark_incremental_equals_duckdb_incremental_and_full_refresh(both_engines):
    b = both_engines
    for table in INCREMENTAL_TABLES:
        assert differing_rows(b["duck"], b["full"], table) == (0, 0), f"{table}: DuckDB incremental ≠ full refresh"
    only_incremental = spark_differences(b["duck"], b["spark_tables"])
    only_full = spark_differences(b["full"], b["spark_tables"])
    assert not only_incremental, "Spark incremental vs DuckDB incremental:\n" + "\n".join(only_incremental)
    assert not only_full, "Spark incremental vs DuckDB full refresh:\n" + "\n".join(only_full)


def test_spark_rebuilt_the_same_partitions_as_duckdb(both_engines):
    """Both engines rebuilt exactly the touched partitions (so neither quietly rebuilt the whole table), and the
    lone year's partition is gone from Spark's files, not only from its catalog."""
    b = both_engines
    duck, spark = rebuilt_partitions(b["duck_log"]), rebuilt_partitions(b["spark_log"])
    assert set(duck) == set(CHAIN), duck
    assert spark == duck
    years = {int(y) for y in duck["int_deals_assembled"].replace(",", " ").split()}
    assert {b["changes"]["new_year"], b["changes"]["lone_year"]} <= years
    for table in INCREMENTAL_TABLES:
        folder = spark_files(b["spark_tables"], table)
        assert not (folder / f"partition_year={b['changes']['lone_year']}").exists(), table
