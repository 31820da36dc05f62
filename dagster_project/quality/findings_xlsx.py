"""findings.xlsx without writing every cell again when only the run id moved.

Every row of findings.xlsx names its run (``run_id``, the first column), so a run whose findings are the previous
run's (a carried run, or one whose changes touched no finding) still produced a new workbook: ≈ 160 k cells through
openpyxl at 1 M trading rows, the largest part of the quality step after one changed figure (profiled). The cells
other than the run id are digested; when they equal those of the workbook the previous run wrote (a record beside
it: digest, run id, SHA-256 of the file), that workbook is copied with the old run id replaced by the new one in its
sheet (the run id is an inline string of fixed form, found exactly once per data row, else the workbook is written
whole). The cells are then those a fresh write gives; the zip container differs only as openpyxl's own does from one
write to the next (member times).

When some findings changed (one changed figure adds or fixes a few of thousands), the sheet is assembled from the
previous workbook's rows: every row whose cells (other than the run id) are a previous row's is that row's XML with
the run id and row number put right; only the other rows are written by openpyxl. openpyxl's write-only sheet writes
each row on its own (no shared strings, no dimension), so the sheet is byte for byte the one a whole write gives
(``tests/test_quality_findings_xlsx.py``). Which row held which cells is kept in the record (a digest per row).
"""
from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Sequence

from dagster_project.publish import safe_cells

RECORD = ".findings_xlsx.json"
SHEET = "xl/worksheets/sheet1.xml"


def _row_digests(cells: list[list], run_column: int) -> list[str]:
    """Per row: a digest of its cells other than the run id."""
    return [hashlib.sha256(json.dumps([None if i == run_column else v for i, v in enumerate(row)], ensure_ascii=False,
                                      default=str).encode()).hexdigest()[:32] for row in cells]


def _digest(labels: Sequence[str], rows: list[str]) -> str:
    h = hashlib.sha256(json.dumps(list(labels), ensure_ascii=False).encode())
    for row in rows:
        h.update(row.encode())
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


_ROW = re.compile(rb'<row r="(\d+)">.*?</row>', re.S)
_CELL_REF = re.compile(rb'<c r="([A-Z]+)\d+"')


def _split_sheet(sheet: bytes) -> tuple[bytes, list[bytes], bytes] | None:
    """(what precedes the first row, the rows, what follows the last) of a write-only sheet; None if it is not one."""
    start, end = sheet.find(b"<sheetData>"), sheet.rfind(b"</sheetData>")
    if start < 0 or end < 0:
        return None
    start += len(b"<sheetData>")
    rows = [m.group(0) for m in _ROW.finditer(sheet, start, end)]
    if sum(map(len, rows)) != end - start or any(
            not r.startswith(b'<row r="%d">' % (i + 1)) for i, r in enumerate(rows)):
        return None
    return sheet[:start], rows, sheet[end:]


def _renumbered(row: bytes, number: int) -> bytes:
    head = b'<row r="%d">' % number
    body = row[row.index(b">") + 1:]
    return head + _CELL_REF.sub(lambda m: b'<c r="' + m.group(1) + str(number).encode() + b'"', body)


def _assembled(path: Path, target: Path, sheet_title: str, labels: Sequence[str], cells: list[list], rows: list[str],
               record: dict, run_id: str) -> bool:
    """Write ``target`` from the previous workbook's rows where their cells recur, openpyxl's for the others;
    False (nothing written) when the previous workbook is not as its record says."""
    old, before = record.get("run_id"), record.get("rows")
    if (not isinstance(old, str) or not isinstance(before, list)
            or record.get("labels") != _digest([sheet_title, *labels], [])):  # the sheet's title and header
        return False
    old_b, new_b = f"<t>{old}</t>".encode(), f"<t>{run_id}</t>".encode()
    with zipfile.ZipFile(path) as zin:
        split = _split_sheet(zin.read(SHEET))
        if split is None or len(split[1]) != len(before) + 1:
            return False
        head, old_rows, tail = split
        by_digest = {}
        for digest, xml in zip(before, old_rows[1:]):
            if xml.count(old_b) != 1:
                return False
            by_digest.setdefault(digest, xml)
        missing = [i for i, d in enumerate(rows) if d not in by_digest]
        written: list[bytes] = []
        if missing:  # the rows seen nowhere before, written by openpyxl as a whole write would write them
            buffer = io.BytesIO()
            safe_cells.write_xlsx(buffer, sheet_title, labels, [cells[i] for i in missing])
            with zipfile.ZipFile(buffer) as fresh:
                fresh_split = _split_sheet(fresh.read(SHEET))
            if fresh_split is None or fresh_split[0] != head or fresh_split[2] != tail:
                return False
            written = fresh_split[1][1:]
        new_rows = dict(zip(missing, written))
        out = [head, old_rows[0]]
        for i, digest in enumerate(rows):
            xml = new_rows.get(i)
            out.append(_renumbered(xml, i + 2) if xml is not None
                       else _renumbered(by_digest[digest].replace(old_b, new_b), i + 2))
        out.append(tail)
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                zout.writestr(info, b"".join(out) if info.filename == SHEET else zin.read(info.filename))
    return True


def write_findings_xlsx(path: Path, sheet_title: str, labels: Sequence[str], cells: list[list], run_id: str,
                        run_column: int = 0) -> Path:
    record_path = path.with_name(RECORD)
    rows = _row_digests(cells, run_column)
    digest = _digest(labels, rows)
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {}
    record_path.unlink(missing_ok=True)  # the workbook is about to change: no record until it is written
    reused = False
    old = record.get("run_id")
    if (cells and isinstance(old, str) and path.is_file() and record.get("sha256") == _sha(path)
            and all(row[run_column] == run_id for row in cells)):
        tmp = path.with_name(path.name + ".tmp")
        if record.get("digest") == digest and len(old) == len(run_id):
            reused = old == run_id or _with_run_id(path, tmp, old, run_id, len(cells))
        if not reused:
            reused = _assembled(path, tmp, sheet_title, labels, cells, rows, record, run_id)
        if reused and tmp.exists():
            tmp.replace(path)
        tmp.unlink(missing_ok=True)
    if not reused:
        safe_cells.write_xlsx(path, sheet_title, labels, cells)
    record_path.write_text(json.dumps({"digest": digest, "run_id": run_id, "sha256": _sha(path),
                                       "labels": _digest([sheet_title, *labels], []), "rows": rows}), encoding="utf-8")
    return path


def carry_run_id(path: Path, target: Path, old: str, new: str, rows: int) -> dict | None:
    """A carried run's workbook (``report_carry.py``): the workbook at ``path``, written for run ``old`` with ``rows``
    data rows as its record says, copied to ``target`` with the run id ``new``; returns the record the copy needs
    (``commit_carried``), None (nothing written) when the workbook is not as recorded."""
    try:
        record = json.loads(path.with_name(RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (record.get("run_id") != old or not isinstance(record.get("rows"), list) or len(record["rows"]) != rows
            or not path.is_file() or record.get("sha256") != _sha(path)):
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
