"""The dbt project as Dagster assets: grouping, lineage to the ingest assets, checks, pool, and a real
materialisation through DbtCliResource with the settings' environment."""
from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.paths import DBT_PROJECT_DIR, REPO_ROOT

DBT = str(Path(sys.executable).with_name("dbt"))


@pytest.fixture(scope="module")
def transform_assets():
    """Import the assets module the way the code location does: after `dbt parse` made the manifest."""
    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    if not manifest.is_file():
        subprocess.run([DBT, "parse", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)],
                       check=True, capture_output=True, cwd=REPO_ROOT, env={"GONGKAI_WAREHOUSE": "/tmp/parse.duckdb",
                                                                             "PATH": str(Path(DBT).parent)})
    return importlib.import_module("dagster_project.transform.assets")


def test_missing_manifest_fails_with_instructions(tmp_path):
    from dagster_dbt import DbtProject

    from dagster_project.transform.dbt_project import require_manifest

    (tmp_path / "dbt_project.yml").write_text("name: empty\nversion: '1'\nconfig-version: 2\nprofile: empty\n")
    with pytest.raises(FileNotFoundError, match="dbt parse|parse --project-dir"):
        require_manifest(DbtProject(project_dir=tmp_path, profiles_dir=tmp_path))


def test_groups_follow_dbt_folders(transform_assets):
    specs = list(transform_assets.gongkai_dbt.specs)
    groups = {spec.key.to_user_string(): spec.group_name for spec in specs}
    assert set(groups.values()) == {"seeds", "staging", "intermediate", "marts"}
    models = {p.stem: p.relative_to(DBT_PROJECT_DIR / "models").parts[0]
              for p in (DBT_PROJECT_DIR / "models").rglob("*.sql")}
    seeds = {p.stem for p in (DBT_PROJECT_DIR / "seeds").rglob("*.csv")}
    assert {k: v for k, v in groups.items() if v != "seeds"} == models
    assert {k for k, v in groups.items() if v == "seeds"} == seeds


def test_sources_depend_on_ingest_assets_and_tests_are_checks(transform_assets):
    from dagster_project.ingest.assets import ingest_assets

    ingest_keys = {key for a in ingest_assets for key in a.keys}
    deps = {dep.asset_key for spec in transform_assets.gongkai_dbt.specs for dep in spec.deps}
    raw_deps = {key for key in deps if key.path[0] == "raw"}
    assert raw_deps == {dg.AssetKey(["raw", f]) for f in ("budget", "debt", "trading", "registry", "portal", "load_manifest")}
    assert raw_deps <= ingest_keys
    checks = {(c.asset_key.to_user_string(), c.name) for c in transform_assets.gongkai_dbt.check_specs}
    assert any(a == "fct_disclosure_status" and "unique_combination" in n for a, n in checks)
    assert any(a == "fct_deals" and n.startswith("unique_") for a, n in checks)
    assert transform_assets.gongkai_dbt.op.pool == "duckdb"


@pytest.mark.slow
def test_materialise_through_dagster_uses_the_settings_environment(transform_assets, tmp_path, monkeypatch):
    sys.path.insert(0, str(Path(__file__).parent))
    from test_dbt_build import AS_OF, load_scenario

    warehouse = tmp_path / "w.duckdb"
    monkeypatch.setenv("GONGKAI_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("GONGKAI_RAW_DIR", str(tmp_path / "raw"))
    monkeypatch.setenv("GONGKAI_OUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("GONGKAI_AS_OF", AS_OF.isoformat())
    con = duckdb.connect(str(warehouse))
    try:
        load_scenario(con)
    finally:
        con.close()
    result = dg.materialize(
        [transform_assets.gongkai_dbt],
        resources={"dbt": transform_assets.dbt_resource},
        selection=dg.AssetSelection.assets("fct_disclosure_status").upstream(),
    )
    assert result.success
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        (as_of,) = con.execute("select distinct as_of_date from marts.fct_disclosure_status").fetchone()
    finally:
        con.close()
    assert as_of == AS_OF  # GONGKAI_AS_OF reached dbt through the settings' environment
    materialised = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "fct_disclosure_status" in materialised
