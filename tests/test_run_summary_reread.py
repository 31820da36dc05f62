"""The run summary says what the files read in this run were: new or changed bytes, or the same bytes read again
because the readers changed (ingest/reread.py) — not a bare "1 (+1)" that reads as one more rejected file.

``raw.load_files`` is written as the loader writes it (schema.sql): each load a row, the earlier one no longer current.
"""
from __future__ import annotations

import datetime as dt

import duckdb

from dagster_project import run_summary
from dagster_project.paths import REPO_ROOT

EARLIER, THIS_RUN = dt.datetime(2026, 12, 1, 9), dt.datetime(2026, 12, 6, 4)


def _load(con, load_id, rel, sha, status, at, current, reason=None):
    con.execute(
        "INSERT INTO raw.load_files (load_id, source_file, source_sha256, bytes, family, status, reason, rows_in, "
        "rows_loaded, rows_rejected, loaded_at, is_current) VALUES (?, ?, ?, 10, 'trading', ?, ?, 2, ?, ?, ?, ?)",
        [load_id, rel, sha, status, reason, 0 if status == "rejected" else 2, 2 if status == "rejected" else 0,
         at, current])


def test_a_file_refused_on_re_read_is_told_apart_from_a_new_refusal(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute((REPO_ROOT / "dagster_project" / "ingest" / "schema.sql").read_text(encoding="utf-8"))
    # loaded earlier, refused when the changed readers read the same bytes again
    _load(con, "L1", "trading/refused_on_reread.csv", "a" * 64, "loaded", EARLIER, False)
    _load(con, "L2", "trading/refused_on_reread.csv", "a" * 64, "rejected", THIS_RUN, True, "未识别表头 no header")
    # loaded earlier, loaded again (same bytes) by the changed readers
    _load(con, "L3", "trading/reread.csv", "b" * 64, "loaded", EARLIER, False)
    _load(con, "L4", "trading/reread.csv", "b" * 64, "loaded", THIS_RUN, True)
    # re-published (new bytes) and refused; a new file refused; one untouched since
    _load(con, "L5", "trading/republished.csv", "c" * 64, "loaded", EARLIER, False)
    _load(con, "L6", "trading/republished.csv", "d" * 64, "rejected", THIS_RUN, True, "编码无法识别 encoding")
    _load(con, "L7", "trading/new.csv", "e" * 64, "rejected", THIS_RUN, True, "空文件 empty")
    _load(con, "L8", "trading/unchanged.csv", "f" * 64, "loaded", EARLIER, True)
    families = {f.family: f for f in run_summary._families(con, THIS_RUN - dt.timedelta(minutes=5))}
    con.close()
    t = families["trading"]
    assert (t.loaded, t.loaded_reread, t.unchanged) == (1, 1, 1)
    assert (t.rejected, t.rejected_now, t.rejected_reread) == (3, 3, 1)
    lines = run_summary.RunSummary([t], {}, "", {}, None, False, None, True).lines()
    row = next(line for line in lines if line.startswith("trading"))
    assert "(+" not in row
    assert "1 (重读 re-read 1)" in row and "3 (新 new 2, 重读 re-read 1)" in row
    at = next(i for i, line in enumerate(lines) if "括号内" in line)
    legend = " ".join(lines[at:at + 2])
    assert "重读 re-read = 字节未变" in legend and "the same bytes read again by changed readers" in legend
    assert "新 new = 新文件或字节已变" in legend
