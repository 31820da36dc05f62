"""The same dbt models on Spark at scale (issue 17): not to win, to show they complete and what they cost.

One raw root from the sample generator (scale 1250 ≈ 1 M trading rows), loaded once into DuckDB by the real
loaders; then, alternating, `dbt build` of every model on DuckDB (target `local`) and, once, on Spark
(target `spark_ci`: local[2] inside the dbt process) from the raw tables exported as Parquet. With
``--duckdb-baseline DIR`` (a checkout of another revision's dbt/ folder, e.g. ``git archive main``) DuckDB's build
of that revision is timed alternately with this one's on the same warehouse: "DuckDB loses no speed".
Wall time and peak RSS (GNU time) per build; results in benchmarks/results/spark-<scale>.json.

    .venv/bin/python benchmarks/spark_scale.py --scale 1250 --work /tmp/spark-bench [--duckdb-baseline /tmp/main/dbt]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import BIN, REPO, count_trading_rows, generate, timed  # noqa: E402


def load(raw: Path, work: Path) -> float:
    """The real loaders, as Dagster's ingest assets call them (one DuckDB file)."""
    import duckdb

    from dagster_project.ingest import framework
    from dagster_project.ingest.assets import FAMILY_LOADERS, resolve_loader

    started = time.perf_counter()
    con = duckdb.connect(str(work / "warehouse.duckdb"))
    try:
        for family, spec in FAMILY_LOADERS.items():
            framework.load_family(con, raw, family, resolve_loader(spec), progress=lambda _: None)
    finally:
        con.close()
    return time.perf_counter() - started


def dbt_build(project: Path, target: str, env: dict, work: Path, name: str) -> dict:
    # --full-refresh: both revisions write the same relations in one warehouse, and the incremental models
    # of one would otherwise find the other's table (or their own, with nothing new) and do no work.
    cmd = [str(BIN / "dbt"), "build", "--full-refresh", "--project-dir", str(project), "--profiles-dir", str(project),
           "--target", target, "--target-path", str(work / f"target-{name}"), "--log-path", str(work / f"logs-{name}")]
    load_before = os.getloadavg()[0]
    seconds, rss, code = timed(cmd, env, work / "logs" / f"{name}.log")
    results = work / f"target-{name}" / "run_results.json"
    statuses: dict[str, int] = {}
    model_seconds: dict[str, float] = {}
    if results.is_file():
        for r in json.loads(results.read_text(encoding="utf-8"))["results"]:
            statuses[r["status"]] = statuses.get(r["status"], 0) + 1
            if r["unique_id"].startswith("model."):
                model_seconds[r["unique_id"].split(".")[-1]] = round(r["execution_time"], 2)
    return {"build": name, "target": target, "seconds": round(seconds, 1), "peak_rss_mib": round(rss),
            "exit_code": code, "statuses": statuses, "load_1min_before": load_before,
            "load_1min_after": os.getloadavg()[0], "model_seconds": model_seconds}


