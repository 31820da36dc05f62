"""The ingest assets through Dagster itself, on the bundled sample: checks, metadata, re-runs, sensor."""
from __future__ import annotations

import json
import shutil

import dagster as dg
import duckdb
import pytest

from dagster_project.ingest.assets import build_raw_root_sensor, ingest_assets
from dagster_project.resources import WarehouseResource
from dagster_project.paths import REPO_ROOT

SAMPLE_RAW = REPO_ROOT / "data" / "raw"


@pytest.fixture
def sample_env(gongkai_env):
    shutil.copytree(SAMPLE_RAW, gongkai_env.raw_dir, dirs_exist_ok=True)
    return gongkai_env


@pytest.fixture(scope="module")
def sample_loaded(tmp_path_factory):
    """The sample's first load through the ingest assets, once for the module: its root's environment and the result.
    Tests that load again set the same environment (``loaded_env``) and find the files unchanged."""
    tmp = tmp_path_factory.mktemp("sample_loaded")
    env = {"GONGKAI_RAW_DIR": str(tmp / "raw"), "GONGKAI_WAREHOUSE": str(tmp / "warehouse.duckdb"),
           "GONGKAI_OUT_DIR": str(tmp / "out")}
    shutil.copytree(SAMPLE_RAW, tmp / "raw")
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        return env, materialise()


@pytest.fixture
def loaded_env(sample_loaded, monkeypatch):
    env, _ = sample_loaded
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    from dagster_project.paths import settings

    return settings()


def materialise():
    return dg.materialize(ingest_assets, resources={"warehouse": WarehouseResource()}, raise_on_error=True)


def checks_of(result) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    return {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in result.get_asset_check_evaluations()
    }


def metadata_of(result, key: str) -> dict:
    for m in result.get_asset_materialization_events():
        if m.asset_key.to_user_string() == key:
            return {k: v.value for k, v in m.materialization.metadata.items()}
    raise KeyError(key)


def test_sample_loads_with_every_file_accounted_and_planted_rejects_reported(sample_loaded, loaded_env):
    truth = json.loads((loaded_env.raw_dir / "ground_truth.json").read_text(encoding="utf-8"))
    _, result = sample_loaded
    assert result.success
    checks = checks_of(result)
    assert checks[("raw/load_manifest", "every_file_accounted")].passed
    assert checks[("raw/load_manifest", "rows_in_equal_loaded_plus_rejected")].passed
    for family in ("registry", "budget", "debt", "trading", "portal"):
        assert checks[(f"raw/{family}", "row_accounting_balanced")].passed
    # the planted corrupt workbook makes its family's warning check fail, and only that family's
    rejected_families = {f["source_file"].split("/")[0] for f in truth["ingest"]["rejected_files"]}
    for family in ("registry", "budget", "debt", "trading", "portal"):
        check = checks[(f"raw/{family}", "no_rejected_files")]
        assert check.passed == (family not in rejected_families)
        assert check.severity == dg.AssetCheckSeverity.WARN
    trading = metadata_of(result, "raw/trading")
    assert trading["duplicate_rows"] == len(truth["ingest"]["duplicate_rows"])
    with duckdb.connect(str(loaded_env.warehouse), read_only=True) as con:
        row_rejects = con.execute(
            "SELECT count(*) FROM raw.load_rejects WHERE source_row IS NOT NULL").fetchone()[0]
    assert row_rejects >= len(truth["ingest"]["rejected_rows"]) > 0


def test_rerun_with_unchanged_files_loads_nothing(loaded_env):
    # the module's first load (sample_loaded) done: this is the second
    with duckdb.connect(str(loaded_env.warehouse), read_only=True) as con:
        before = con.execute("SELECT count(*), sum(rows_loaded) FROM raw.load_files").fetchone()
    again = materialise()
    for family in ("registry", "budget", "debt", "trading", "portal"):
        meta = metadata_of(again, f"raw/{family}")
        assert meta["files_loaded"] == 0 and meta["files_unchanged"] > 0
    with duckdb.connect(str(loaded_env.warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*), sum(rows_loaded) FROM raw.load_files").fetchone() == before


def test_sensor_requests_a_run_only_when_the_raw_root_changes(sample_env):
    sensor = build_raw_root_sensor("gongkai_all")
    with dg.instance_for_test() as instance:
        first = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=None))
        assert len(first.run_requests) == 1
        cursor = first.cursor
        same = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor))
        assert not same.run_requests and same.skip_message
        (sample_env.raw_dir / "portal" / "publications_extra.csv").write_text(
            "publisher_code,publisher_name,column,title,published_at,url,attachment\n", encoding="utf-8")
        changed = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor))
        assert len(changed.run_requests) == 1 and changed.cursor != cursor
