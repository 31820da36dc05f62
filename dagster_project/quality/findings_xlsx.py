"""findings.xlsx without writing every cell again when only the run id moved.

Every row of findings.xlsx names its run (``run_id``, the first column), so a run whose findings are the previous
run's (a carried run, or one whose changes touched no finding) still produced a new workbook: ≈ 160 k cells through
openpyxl at 1 M trading rows, the largest part of the quality step after one changed figure (profiled). The cells
other than the run id are digested; when they equal those of the workbook the previous run wrote (a record beside
it: digest, run id, SHA-256 of the file), that workbook is copied with the old run id replaced by the new one in its
sheet (the run id is an inline string of fixed form, found exactly once per data row, else the workbook is written
whole). The cells are then those a fresh write gives; the zip container differs only as openpyxl's own does from one
write to the next (member times).
"""
from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Sequence

from dagster_project.publish import safe_cells

RECORD = ".findings_xlsx.json"
SHEET = "xl/worksheets/sheet1.xml"


def _digest(labels: Sequence[str], cells: list[list], run_column: int) -> str:
    h = hashlib.sha256(json.dumps(list(labels), ensure_ascii=False).encode())
    for row in cells:
        h.update(json.dumps([None if i == run_column else v for i, v in enumerate(row)], ensure_ascii=False,
                            default=str).encode())
    return h.hexdigest()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _with_run_id(source: Path, target: Path, old: str, new: str, rows: int) -> bool:
    """Copy the workbook with ``old`` replaced by ``new`` in its sheet; False (nothing written) unless ``old`` is
    found exactly once per data row."""
    old_b, new_b = f"<t>{old}</t>".encode(), f"<t>{new}</t>".encode()
    with zipfile.ZipFile(source) as zin:
        sheet = zin.read(SHEET)
        if sheet.count(old_b) != rows:
            return False
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                data = zin.read(info.filename)
                zout.writestr(info, sheet.replace(old_b, new_b) if info.filename == SHEET else data)
    return True


def write_findings_xlsx(path: Path, sheet_title: str, labels: Sequence[str], cells: list[list], run_id: str,
                        run_column: int = 0) -> Path:
    record_path = path.with_name(RECORD)
    digest = _digest(labels, cells, run_column)
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {}
    record_path.unlink(missing_ok=True)  # the workbook is about to change: no record until it is written
    reused = False
    old = record.get("run_id")
    if (cells and record.get("digest") == digest and isinstance(old, str) and len(old) == len(run_id)
            and path.is_file() and record.get("sha256") == _sha(path)
            and all(row[run_column] == run_id for row in cells)):
        tmp = path.with_name(path.name + ".tmp")
        reused = old == run_id or _with_run_id(path, tmp, old, run_id, len(cells))
        if reused and old != run_id:
            tmp.replace(path)
        tmp.unlink(missing_ok=True)
    if not reused:
        safe_cells.write_xlsx(path, sheet_title, labels, cells)
    record_path.write_text(json.dumps({"digest": digest, "run_id": run_id, "sha256": _sha(path)}), encoding="utf-8")
    return path