def compare_engines(work: Path) -> dict:
    """Every table Spark built (intermediate, marts) against DuckDB's table of the same name, as multisets of rows.

    The parity test proves equal rows on hard cases; this says whether they stay equal at scale. DuckDB's tables
    must come from this checkout's dbt project (the last DuckDB build of the run is "duckdb")."""
    import duckdb

    sys.path.insert(0, str(REPO / "tests"))
    from spark_parity import compare_relation

    tables = work / "spark" / "warehouse-ci"
    con = duckdb.connect(str(work / "warehouse.duckdb"), read_only=True)
    compared, differences = [], []
    started = time.perf_counter()
    try:
        for schema in ("intermediate", "marts"):
            for folder in sorted((tables / f"{schema}.db").iterdir()):
                if sorted(folder.glob("*/*.parquet")):   # partitioned (incremental models): <column>=<value>/
                    spark_sql = f"select * from read_parquet('{folder}/*/*.parquet', hive_partitioning = true)"
                elif sorted(folder.glob("*.parquet")):
                    spark_sql = f"select * from read_parquet('{folder}/*.parquet')"
                else:
                    spark_sql = None
                relation = f"{schema}.{folder.name}"
                rows = con.execute(f"select count(*) from {relation}").fetchone()[0]
                if spark_sql is None:
                    if rows:
                        differences.append(f"{relation}: {rows} rows on DuckDB, no file from Spark")
                    compared.append({"relation": relation, "rows": rows, "equal": not rows})
                    continue
                diff = compare_relation(con, relation, f"select * from {relation}", spark_sql)
                compared.append({"relation": relation, "rows": rows, "equal": diff is None})
                if diff:
                    differences.append(str(diff)[:2000])
    finally:
        con.close()
    return {"seconds": round(time.perf_counter() - started, 1), "relations": compared, "differences": differences}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1250)
    parser.add_argument("--years", default="2017-2019")
    parser.add_argument("--seed", type=int, default=20181)
    parser.add_argument("--work", type=Path, default=Path("/tmp/gongkai-spark-bench"))
    parser.add_argument("--duckdb-baseline", type=Path, help="another revision's dbt/ folder, timed alternately")
    parser.add_argument("--duckdb-project", type=Path, default=REPO / "dbt",
                        help="the dbt/ folder timed as 'duckdb' (default: this checkout's); e.g. the port's last commit")
    parser.add_argument("--repeats", type=int, default=2, help="DuckDB builds per revision")
    parser.add_argument("--skip-spark", action="store_true")
    parser.add_argument("--compare-only", action="store_true",
                        help="only compare the tables of an earlier run in --work; adds 'parity' to --out")
    parser.add_argument("--out", type=Path, help="results file (default benchmarks/results/spark-<scale>.json)")
    args = parser.parse_args(argv)

    work = args.work.resolve()
    out = args.out or REPO / "benchmarks" / "results" / f"spark-{int(args.scale)}.json"
    if args.compare_only:
        record = json.loads(out.read_text(encoding="utf-8"))
        record["parity"] = compare_engines(work)
        out.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print({k: v for k, v in record["parity"].items() if k != "relations"}, flush=True)
        return 0
    raw = work / "raw"
    if not (raw / "ground_truth.json").is_file():
        generate(raw, args.scale, args.years, args.seed)
    env = dict(os.environ, GONGKAI_RAW_DIR=str(raw), GONGKAI_WAREHOUSE=str(work / "warehouse.duckdb"),
               GONGKAI_OUT_DIR=str(work / "out"), GONGKAI_SPARK_DIR=str(work / "spark"),
               GONGKAI_AS_OF="2026-11-01", GONGKAI_SPARK_DRIVER_MEMORY=os.environ.get("GONGKAI_SPARK_DRIVER_MEMORY", "6g"),
               PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    os.environ.update({k: env[k] for k in ("GONGKAI_RAW_DIR", "GONGKAI_WAREHOUSE", "GONGKAI_OUT_DIR",
                                            "GONGKAI_SPARK_DIR", "GONGKAI_AS_OF")})
    record = {"scale": args.scale, "duckdb_project": str(args.duckdb_project),
              "duckdb_baseline": str(args.duckdb_baseline) if args.duckdb_baseline else None, "trading_rows": count_trading_rows(raw), "started": dt.datetime.now().isoformat(),
              "cpu_count": os.cpu_count(), "builds": []}
    if not (work / "warehouse.duckdb").is_file():
        record["load_seconds"] = round(load(raw, work), 1)

    revisions = [("duckdb", args.duckdb_project.resolve())]
    if args.duckdb_baseline:
        revisions.append(("duckdb-baseline", args.duckdb_baseline.resolve()))
    for repeat in range(args.repeats):
        for name, project in (revisions if repeat % 2 == 0 else revisions[::-1]):
            record["builds"].append(dbt_build(project, "local", env, work, f"{name}-{repeat}"))
            print(record["builds"][-1], flush=True)

    if not args.skip_spark:
        from dagster_project.paths import settings
        from dagster_project.transform import spark_exchange

        started = time.perf_counter()
        os.environ["GONGKAI_DBT_TARGET"] = "spark_ci"
        exported = spark_exchange.prepare_spark_dir(settings())
        record["export_seconds"] = round(time.perf_counter() - started, 1)
        record["exported_tables"] = len(exported)
        record["builds"].append(dbt_build(REPO / "dbt", "spark_ci", env, work, "spark"))
        print(record["builds"][-1], flush=True)
        last_duckdb = [b["build"] for b in record["builds"] if b["target"] == "local"][-1:]
        if last_duckdb and last_duckdb[0].startswith("duckdb-") and not last_duckdb[0].startswith("duckdb-baseline"):
            record["parity"] = compare_engines(work)
            print({k: v for k, v in record["parity"].items() if k != "relations"}, flush=True)

    out.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
