"""Raw tables into Spark: the DuckDB tables dbt reads are exported as Parquet, one folder per table.

The ingest loaders write DuckDB (one file, one writer). To run the same dbt models on Spark, every table dbt
reads that is not a seed — the dbt sources, schema ``raw`` — is written as Parquet under the exchange folder
(``<exchange>/<schema>/<table>/part-0.parquet``) with a ``tables.json`` beside it listing what was written. The
dbt macro ``register_exchange_tables`` (``dbt/macros/portable/spark_exchange.sql``, an ``on-run-start`` hook
that does nothing on DuckDB) then (re)creates each as an external Parquet table in Spark's catalog, so one raw
root runs through either engine. Pure functions of a DuckDB connection and a folder: no Dagster, no Spark.

Types cross as they are: VARCHAR → string, DECIMAL(p,s) → decimal(p,s), BOOLEAN, INTEGER/BIGINT, DATE, and
naive TIMESTAMP → Spark ``timestamp_ntz`` (the loaders' times are naive Asia/Shanghai wall-clock times;
neither engine shifts them).
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Sequence

import duckdb

MANIFEST = "tables.json"
# Schemas whose tables dbt reads as sources (dbt/models/staging/*/_*__sources.yml): written by the loaders.
SOURCE_SCHEMAS: tuple[str, ...] = ("raw",)


@dataclass(frozen=True)
class ExportedTable:
    schema: str
    table: str
    rows: int
    folder: str  # relative to the exchange folder: <schema>/<table>

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.table}"


def source_tables(con: duckdb.DuckDBPyConnection, schemas: Sequence[str] = SOURCE_SCHEMAS) -> list[tuple[str, str]]:
    """Every base table of the given schemas, sorted (the dbt sources live in ``raw``)."""
    placeholders = ", ".join("?" for _ in schemas)
    rows = con.execute(
        f"select table_schema, table_name from information_schema.tables "
        f"where table_type = 'BASE TABLE' and table_schema in ({placeholders}) "
        f"and table_catalog = current_database() order by 1, 2",
        list(schemas),
    ).fetchall()
    return [(schema, table) for schema, table in rows]


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def export_tables(
    con: duckdb.DuckDBPyConnection, exchange_dir: Path, tables: Iterable[tuple[str, str]]
) -> list[ExportedTable]:
    """Write each (schema, table) as ``<exchange_dir>/<schema>/<table>/part-0.parquet`` and list them in
    ``tables.json``. Folders are replaced whole (a new folder is written, then swapped in), so a
    reader never sees half a table; an empty table still gets a file (its columns and types)."""
    exchange_dir.mkdir(parents=True, exist_ok=True)
    exported: list[ExportedTable] = []
    for schema, table in tables:
        folder = exchange_dir / schema / table
        staging = folder.with_name(folder.name + ".writing")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        target = staging / "part-0.parquet"
        relation = f"{_quote(schema)}.{_quote(table)}"
        con.execute(f"copy (select * from {relation}) to '{_sql_text(str(target))}' (format parquet, compression zstd)")
        rows = con.execute(f"select count(*) from {relation}").fetchone()[0]
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(staging, folder)
        exported.append(ExportedTable(schema, table, int(rows), f"{schema}/{table}"))
    write_manifest(exchange_dir, exported)
    return exported


def _sql_text(value: str) -> str:
    return value.replace("'", "''")


def write_manifest(exchange_dir: Path, tables: Sequence[ExportedTable]) -> Path:
    """``tables.json``: JSON Lines (Spark reads it with ``json.`<path>```), one object per table."""
    path = exchange_dir / MANIFEST
    tmp = path.with_suffix(".json.writing")
    tmp.write_text("".join(json.dumps(asdict(t), ensure_ascii=False) + "\n" for t in tables), encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_manifest(exchange_dir: Path) -> list[ExportedTable]:
    path = exchange_dir / MANIFEST
    if not path.is_file():
        return []
    return [ExportedTable(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line]


def export_sources(warehouse: Path, exchange_dir: Path, extra: Sequence[tuple[str, str]] = ()) -> list[ExportedTable]:
    """Export every source table of the DuckDB file (and ``extra`` relations) to the exchange folder."""
    con = duckdb.connect(str(warehouse))
    try:
        return export_tables(con, exchange_dir, [*source_tables(con), *extra])
    finally:
        con.close()


# The folder of spark_ci's tables (dbt/profiles.yml): its catalog lives in memory for one dbt call, so the
# tables of an earlier call are orphans that would block re-creating them (LOCATION_ALREADY_EXISTS).
SPARK_CI_WAREHOUSE = "warehouse-ci"


def prepare_spark_dir(settings, extra: Sequence[tuple[str, str]] = ()) -> list[ExportedTable]:
    """Before dbt runs on a Spark target: export the sources (and ``extra`` relations) of the DuckDB file to
    the exchange folder; for ``spark_ci`` also empty its per-run table folder. ``settings``: paths.Settings."""
    if settings.dbt_target == "spark_ci":
        shutil.rmtree(settings.spark_work_dir / SPARK_CI_WAREHOUSE, ignore_errors=True)
    return export_sources(settings.warehouse, settings.spark_exchange_dir, extra)


PORTABLE_TAG = "portable"


def models_not_portable(manifest: dict) -> list[str]:
    """Names of the dbt models not (yet) tagged ``portable``: a Spark run leaves them out (README "Scaling out")."""
    return sorted(n["name"] for n in manifest.get("nodes", {}).values()
                  if n.get("resource_type") == "model" and PORTABLE_TAG not in (n.get("tags") or []))
