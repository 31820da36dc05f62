"""findings.xlsx: the findings export as a workbook, written by the release's SQL sheet writer (``publish/excel.py``).

The cells are the export cells ``report.write_exports`` made (personal numbers masked), an Arrow table typed as DuckDB
read the findings (codes and texts as text, years and rows as numbers). They reach the writer as a Parquet file beside
the workbook, and ``excel.write_sheet_rows`` writes the sheet's rows in SQL: every text cell an inline string,
neutralised as the CSV's (``safe_cells``), never a formula. openpyxl wrote ≈ 3 700 rows a second: 32 s for the 120 k
findings of 10 M trading rows (the largest part of that quality step), where this takes 3 s (measured 2026-12-07,
RESULTS.md). An earlier version reused the previous workbook's rows where they recurred, to spare openpyxl; writing
every row this way costs less than working out which ones recur did.

A carried run (``report_carry.py``) copies the workbook with its run id replaced: the run id is every data row's
first cell, an inline string of fixed form, found exactly once per data row (else the report is written whole). A
record beside the workbook (which run it was written for, its row count and SHA-256) says which file the copy may
start from.
"""
from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import duckdb

RECORD = ".findings_xlsx.json"
SHEET = "xl/worksheets/sheet1.xml"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run_id_cell(run_id: str) -> bytes:
    """How the sheet writer holds a run id (text of no character it escapes or neutralises)."""
    from dagster_project.publish.excel import TEXT_OPEN

    return f"{TEXT_OPEN}{run_id}</t>".encode()


def _with_run_id(source: Path, target: Path, old: str, new: str, rows: int) -> bool:
    """Copy the workbook with ``old`` replaced by ``new`` in its sheet; False (nothing written) unless ``old`` is
    found exactly once per data row."""
    old_b, new_b = _run_id_cell(old), _run_id_cell(new)
    with zipfile.ZipFile(source) as zin:
        sheet = zin.read(SHEET)
        if sheet.count(old_b) != rows:
            return False
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                data = zin.read(info.filename)
                zout.writestr(info, sheet.replace(old_b, new_b) if info.filename == SHEET else data)
    return True


def write_findings_xlsx(con: duckdb.DuckDBPyConnection, path: Path, sheet_title: str, cells, run_id: str) -> Path:
    """One sheet of ``cells`` (an Arrow table: its column names are the header, its rows in order, each column of
    its own type), written for run ``run_id``."""
    import pyarrow.parquet as pq

    from dagster_project.publish import excel

    record_path = path.with_name(RECORD)
    record_path.unlink(missing_ok=True)  # the workbook is about to change: no record until it is written
    staged = path.with_name(".findings_xlsx.parquet")
    try:
        pq.write_table(cells, staged)
        source = "read_parquet('" + staged.as_posix().replace("'", "''") + "')"
        excel.write_sheet_rows(con, source, path, sheet_title, parquet_file=staged)()
    finally:
        staged.unlink(missing_ok=True)
    record_path.write_text(json.dumps({"run_id": run_id, "rows": cells.num_rows, "sha256": _sha(path)}),
                           encoding="utf-8")
    return path


def carry_run_id(path: Path, target: Path, old: str, new: str, rows: int) -> dict | None:
    """A carried run's workbook (``report_carry.py``): the workbook at ``path``, written for run ``old`` with ``rows``
    data rows as its record says, copied to ``target`` with the run id ``new``; returns the record the copy needs
    (``commit_carried``), None (nothing written) when the workbook is not as recorded."""
    try:
        record = json.loads(path.with_name(RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (record.get("run_id") != old or record.get("rows") != rows or not path.is_file()
            or record.get("sha256") != _sha(path)):
        return None
    if rows == 0:
        target.write_bytes(path.read_bytes())  # the header alone: no cell names the run
    elif not _with_run_id(path, target, old, new, rows):
        return None
    return {**record, "run_id": new, "sha256": _sha(target)}


def commit_carried(path: Path, target: Path, record: dict) -> None:
    """Put the copy ``carry_run_id`` wrote in place of the workbook, with its record."""
    record_path = path.with_name(RECORD)
    record_path.unlink(missing_ok=True)
    target.replace(path)
    record_path.write_text(json.dumps(record), encoding="utf-8")
