"""The raw tables cross to Spark as Parquet (dagster_project/transform/spark_exchange.py): every source table
of schema raw, types kept, an empty table still written, a manifest Spark can read, folders replaced whole.
No Spark needed: the files are read back with DuckDB. And every dbt model is tagged portable (a model without the
tag would be left out of Spark builds and of the parity test without anyone noticing)."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import duckdb

from dagster_project.paths import settings
from dagster_project.transform import spark_exchange
from dbt_fixed_path import run_dbt


def _warehouse(path: Path) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema raw; create schema marts")
        con.execute("create table raw.trading_bulletins (bulletin_key varchar, notice_send_time timestamp, "
                    "bid_amount_yuan decimal(20, 2), bidder_count integer, is_retired boolean)")
        con.execute("insert into raw.trading_bulletins values "
                    "('D1|announcement|2020-01-23T09:00:00|', timestamp '2020-01-23 09:00:00', 12345678.00, 3, false), "
                    "('C:\\招标\\D2|result|2020-02-28T10:00:00|', null, 0.46, null, null)")
        con.execute("create table raw.load_rejects (source_file varchar, reason varchar)")   # empty
        con.execute("create table marts.fct_deals (deal_key varchar)")                      # not a source
        con.execute("create view raw.v as select 1 as x")                                  # not a table
    finally:
        con.close()


def test_every_raw_table_is_exported_with_its_types_and_listed(tmp_path, monkeypatch):
    _warehouse(tmp_path / "w.duckdb")
    monkeypatch.setenv("GONGKAI_WAREHOUSE", str(tmp_path / "w.duckdb"))
    monkeypatch.setenv("GONGKAI_SPARK_DIR", str(tmp_path / "spark"))
    monkeypatch.setenv("GONGKAI_DBT_TARGET", "spark_ci")
    current = settings()
    stale = current.spark_work_dir / spark_exchange.SPARK_CI_WAREHOUSE / "staging.db"
    stale.mkdir(parents=True)

    exported = spark_exchange.prepare_spark_dir(current)

    assert [(t.relation, t.rows) for t in exported] == [("raw.load_rejects", 0), ("raw.trading_bulletins", 2)]
    assert not stale.exists(), "spark_ci's tables of an earlier run are removed (its catalog is gone)"
    assert spark_exchange.read_manifest(current.spark_exchange_dir) == exported
    listed = [json.loads(line) for line in (current.spark_exchange_dir / "tables.json").read_text().splitlines()]
    assert listed[1] == {"schema": "raw", "table": "trading_bulletins", "rows": 2, "folder": "raw/trading_bulletins"}
    con = duckdb.connect()
    folder = current.spark_exchange_dir / "raw" / "trading_bulletins"
    types = dict(con.execute(f"select column_name, column_type from (describe select * from '{folder}/part-0.parquet')"
                             ).fetchall())
    assert types == {"bulletin_key": "VARCHAR", "notice_send_time": "TIMESTAMP", "bid_amount_yuan": "DECIMAL(20,2)",
                     "bidder_count": "INTEGER", "is_retired": "BOOLEAN"}
    rows = con.execute(f"select * from read_parquet('{folder}/*.parquet') order by bulletin_key").fetchall()
    assert rows[0] == ("C:\\招标\\D2|result|2020-02-28T10:00:00|", None, Decimal("0.46"), None, None)
    assert rows[1][1] == dt.datetime(2020, 1, 23, 9) and rows[1][2] == Decimal("12345678.00")
    assert con.execute(f"select count(*) from read_parquet('{current.spark_exchange_dir}/raw/load_rejects/*.parquet')"
                       ).fetchone()[0] == 0
    assert current.spark_exchange_location() == current.spark_exchange_dir.as_uri()

    # a second export replaces the folders whole (no file of the first one left behind)
    (folder / "part-old.parquet").write_bytes(b"stale")
    spark_exchange.prepare_spark_dir(current)
    assert sorted(p.name for p in folder.iterdir()) == ["part-0.parquet"]


def test_models_without_the_portable_tag_are_left_out_of_a_spark_run():
    manifest = {"nodes": {
        "model.gongkai.a": {"resource_type": "model", "name": "a", "tags": ["portable"]},
        "model.gongkai.b": {"resource_type": "model", "name": "b", "tags": []},
        "seed.gongkai.c": {"resource_type": "seed", "name": "c", "tags": []},
    }}
    assert spark_exchange.models_not_portable(manifest) == ["b"]


def _manifest_as_on_disk(tmp_path: Path, env: dict[str, str]) -> dict:
    """dbt's manifest of the project as its files are now, parsed into a private target (never dbt/target, which a
    stale `prepare` may have left) through this test process's fixed warehouse path (dbt_fixed_path): after any
    other dbt call of the process, only changed files are re-read (a whole parse was ≈ 9.7 CPU-s: dbt/target's state
    is keyed by another profile)."""
    target = tmp_path / "target"
    result = run_dbt(["parse", "--quiet"], dict(env, GONGKAI_WAREHOUSE=str(tmp_path / "warehouse.duckdb")), target,
                     tmp_path / "logs")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads((target / "manifest.json").read_text(encoding="utf-8"))


def test_every_model_is_tagged_portable(tmp_path):
    """Phase 2 of issue 17: every model runs on Spark. A model without the tag is skipped by the parity test and
    left on DuckDB by a Spark run, so its SQL could stop being portable unnoticed: this names it."""
    # the environment `prepare` parses with (a parse reads no warehouse): the same profile, so partial parsing holds
    manifest = _manifest_as_on_disk(tmp_path, settings().env_for_subprocess())
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    assert len(models) >= 40, "the manifest lists too few models to be this project's"
    not_portable = spark_exchange.models_not_portable(manifest)
    assert not not_portable, (
        f"dbt models not tagged `{spark_exchange.PORTABLE_TAG}`: {', '.join(not_portable)} — port their SQL with the "
        "macros of dbt/macros/portable/, then tag them in dbt/dbt_project.yml (tests/test_spark_parity.py compares them)")
