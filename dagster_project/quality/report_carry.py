"""A carried quality run's report from the files of the run it repeats, without masking or rendering them again.

A carried run (``carry.py``) stores the check and finding rows of the run it repeats under its own id; that run
judged the same inputs (the same quality fingerprint: dbt build, raw files, quality code and suites, as-of date).
Its report files are then those of the source run but where they name the run:
- ``findings.csv`` / ``findings.xlsx``: every row's first cell is the run id; the other cells are the same rows in
  the same order (``write_exports`` orders by every column), so the file is the source's with the run id replaced —
  exactly once per data row, else the files are written whole;
- ``index.html``: the head (``report.render_head``: run id, times, what was carried, the change since the run before)
  is rendered for this run; the body (``report.render_body``: scorecard, results per rule, findings, rejects,
  pipeline checks) reads only the run's rows and the marts, so it is the source report's body, byte for byte;
- ``rejects.csv``: the raw rejects, unchanged with the raw inputs.

A record beside the files (``.report.json``: the run they were written for, their SHA-256, where the body starts)
says which run they belong to; the files are reused only when the record names the source run and every file still
has its recorded hash, else the report is written whole (``report.write_reports``). Masking every export cell and
rendering the findings were ≈ 1.5–2.3 s of an unchanged re-run's quality step at 1 M trading rows.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

from dagster_project.publish import safe_cells

RECORD = ".report.json"
INDEX, FINDINGS_CSV, REJECTS_CSV = "index.html", "findings.csv", "rejects.csv"
FILES = (INDEX, FINDINGS_CSV, REJECTS_CSV)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def forget(quality_dir: Path) -> None:
    """Before the report files change: no record until they are all written."""
    (quality_dir / RECORD).unlink(missing_ok=True)


def remember(quality_dir: Path, run_id: str, body_offset: int) -> None:
    """The files in ``quality_dir`` are ``run_id``'s report; its body starts at byte ``body_offset`` of index.html."""
    hashes = {name: _sha((quality_dir / name).read_bytes()) for name in FILES}
    (quality_dir / RECORD).write_text(json.dumps({"run_id": run_id, "body_offset": body_offset, "sha256": hashes}),
                                      encoding="utf-8")


def csv_field(value) -> str:
    """``value`` as the findings export writes it into one CSV field (neutralised, quoted where csv quotes)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow([safe_cells.neutralise(value)])
    return buffer.getvalue().removesuffix("\r\n")


def _replaced_once_per_row(data: bytes, old: bytes, new: bytes, rows: int) -> bytes | None:
    if not old or data.count(old) != rows:
        return None
    return data.replace(old, new)


def carry_reports(con, run, suites, quality_dir: Path, source: str) -> Path | None:
    """Write ``run``'s report from the files of ``source``, the run it carries; None (nothing written) when those
    files are not ``source``'s as recorded, or the run id is not found exactly once per data row."""
    from dagster_project.quality import report
    from dagster_project.quality.findings_xlsx import carry_run_id, commit_carried

    try:
        record = json.loads((quality_dir / RECORD).read_text(encoding="utf-8"))
        files = {name: (quality_dir / name).read_bytes() for name in FILES}
    except (OSError, ValueError):
        return None
    hashes, offset = record.get("sha256"), record.get("body_offset")
    if (record.get("run_id") != source or not isinstance(hashes, dict) or not isinstance(offset, int)
            or any(hashes.get(name) != _sha(data) for name, data in files.items())):
        return None
    if report.export_cell(source) != source or report.export_cell(run.run_id) != run.run_id:
        return None  # a run id the masking would change: not the form the workbook's record vouches for
    rows = con.execute("select count(*) from quality.findings where run_id = ?", [run.run_id]).fetchone()[0]
    findings_csv = _replaced_once_per_row(files[FINDINGS_CSV], csv_field(source).encode("utf-8"),
                                          csv_field(run.run_id).encode("utf-8"), rows)
    if findings_csv is None:
        return None
    xlsx, xlsx_tmp = quality_dir / "findings.xlsx", quality_dir / "findings.xlsx.carry.tmp"
    try:
        xlsx_record = carry_run_id(xlsx, xlsx_tmp, source, run.run_id, rows)
        if xlsx_record is None:
            return None
        head = report.render_head(con, run, quality_dir, report.checks_of(con, run.run_id))
        prefix = (head + "\n").encode("utf-8")
        index = prefix + files[INDEX][offset:]
        forget(quality_dir)
        for name, data in ((FINDINGS_CSV, findings_csv), (INDEX, index)):
            tmp = quality_dir / (name + ".carry.tmp")
            tmp.write_bytes(data)
            tmp.replace(quality_dir / name)
        commit_carried(xlsx, xlsx_tmp, xlsx_record)
    finally:
        xlsx_tmp.unlink(missing_ok=True)
    remember(quality_dir, run.run_id, len(prefix))
    return quality_dir / INDEX
