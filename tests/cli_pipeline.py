"""The whole pipeline run as a person runs it (``python -m dagster_project.cli run``) on a raw root a test wrote, with
a warehouse, output root and Dagster home of the test's own; and a read-only query of the warehouse it left."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from dagster_project.paths import REPO_ROOT
from dbt_fixed_path import fixed_warehouse


# The pipeline up to its findings, as `cli run` runs it (dbt parse, then the main job's assets in one in-process
# Dagster run) but without the publish group: for a run whose test reads only the warehouse (≈ 15 % of a small
# root's run is publishing). `cli run` proves the release goes on; a run like this proves nothing about publishing.
_UNTIL_FINDINGS = f"""
import subprocess, sys
from dagster_project import cli
code = cli.prepare()
if not code:
    code = subprocess.call([str(cli.BIN / "dagster"), "asset", "materialize", "-m", "dagster_project.definitions",
                            "--select", "not group:publish", "--config-json", {json.dumps(json.dumps(
                                {"loggers": {"console": {"config": {"log_level": "INFO"}}}}))}],
                           env=cli._env(), cwd=cli.REPO_ROOT)
sys.exit(code)
"""


def run_cli(root: Path, raw: Path | None = None, publish: bool = True) -> Path:
    """Run the pipeline on ``raw`` (default ``root/raw``) into ``root``; the warehouse's path. Fails the test when the
    run does (a publisher's bad data never should make it). ``publish=False``: everything but the publish group
    (``_UNTIL_FINDINGS``), for a test that reads only the warehouse."""
    (root / "dh").mkdir()
    # one dbt parse state for every run of this test process (dbt_fixed_path.py)
    with fixed_warehouse(root / "warehouse.duckdb") as warehouse:
        env = dict(os.environ, GONGKAI_RAW_DIR=str(raw or root / "raw"), GONGKAI_WAREHOUSE=str(warehouse),
                   GONGKAI_OUT_DIR=str(root / "out"), DAGSTER_HOME=str(root / "dh"))
        cmd = ["-m", "dagster_project.cli", "run"] if publish else ["-c", _UNTIL_FINDINGS]
        done = subprocess.run([sys.executable, *cmd], cwd=REPO_ROOT, env=env,
                              capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return root / "warehouse.duckdb"


def query(warehouse: Path, sql: str, params: list | tuple = ()) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()
