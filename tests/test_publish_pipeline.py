"""End to end: the bundled-sample generator → the whole Dagster job → a published, private release."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from dagster_project import identifiers
from dagster_project.paths import DBT_PROJECT_DIR, REPO_ROOT
from dagster_project.publish import atomic
from dagster_project.publish.release import verify_sha256sums
from dagster_project.publish.warehouse import find_relation


@pytest.mark.slow
def test_whole_job_publishes_a_private_release(tmp_path):
    env = dict(os.environ, GONGKAI_RAW_DIR=str(tmp_path / "raw"), GONGKAI_WAREHOUSE=str(tmp_path / "gongkai.duckdb"),
               GONGKAI_OUT_DIR=str(tmp_path / "out"), GONGKAI_AS_OF="2020-06-30",
               DAGSTER_HOME=str(tmp_path / "dagster_home"))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    (tmp_path / "dagster_home").mkdir()
    run = lambda *args: subprocess.run([sys.executable, "-m", *args], cwd=REPO_ROOT, env=env,  # noqa: E731
                                       capture_output=True, text=True, timeout=900)
    gen = run("dagster_project.sample", "--seed", "20181", "--scale", "1", "--years", "2017-2019",
              "--out", str(tmp_path / "raw"))
    assert gen.returncode == 0, gen.stderr[-2000:]
    if not (DBT_PROJECT_DIR / "target" / "manifest.json").exists():
        assert run("dagster_project.cli", "prepare").returncode == 0
    job = run("dagster_project.cli", "run")
    assert job.returncode == 0, (job.stdout + job.stderr)[-4000:]

    root = tmp_path / "out" / "open-data"
    folder = atomic.current_release_dir(root)
    assert folder is not None and verify_sha256sums(folder) == []
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    con = duckdb.connect(str(tmp_path / "gongkai.duckdb"), read_only=True)
    try:
        raw_text = "\n".join(" ".join(str(v) for v in r) for r in con.execute(
            "SELECT notice_name, notice_content, contact_phone, pm_code FROM raw.trading_bulletins").fetchall())
        bulletins = con.execute(f"SELECT count(*) FROM {find_relation(con, 'fct_trading_bulletins')}").fetchone()[0]
    finally:
        con.close()
    assert identifiers.find_id_numbers(raw_text)  # the sample plants personal data …
    assert manifest["datasets"]["trading_bulletins"]["rows"] == bulletins
    published = (folder / "data" / "trading_bulletins.csv").read_text(encoding="utf-8-sig")
    assert identifiers.find_id_numbers(published) == []  # … and none of it is published
    con = duckdb.connect()
    try:
        free_text = "\n".join(" ".join(str(v) for v in r) for r in con.execute(
            f"SELECT notice_name, notice_content, contact_phone FROM read_csv('{folder / 'data' / 'trading_bulletins.csv'}', "
            "header = true, all_varchar = true)").fetchall())
    finally:
        con.close()
    assert identifiers.find_mobiles(free_text) == []
    assert sorted(p.name for p in (folder / "ocds").iterdir())
    assert (tmp_path / "out" / "dashboards" / "index.html").exists()
