"""The scenario of Spark's incremental path (issues 16 and 17): the trading chain built by load on both engines.

test_spark_parity builds every model fresh on both engines and then, on the same Spark session, this: the raw
root holds the sample's trading export and one more export holding the only deal of a year of its own
(``add_lone_year``); the trading root then changes as test_incremental_build changes it (``change_trading_root``:
a new year, a bulletin re-dated into the year before, one dropped, an amount corrected, an export removed) and the
lone year's export is removed too (its partition must end empty: dynamic partition overwrite alone would keep it).
``load_trading`` reads the change into DuckDB with the real loader, ``export_chain_sources`` exports again only the
raw tables the chain reads (``chain_sources``), and the chain is built incrementally on both engines.
``spark_differences`` compares the incremental tables of a DuckDB file with Spark's files; ``rebuilt_partitions``
reads from a dbt log which partitions each chain model rebuilt.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb

from spark_parity import compare_relation
from test_incremental_build import EXPORT, INCREMENTAL_TABLES, _deals, _read_export, _shift_years, _write_export

CHAIN = [t.split(".")[1] for t in INCREMENTAL_TABLES]
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


def load_trading(warehouse: Path, raw: Path):
    from dagster_project.ingest import framework
    from dagster_project.ingest.assets import FAMILY_LOADERS, resolve_loader

    con = duckdb.connect(str(warehouse))
    try:
        return framework.load_family(con, raw, "trading", resolve_loader(FAMILY_LOADERS["trading"]),
                                     progress=lambda _: None)
    finally:
        con.close()


def spark_files(tables: Path, table: str) -> Path:
    schema, name = table.split(".")
    return tables / f"{schema}.db" / name


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
