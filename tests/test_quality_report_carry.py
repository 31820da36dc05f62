"""A carried quality run's report from the source run's files (``quality/report_carry.py``): the same files a whole
write gives, without masking or rendering the findings again; written whole when the files are not the source's."""
from __future__ import annotations

import dataclasses
import filecmp
import shutil

import duckdb
import pytest
from openpyxl import load_workbook

from dagster_project.quality import report
from dagster_project.quality.carry import carry_previous_run
from dagster_project.quality.report_carry import RECORD, carry_reports
from dagster_project.quality.runner import run_quality
from dagster_project.quality.suites import load_suites
from test_quality_rules import build_fixture_warehouse

FINGERPRINT = "inputs judged by the source run"
FILES = ("index.html", "findings.csv", "rejects.csv")


def _suites():
    """The suites whose relations the fixture warehouse holds (a run with an errored expectation is never carried)."""
    absent = {"intermediate.int_narrative_checks", "intermediate.int_sheets_resolved", "marts.fct_revisions",
              "intermediate.int_sheet_duplicates", "intermediate.int_records_quarantined",
              "intermediate.int_registry_conflicts", "intermediate.int_registry_references_unresolved",
              "intermediate.int_values_unreadable"}
    return [s for s in load_suites() if not {t for e in s.expectations for t in e.tables()} & absent]


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    root = tmp_path_factory.mktemp("report_carry")
    warehouse, out = root / "w.duckdb", root / "out"
    build_fixture_warehouse(warehouse)
    run = run_quality(warehouse, out, suites=_suites(), inputs_fingerprint=FINGERPRINT)
    assert run.outcomes and all(o.status != "error" for o in run.outcomes)
    return root, run


def _copy(source, tmp_path):
    root, run = source
    warehouse, out = tmp_path / "w.duckdb", tmp_path / "out"
    shutil.copy(root / "w.duckdb", warehouse)
    shutil.copytree(root / "out", out)
    return warehouse, out, run


def _cells(path):
    return [[c.value for c in row] for row in load_workbook(path).active.iter_rows()]


def _whole_write(warehouse, run, quality_dir, target):
    """The report a whole write gives for ``run`` (the files of ``quality_dir`` left as they are)."""
    shutil.copytree(quality_dir / "gx_data_docs", target / "gx_data_docs")
    con = duckdb.connect(str(warehouse))
    try:
        report.write_reports(con, dataclasses.replace(run, data_docs_index=target / "gx_data_docs" / "index.html"),
                             _suites(), target)
    finally:
        con.close()


def test_carried_report_is_the_whole_write_without_rendering_the_findings(source, tmp_path, monkeypatch):
    warehouse, out, first = _copy(source, tmp_path)
    quality_dir = out / "quality"
    rendered = []
    body, exports = report.render_body, report.write_exports
    monkeypatch.setattr(report, "render_body", lambda *a, **k: rendered.append("body") or body(*a, **k))
    monkeypatch.setattr(report, "write_exports", lambda *a, **k: rendered.append("exports") or exports(*a, **k))
    carried = carry_previous_run(warehouse, out, _suites(), FINGERPRINT)
    again = carry_previous_run(warehouse, out, _suites(), FINGERPRINT)  # a carried run carried in turn
    assert carried.carried_from_run == first.run_id and again.carried_from_run == carried.run_id
    assert rendered == []  # neither the findings' page body nor the masked export cells were made again
    monkeypatch.setattr(report, "render_body", body)
    monkeypatch.setattr(report, "write_exports", exports)
    fresh = tmp_path / "fresh"
    _whole_write(warehouse, again, quality_dir, fresh)
    for name in FILES:
        assert filecmp.cmp(quality_dir / name, fresh / name, shallow=False), name
    rows = _cells(quality_dir / "findings.xlsx")
    assert rows == _cells(fresh / "findings.xlsx") and len(rows) > 1
    assert {r[0] for r in rows[1:]} == {again.run_id}
    page = (quality_dir / "index.html").read_text(encoding="utf-8")
    assert f"Results carried from run <code>{carried.run_id}</code>" in page and first.run_id not in page


def test_files_not_the_source_runs_are_written_whole(source, tmp_path):
    warehouse, out, first = _copy(source, tmp_path)
    quality_dir = out / "quality"
    with (quality_dir / "findings.csv").open("a", encoding="utf-8") as fh:
        fh.write("edited by hand\n")
    con = duckdb.connect(str(warehouse))
    try:
        run = carry_previous_run(warehouse, out, _suites(), FINGERPRINT, write_report=False)
        assert carry_reports(con, run, _suites(), quality_dir, first.run_id) is None  # hash differs
        (quality_dir / RECORD).unlink()
        shutil.copy(source[0] / "out" / "quality" / "findings.csv", quality_dir / "findings.csv")
        assert carry_reports(con, run, _suites(), quality_dir, first.run_id) is None  # no record
    finally:
        con.close()
    carried = carry_previous_run(warehouse, out, _suites(), FINGERPRINT)  # written whole, then recorded
    fresh = tmp_path / "fresh"
    _whole_write(warehouse, carried, quality_dir, fresh)
    for name in FILES:
        assert filecmp.cmp(quality_dir / name, fresh / name, shallow=False), name
    assert "edited by hand" not in (quality_dir / "findings.csv").read_text(encoding="utf-8-sig")
