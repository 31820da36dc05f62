"""The benchmark harness runs end to end at a tiny scale, so it cannot rot.

It measures nothing worth keeping: it checks that every pipeline stage, the floor and both re-runs
(unchanged, one more fiscal year) ran through their real entry points and that the results file has the shape RESULTS.md is written from.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from dagster_project.paths import REPO_ROOT


@pytest.mark.slow
def test_harness_runs_pipeline_and_floor_at_tiny_scale(tmp_path):
    results = tmp_path / "results.json"
    # the harness in a session of its own: on a timeout its Dagster children go with it, none is left running
    proc = subprocess.Popen(
        # one fiscal year (the new-year scenario adds the next): every stage and scenario runs, at the least
        # cost the suite can pay for them
        [sys.executable, str(REPO_ROOT / "benchmarks" / "run.py"), "--scales", "0.1", "--repeats", "1",
         "--years", "2019-2019", "--work", str(tmp_path / "work"), "--out", str(results)],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        # a generous bound: the harness starts seven Dagster processes, and on a loaded machine each is slow
        stdout, stderr = proc.communicate(timeout=1800)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        pytest.fail("the harness ran past 30 minutes: " + stdout[-2000:] + stderr[-2000:])
    assert proc.returncode == 0, stdout[-3000:] + stderr[-3000:]
    data = json.loads(results.read_text(encoding="utf-8"))
    assert data["machine"]["cores"] >= 1 and data["machine"]["versions"]["duckdb"]
    stages = {(r["variant"], r["stage"]) for r in data["summary"]}
    for stage in ("ingest", "dbt", "quality", "publish"):
        assert ("pipeline", stage) in stages
    for stage in ("read", "standardise", "timeline", "rules", "disclosure", "parquet", "total",
                  # the equal-work floor: the same published datasets, written by hand
                  "publish_mask", "publish_parquet", "publish_csv", "publish_ocds", "publish_checksums"):
        assert ("floor", stage) in stages
    # the re-runs go through the main job in one process; its stages come from Dagster's step statistics
    for variant in ("pipeline_unchanged", "pipeline_revised_workbook", "pipeline_new_year"):
        for stage in ("ingest", "dbt", "quality", "publish", "total"):
            assert (variant, stage) in stages, (variant, stage)
    raw = tmp_path / "work" / "raw-0.1"
    assert not list(raw.glob("*/added_*")), "the added year is removed after the new-year run"
    assert not list((tmp_path / "work").glob("revised-*/*.xlsx")), "the re-published workbook is put back"
    rows = {r["rows"] for r in data["summary"]}
    assert rows and min(rows) > 0  # trading rows came from the generated ground truth
    assert all(r["ok"] for r in data["summary"])
    assert all(r["peak_rss_mib"] > 0 for r in data["summary"])
