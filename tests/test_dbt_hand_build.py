"""A ``dbt build``/``dbt run`` by hand between two pipeline runs (``transform/generations.py``, ``build_marks.sql``).

Carried publications and quality results trust that a relation changes only through Dagster's dbt asset, which moves
its generation before the build and records the build after it. A hand run does neither: before the post-hook that
records each relation's dbt invocation, the next publication read a fingerprint kept for the old rows (the release
part, dashboard page or OCDS package carried with rows the marts no longer hold) and quality carried its results.
Here: a registry region renamed in the raw table behind the pipeline's back, ``dbt run`` by hand on the two relations
it feeds — the kept fingerprint is not served, the quality carry is off, the dbt asset would build whole; once the
asset adopts its own invocation, what it built is trusted again.
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from dagster_project.paths import DBT_PROJECT_DIR, REPO_ROOT
from dagster_project.publish.inputs import _dbt_build
from dagster_project.quality.carry import quality_fingerprint
from dagster_project.relation_fingerprint import RelationFingerprints
from dagster_project.transform import generations
from test_publish_support import kept_fingerprint

AS_OF = dt.date(2026, 12, 6)
RELATIONS = ("stg_registry__regions", "dim_region")


def _read(warehouse: Path, fn):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return fn(con)
    finally:
        con.close()


@pytest.fixture
def built_copy(sample_built, tmp_path, monkeypatch):
    """A copy of the sample warehouse recorded as built by the asset (its dbt target is no longer beside it since
    sample_built is built once per test run: a hand run parses into a target of its own)."""
    from dagster_project.transform.assets import record_whole_build

    source, _, env = sample_built
    warehouse = tmp_path / "w.duckdb"
    shutil.copyfile(source, warehouse)
    monkeypatch.delenv("GONGKAI_NO_CARRY", raising=False)
    for key in ("GONGKAI_RAW_DIR", "GONGKAI_OUT_DIR", "GONGKAI_AS_OF"):
        if key in env:
            monkeypatch.setenv(key, env[key])
    monkeypatch.setenv("GONGKAI_WAREHOUSE", str(warehouse))
    record_whole_build()
    return warehouse, {**env, "GONGKAI_WAREHOUSE": str(warehouse)}


def test_a_hand_dbt_run_is_not_trusted_until_the_asset_builds(built_copy, tmp_path):
    warehouse, env = built_copy
    mart = _read(warehouse, lambda con: con.execute(
        "SELECT table_schema || '.dim_region' FROM information_schema.tables WHERE table_name = 'dim_region'"
    ).fetchone()[0])
    assert _read(warehouse, generations.built_outside) == set()  # the fixture's own build, adopted
    first, computed = kept_fingerprint(warehouse, mart)
    assert computed == {mart} and kept_fingerprint(warehouse, mart) == (first, set())  # kept: the carry works
    assert _read(warehouse, _dbt_build) is not None
    assert quality_fingerprint(warehouse, AS_OF) is not None

    con = duckdb.connect(str(warehouse))
    try:
        code = con.execute("SELECT region_code FROM raw.registry_regions WHERE region_code IS NOT NULL "
                           "ORDER BY region_code LIMIT 1").fetchone()[0]
        con.execute("UPDATE raw.registry_regions SET region_name = region_name || '（手工）' WHERE region_code = ?",
                    [code])
    finally:
        con.close()
    dbt = str(Path(sys.executable).with_name("dbt"))
    result = subprocess.run(
        [dbt, "run", "--select", *RELATIONS, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
         str(DBT_PROJECT_DIR), "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        env=env, capture_output=True, text=True, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stdout[-4000:]
    fresh = _read(warehouse, lambda con: RelationFingerprints(con).of(mart))
    assert fresh != first  # the hand run changed the mart

    # nothing kept for what the hand run wrote is trusted (before: the kept, old fingerprint — the release part and
    # dashboard page reading dim_region carried with the old rows; quality carried its results)
    assert kept_fingerprint(warehouse, mart)[0] == fresh
    assert quality_fingerprint(warehouse, AS_OF) is None
    assert _read(warehouse, generations.built_outside) == set(RELATIONS)
    assert _read(warehouse, lambda con: generations.of(con, ["dim_region"])) is None
    assert _read(warehouse, lambda con: generations.of(con, ["fct_deals"])) is not None  # not written by it
    assert _read(warehouse, _dbt_build) is None

    # the asset's own build (here: its invocation adopted after moving the generations) is trusted again
    invocation = json.loads((tmp_path / "target" / "run_results.json").read_text(encoding="utf-8"))
    con = duckdb.connect(str(warehouse))
    try:
        generations.move(con, RELATIONS)
        generations.adopt(con, invocation["metadata"]["invocation_id"])
    finally:
        con.close()
    assert _read(warehouse, generations.built_outside) == set()
    value, computed = kept_fingerprint(warehouse, mart)
    assert value == fresh and computed == {mart}
    assert kept_fingerprint(warehouse, mart) == (fresh, set())
