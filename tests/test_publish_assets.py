"""The publish assets materialised by Dagster against fixture marts (paths from GONGKAI_* settings)."""
from __future__ import annotations

import dagster as dg
import pytest

from dagster_project.publish import atomic
from dagster_project.publish.assets import DASHBOARDS_KEY, OCDS_KEY, RELEASE_KEY, dashboards, ocds, open_data_release
from test_publish_support import build_fixture_warehouse


@pytest.fixture
def fixture_env(tmp_path, monkeypatch):
    """Fixture marts in a fresh warehouse, with the GONGKAI_* settings pointing at it; (warehouse, out)."""
    warehouse = tmp_path / "gongkai.duckdb"
    out = tmp_path / "out"
    monkeypatch.setenv("GONGKAI_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("GONGKAI_OUT_DIR", str(out))
    monkeypatch.setenv("GONGKAI_RAW_DIR", str(tmp_path / "raw"))
    build_fixture_warehouse(warehouse)
    return warehouse, out


def test_publish_assets_materialise_with_metadata(fixture_env):
    warehouse, out = fixture_env

    result = dg.materialize([ocds, open_data_release, dashboards], instance=dg.DagsterInstance.ephemeral())
    assert result.success
    materializations = [e.event_specific_data.materialization for e in result.get_asset_materialization_events()]
    meta = {m.asset_key: m.metadata for m in materializations}
    release_id = atomic.read_pointer(out / "open-data")
    assert meta[RELEASE_KEY]["release_id"].value == release_id
    rows = meta[RELEASE_KEY]["rows"].value
    assert rows["trading_bulletins"] == meta[OCDS_KEY]["releases"].value
    assert (out / "open-data" / release_id / "ocds").is_dir()  # the OCDS build went into the release
    assert meta[RELEASE_KEY]["bytes"].value > 0
    assert set(meta[DASHBOARDS_KEY]["pages"].value) >= {"disclosure_compliance", "procurement_competition"}
    # asset specs: the pool and the upstream marts/findings the brief fixes
    spec = {s.key: s for s in open_data_release.specs}[RELEASE_KEY]
    assert dg.AssetKey(["quality", "findings"]) in {d.asset_key for d in spec.deps}
    assert "fct_budget_lines" in {d.asset_key.path[-1] for d in spec.deps}
    assert open_data_release.op.pool == "duckdb"


def test_unchanged_inputs_keep_the_current_release(fixture_env):
    import duckdb

    from dagster_project import stage_state

    warehouse, out = fixture_env

    def set_dbt_state(value: str) -> None:
        con = duckdb.connect(str(warehouse))
        try:
            stage_state.record(con, "dbt", value)
        finally:
            con.close()

    def release_meta(result):
        for e in result.get_asset_materialization_events():
            if e.asset_key == RELEASE_KEY:
                return e.event_specific_data.materialization.metadata
        raise KeyError(RELEASE_KEY)

    set_dbt_state("marts-v1")
    assets = [ocds, open_data_release]
    first = dg.materialize(assets, instance=dg.DagsterInstance.ephemeral())
    first_id = atomic.read_pointer(out / "open-data")
    assert first.success and "skipped" not in release_meta(first)
    second = dg.materialize(assets, instance=dg.DagsterInstance.ephemeral())
    assert second.success and "skipped" in release_meta(second)
    assert atomic.read_pointer(out / "open-data") == first_id
    set_dbt_state("marts-v2")  # the marts were rebuilt from changed inputs that changed no row (a re-read)
    third = dg.materialize(assets, instance=dg.DagsterInstance.ephemeral())
    assert third.success and release_meta(third)["skipped"].value == "content identical 发布内容未变化"
    assert atomic.read_pointer(out / "open-data") == first_id
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("UPDATE main_marts.fct_budget_lines SET amount_yuan = amount_yuan + 1 WHERE fiscal_year = 2018")
    finally:
        con.close()
    set_dbt_state("marts-v3")  # rebuilt, and a figure changed
    fourth = dg.materialize(assets, instance=dg.DagsterInstance.ephemeral())
    assert fourth.success and "skipped" not in release_meta(fourth)
    assert atomic.read_pointer(out / "open-data") != first_id
