"""Revision history end to end: a department re-publishes its budget workbook with figures quietly changed.

The sample is built once per session (``sample_built``); this module copies its warehouse and raw root, re-saves
one sample workbook with openpyxl (a real xlsx writer) after moving an amount from 项目支出 to 基本支出 in a leaf
line, in each of its parent lines and in the total line (so every row total and the grand total stay as they
were), then loads the changed file through the real loader, rebuilds the revision models with dbt and runs GX.
Expected revisions are derived from the cells changed here, never copied from an output.
"""
from __future__ import annotations

import shutil
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from dagster_project.ingest import framework
from dagster_project.ingest.assets import FAMILY_LOADERS, resolve_loader
from dagster_project.paths import REPO_ROOT
from dbt_fixed_path import run_dbt

pytestmark = pytest.mark.slow
TABLE = "部门支出总表"  # department expenditure by function: total = basic + project on every line
SHIFT_UNITS = Decimal("10")  # in the sheet's unit


def _choose_lines(con, source_file: str) -> tuple[str, list[tuple[int, str | None]]]:
    """A 项 line with basic and project both above the shift, its 款 and 类 lines and the total line."""
    sheet, = con.execute(
        "select sheet from raw.budget_sheets where source_file = ? and table_name = ? and not is_retired",
        [source_file, TABLE]).fetchone()
    rows = con.execute(
        """select source_row, line_code, is_total,
                  max(amount_yuan) filter (where column_key = 'basic') as basic,
                  max(amount_yuan) filter (where column_key = 'project') as project
           from raw.budget_lines where source_file = ? and sheet = ? and not is_retired
           group by all order by source_row""", [source_file, sheet]).fetchall()
    unit = con.execute("select unit_multiplier from raw.budget_sheets where source_file = ? and sheet = ? "
                       "and not is_retired", [source_file, sheet]).fetchone()[0]
    floor = SHIFT_UNITS * unit
    leaf = next(r for r in rows if r[1] and len(r[1]) == 7 and r[3] > floor and r[4] > floor)
    code = leaf[1]
    chosen = [(r[0], r[1]) for r in rows if r[1] in (code[:3], code[:5], code)]
    total = [(r[0], None) for r in rows if r[2] and r[1] is None]
    assert len(chosen) == 3 and len(total) == 1
    return sheet, chosen + total


@pytest.fixture(scope="module")
def republished(sample_built, tmp_path_factory):
    warehouse0, _, env0 = sample_built
    started = time.perf_counter()
    root = tmp_path_factory.mktemp("revisions")
    # named as the sample's: dbt's partial parse carries over from the session's other dbt calls (dbt_fixed_path.py)
    raw, warehouse, out = root / "raw", root / "w" / "warehouse.duckdb", root / "out"
    warehouse.parent.mkdir()
    shutil.copytree(REPO_ROOT / "data" / "raw", raw)
    shutil.copyfile(warehouse0, warehouse)
    source_file = next(p.relative_to(raw).as_posix() for p in sorted((raw / "budget").rglob("*部门预算.xlsx")))
    con = duckdb.connect(str(warehouse))
    try:
        sheet, lines = _choose_lines(con, source_file)
        old_sha = con.execute("select source_sha256 from raw.load_files where source_file = ? and is_current",
                              [source_file]).fetchone()[0]
        columns = dict(con.execute(
            "select column_key, any_value(source_column) from raw.budget_lines where source_file = ? and sheet = ? "
            "and column_key in ('basic', 'project') and not is_retired group by 1", [source_file, sheet]).fetchall())
        unit = con.execute("select unit_multiplier from raw.budget_sheets where source_file = ? and sheet = ? "
                           "and not is_retired", [source_file, sheet]).fetchone()[0]
        old_rows = con.execute("select count(*) from raw.budget_lines where source_file = ?", [source_file]).fetchone()[0]
        wb = load_workbook(raw / source_file)
        ws = wb[sheet]
        expected = {}
        for row, code in lines:
            for key, sign in (("basic", 1), ("project", -1)):
                cell = ws[f"{columns[key]}{row}"]
                old = Decimal(str(cell.value).replace(",", ""))
                new = old + sign * SHIFT_UNITS
                cell.value = float(new)
                expected[(row, key)] = (old * unit, new * unit)
        wb.save(raw / source_file)
        loader = resolve_loader(FAMILY_LOADERS["budget"])
        report = framework.load_family(con, raw, "budget", loader, progress=lambda _: None)
        assert report.loaded == [source_file]
    finally:
        con.close()
    env = {**env0, "GONGKAI_WAREHOUSE": str(warehouse), "GONGKAI_RAW_DIR": str(raw), "GONGKAI_OUT_DIR": str(out)}
    result = run_dbt(["build", "--select", "+fct_revisions", "--exclude", "resource_type:seed"], env, root / "target",
                     root / "logs", unit_tests=False)
    assert result.returncode == 0, result.stdout[-6000:]
    from dagster_project.quality.runner import run_quality

    run = run_quality(warehouse, out)
    print(f"re-published workbook: load + dbt (+fct_revisions) + GX in {time.perf_counter() - started:.1f} s")
    return dict(warehouse=warehouse, out=out, run=run, source_file=source_file, old_sha=old_sha,
                new_sha=framework.sha256_of(raw / source_file), expected=expected, old_rows=old_rows)


def _rows(warehouse: Path, sql: str, params=()) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def test_the_replaced_version_is_kept_superseded(republished):
    r = republished
    kept = _rows(r["warehouse"], "select count(*) from raw.budget_lines where source_file = ? and source_sha256 = ? "
                                 "and is_retired", [r["source_file"], r["old_sha"]])
    assert kept == [(r["old_rows"],)]


def test_changed_figures_are_in_fct_revisions(republished):
    r = republished
    rows = _rows(r["warehouse"], """
        select old_source_row, new_source_row, measure, change_kind, old_amount_yuan, new_amount_yuan,
               old_source_sha256, new_source_sha256, has_correction_note, first_seen_at < last_seen_at
        from marts.fct_revisions where new_source_file = ?""", [r["source_file"]])
    assert {(row[0], row[2]): (row[4], row[5]) for row in rows} == r["expected"]
    assert all(row[0] == row[1] and row[3] == "changed" for row in rows)
    assert {(row[6], row[7]) for row in rows} == {(r["old_sha"], r["new_sha"])}
    assert all(row[8] is False and row[9] for row in rows)
    # nothing else of the sample changed
    assert _rows(r["warehouse"], "select count(*) from marts.fct_revisions")[0][0] == len(r["expected"])


def test_a_silent_correction_is_a_finding_and_shows_in_the_report(republished):
    r = republished
    findings = _rows(r["warehouse"], """select object_key, count(*) from quality.findings
        where run_id = ? and rule_id = 'REV_SILENT_CORRECTION' group by 1""", [r["run"].run_id])
    table_key, = _rows(r["warehouse"], "select distinct table_key from marts.fct_revisions")[0]
    assert findings == [(table_key, len(r["expected"]))]  # one finding for the table, one row per figure
    page = (r["out"] / "quality" / "index.html").read_text(encoding="utf-8")
    assert 'id="data-changes"' in page
    assert f"更改 changed {len(r['expected'])}" in page
    assert page.count('class="revision"') == len(r["expected"])
