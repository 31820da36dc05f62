"""The benchmark harness runs end to end at a tiny scale, so it cannot rot.

It measures nothing worth keeping: it checks that every pipeline stage, the floor and a re-run of the main job ran
through their real entry points and that the results file has the shape RESULTS.md is written from. The re-runs
differ from one another only in what they do to the raw root before the main job runs again (the product's side of
a changed figure and of a new year is proved by test_dbt_republished_workbook and test_incremental_build): the harness
runs one of them here, and the raw root each of the three sees, and the root left afterwards, are checked on the
harness's own generated root with the harness's own functions.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from dagster_project.paths import REPO_ROOT


def _harness_module():
    """benchmarks/run.py as a module of its own name (``run`` is too common a name to put on sys.path)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("benchmarks_run", REPO_ROOT / "benchmarks" / "run.py")
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)   # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


_run = _harness_module()
RERUNS, StageResult, rerun = _run.RERUNS, _run.StageResult, _run.rerun

SCALE, YEARS, SEED = 0.1, "2019-2019", 7


@pytest.fixture(scope="module")
def harness(tmp_path_factory) -> tuple[Path, dict]:
    tmp = tmp_path_factory.mktemp("harness")
    results = tmp / "results.json"
    # the harness in a session of its own: on a timeout its Dagster children go with it, none is left running
    proc = subprocess.Popen(
        # one fiscal year and one re-run: every stage runs, and the re-run's path, at the least cost the suite can
        # pay for them
        [sys.executable, str(REPO_ROOT / "benchmarks" / "run.py"), "--scales", str(SCALE), "--repeats", "1",
         "--years", YEARS, "--seed", str(SEED), "--reruns", "unchanged", "--work", str(tmp / "work"),
         "--out", str(results)],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        # a generous bound: the harness starts five Dagster processes, and on a loaded machine each is slow
        stdout, stderr = proc.communicate(timeout=1800)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        pytest.fail("the harness ran past 30 minutes: " + stdout[-2000:] + stderr[-2000:])
    assert proc.returncode == 0, stdout[-3000:] + stderr[-3000:]
    return tmp / "work", json.loads(results.read_text(encoding="utf-8"))


@pytest.mark.slow
def test_harness_runs_pipeline_floor_and_a_rerun_at_tiny_scale(harness):
    _, data = harness
    assert data["machine"]["cores"] >= 1 and data["machine"]["versions"]["duckdb"]
    assert data["generation"] == {"years": YEARS, "seed": SEED, "scales": [SCALE]}
    stages = {(r["variant"], r["stage"]) for r in data["summary"]}
    for stage in ("ingest", "dbt", "quality", "publish"):
        assert ("pipeline", stage) in stages
    for stage in ("read", "standardise", "timeline", "rules", "disclosure", "parquet", "total",
                  # the equal-work floor: the same published datasets, written by hand
                  "publish_mask", "publish_parquet", "publish_csv", "publish_ocds", "publish_checksums"):
        assert ("floor", stage) in stages
    # the re-run goes through the main job in one process; its stages come from Dagster's step statistics
    for stage in ("ingest", "dbt", "quality", "publish", "total"):
        assert ("pipeline_unchanged", stage) in stages, stage
    assert {v for v, _ in stages} == {"pipeline", "floor", "pipeline_unchanged"}  # only the re-run asked for
    rows = {r["rows"] for r in data["summary"]}
    assert rows and min(rows) > 0  # trading rows came from the generated ground truth
    assert all(r["ok"] for r in data["summary"])
    assert all(r["peak_rss_mib"] > 0 for r in data["summary"])


def _snapshot(raw: Path) -> dict[str, bytes]:
    return {p.relative_to(raw).as_posix(): p.read_bytes() for p in sorted(raw.rglob("*")) if p.is_file()}


def _digest(files: dict[str, bytes]) -> dict[str, str]:
    return {k: hashlib.sha256(v).hexdigest() for k, v in files.items()}


def _cells(content: bytes) -> dict[tuple[str, str], object]:
    book = load_workbook(io.BytesIO(content))
    return {(ws.title, c.coordinate): c.value for ws in book.worksheets for row in ws.iter_rows() for c in row
            if c.value is not None}


class RootSeen:
    """Stands in for the main job's process (which the harness fixture runs for real): records the raw root each
    re-run would read, and fails the run named ``fail``."""

    def __init__(self, fail: str | None = None):
        self.seen: dict[str, dict[str, bytes]] = {}
        self.fail = fail

    def __call__(self, raw, work, scale, variant, repeat, rows) -> list[StageResult]:
        self.seen[variant] = _snapshot(raw)
        if variant == self.fail:
            raise RuntimeError(f"{variant} failed")
        return [StageResult(scale, variant, "total", repeat, 1.0, 1.0, rows, 0)]


@pytest.fixture
def raw(harness, tmp_path) -> Path:
    """A copy of the harness's generated raw root (its own bytes, never links to the harness's files)."""
    work, _ = harness
    copy = tmp_path / "raw"
    shutil.copytree(work / f"raw-{SCALE:g}", copy)
    return copy


def test_each_rerun_sees_its_change_and_the_root_is_put_back(raw, tmp_path):
    before = _snapshot(raw)
    runs, recorded = RootSeen(), []
    rerun(raw, tmp_path / "work", SCALE, YEARS, SEED, 5, list(RERUNS), recorded.extend, run=runs)
    assert [r.variant for r in recorded] == ["pipeline_unchanged", "pipeline_revised_workbook", "pipeline_new_year"]
    assert runs.seen["pipeline_unchanged"] == before
    # one figure of one budget workbook, one unit higher; nothing else
    revised = runs.seen["pipeline_revised_workbook"]
    changed = [k for k in before if revised[k] != before[k]]
    assert set(revised) == set(before) and len(changed) == 1 and changed[0].startswith("budget/"), changed
    old, new = _cells(before[changed[0]]), _cells(revised[changed[0]])
    moved = {k: (old[k], new[k]) for k in old if new.get(k) != old[k]}
    assert set(new) == set(old) and len(moved) == 1 and [n - o for o, n in moved.values()] == [1], moved
    # the new year: the revised root and one generated year of every family, in added_2020 folders
    new_year = runs.seen["pipeline_new_year"]
    assert {k: v for k, v in new_year.items() if k in before} == revised
    added = set(new_year) - set(before)
    assert added and all(k.split("/")[1] == "added_2020" for k in added), sorted(added)[:5]
    assert {k.split("/")[0] for k in added} >= {"budget", "debt", "trading", "portal"}
    assert not any(k.endswith("ground_truth.json") for k in added)
    # put back as generated, the workbook's backup gone
    assert _digest(_snapshot(raw)) == _digest(before)
    assert not list((tmp_path / "work").glob("revised-*/*.xlsx"))


def test_a_rerun_alone_sees_only_its_change_and_a_failed_one_leaves_the_root_put_back(raw, tmp_path):
    before = _snapshot(raw)
    runs, recorded = RootSeen(), []
    rerun(raw, tmp_path / "alone", SCALE, YEARS, SEED, 5, ["new_year"], recorded.extend, run=runs)
    assert [r.variant for r in recorded] == ["pipeline_new_year"]
    seen = runs.seen["pipeline_new_year"]
    assert {k: v for k, v in seen.items() if k in before} == before and set(seen) > set(before)  # the year only
    assert _digest(_snapshot(raw)) == _digest(before)
    failing = RootSeen(fail="pipeline_revised_workbook")
    with pytest.raises(RuntimeError, match="pipeline_revised_workbook failed"):
        rerun(raw, tmp_path / "failing", SCALE, YEARS, SEED, 5, list(RERUNS), recorded.extend, run=failing)
    assert failing.seen["pipeline_revised_workbook"] != before
    assert _digest(_snapshot(raw)) == _digest(before)


def test_the_state_a_new_year_starts_from_is_kept_with_its_links(raw, tmp_path):
    """``--keep-before-new-year``: the warehouse's work folder and the raw root as the new year finds them (the revised
    workbook in, the added year not yet), copied so that a release's carried parts stay hard links of one another."""
    work = tmp_path / "work"
    out = work / f"pipe-{SCALE:g}" / "out"
    out.mkdir(parents=True)
    (out / "part-2019.csv").write_text("code\n1\n", encoding="utf-8")
    os.link(out / "part-2019.csv", out / "carried-2019.csv")  # a carried part: one file, two names
    runs, kept = RootSeen(), tmp_path / "kept"
    rerun(raw, work, SCALE, YEARS, SEED, 5, ["revised_workbook", "new_year"], [].extend, run=runs,
          keep_before_new_year=kept)
    assert _snapshot(kept / "raw") == runs.seen["pipeline_revised_workbook"]
    assert _snapshot(kept / "raw") != runs.seen["pipeline_new_year"]
    copied = kept / "pipe" / "out"
    assert (copied / "part-2019.csv").read_text(encoding="utf-8") == "code\n1\n"
    assert os.stat(copied / "part-2019.csv").st_ino == os.stat(copied / "carried-2019.csv").st_ino
    assert os.stat(copied / "part-2019.csv").st_ino != os.stat(out / "part-2019.csv").st_ino  # a copy, not the file
