"""The quality report, exports, run-to-run change, and the Dagster asset with its per-suite checks."""
from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from openpyxl import load_workbook

from dagster_project.quality.runner import run_quality
from test_quality_rules import build_fixture_warehouse

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    warehouse, out = root / "w.duckdb", root / "out"
    build_fixture_warehouse(warehouse)
    first = run_quality(warehouse, out)
    second = run_quality(warehouse, out)
    # keep the identical-run page for the tests below before a third run changes it
    shutil.copytree(out / "quality", root / "after_second_run")
    return warehouse, root / "after_second_run", first, second, out


def _count(warehouse: Path, sql: str, params=()) -> int:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchone()[0]
    finally:
        con.close()


def test_tables_are_appended_per_run(two_runs):
    warehouse, _, first, second, _ = two_runs
    assert first.run_id != second.run_id
    per_run = [_count(warehouse, "select count(*) from quality.findings where run_id = ?", [r.run_id]) for r in (first, second)]
    assert per_run[0] == per_run[1] > 0
    assert _count(warehouse, "select count(*) from quality.findings") == sum(per_run)
    assert _count(warehouse, "select count(distinct run_id) from quality.check_runs") == 2


def test_second_identical_run_reports_no_change(two_runs):
    _, quality_dir, _, second, _ = two_runs
    page = (quality_dir / "index.html").read_text(encoding="utf-8")
    assert "no change since last run" in page
    assert second.run_id in page


def test_exports_hold_every_finding_row(two_runs):
    warehouse, quality_dir, _, second, _ = two_runs
    n = _count(warehouse, "select count(*) from quality.findings where run_id = ?", [second.run_id])
    raw = (quality_dir / "findings.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Chinese correctly
    with (quality_dir / "findings.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) == n + 1
    ws = load_workbook(quality_dir / "findings.xlsx", read_only=True).worksheets[0]
    assert sum(1 for _ in ws.iter_rows()) == n + 1


def test_report_is_self_contained(two_runs):
    _, quality_dir, _, _, _ = two_runs
    page = (quality_dir / "index.html").read_text(encoding="utf-8")
    assert "<script src" not in page and "<link" not in page and "cdn" not in page.lower()
    for label in ("已公开", "按时", "细化", "一致", "隐私安全"):
        assert label in page
    from dagster_project.quality.report import dashboard_links

    for name, _ in dashboard_links():  # written later by publication, linked from the start
        assert f'href="../dashboards/{name}.html"' in page


def test_fixing_a_defect_shows_as_fixed(two_runs):
    warehouse, _, _, second, out = two_runs
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("update marts.fct_disclosure_status set status = 'on_time', days_late = null where status = 'late'")
        fixed = {r[0] for r in con.execute(
            "select distinct finding_key from quality.findings where run_id = ? and rule_id = 'DISC_LATE'", [second.run_id]).fetchall()}
    finally:
        con.close()
    assert fixed
    third = run_quality(warehouse, out)
    page = (out / "quality" / "index.html").read_text(encoding="utf-8")
    assert f"已解决 fixed {len(fixed)}" in page and "新增 new 0" in page
    assert "no change since last run" not in page
    assert third.integrity_ok


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt package chromium)")
def test_report_renders_in_headless_chromium(two_runs, tmp_path):
    warehouse, quality_dir, _, second, _ = two_runs
    index = quality_dir / "index.html"
    args = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(args + ["--dump-dom", index.as_uri()], capture_output=True, text=True, timeout=120, check=True).stdout
    assert 'id="scorecard"' in dom
    some_finding = duckdb.connect(str(warehouse), read_only=True)
    try:
        object_key, source_file = some_finding.execute(
            "select object_key, source_file from quality.findings where run_id = ? and rule_id = 'DISC_MISSING' limit 1",
            [second.run_id]).fetchone()
    finally:
        some_finding.close()
    assert object_key in dom and 'class="finding"' in dom
    shot = tmp_path / "report.png"
    subprocess.run(args + [f"--screenshot={shot}", "--window-size=1280,2000", index.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert shot.exists() and shot.stat().st_size > 10_000


def _materialize(warehouse: Path, out: Path, monkeypatch):
    monkeypatch.setenv("GONGKAI_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("GONGKAI_OUT_DIR", str(out))
    from dagster_project.quality.assets import quality_findings

    return dg.materialize([quality_findings], raise_on_error=False)


def _checks(result) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def test_asset_warns_on_compliance_and_passes_integrity(tmp_path, monkeypatch):
    warehouse = tmp_path / "w.duckdb"
    build_fixture_warehouse(warehouse)
    result = _materialize(warehouse, tmp_path / "out", monkeypatch)
    assert result.success
    checks = _checks(result)
    assert checks["suite_integrity"].passed
    assert not checks["suite_disclosure"].passed
    assert checks["suite_disclosure"].severity == dg.AssetCheckSeverity.WARN
    meta = checks["suite_disclosure"].metadata
    assert meta["failed"].value > 0 and meta["evaluated"].value >= meta["failed"].value


def test_asset_blocks_when_integrity_fails(tmp_path, monkeypatch):
    warehouse = tmp_path / "w.duckdb"
    build_fixture_warehouse(warehouse)
    con = duckdb.connect(str(warehouse))
    try:  # a duplicated deal: the mart key is no longer unique, and a load that does not add up
        con.execute("insert into marts.fct_deals select * from marts.fct_deals limit 1")
        con.execute("update raw.load_files set rows_loaded = rows_loaded + 1 where source_file = 'budget/a.xlsx'")
        # dbt measured one rule against a threshold that is not the catalogue's
        con.execute("update intermediate.int_deal_timelines_evaluated set threshold = threshold + 1 "
                    "where rule_id = 'TRADE_CONTRACT_SIGN_LATE' and deal_key = 'P1/1'")
    finally:
        con.close()
    result = _materialize(warehouse, tmp_path / "out", monkeypatch)
    checks = _checks(result)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        failing = {r[0] for r in con.execute(
            "select rule_id from quality.check_runs where kind = 'integrity' and status <> 'passed'").fetchall()}
    finally:
        con.close()
    assert failing == {"INTEG_KEY_UNIQUE", "INTEG_LOAD_ACCOUNTING", "INTEG_THRESHOLD_AGREES"}
    assert not checks["suite_integrity"].passed
    assert checks["suite_integrity"].severity == dg.AssetCheckSeverity.ERROR
    assert not result.success  # blocking: publication downstream does not run
