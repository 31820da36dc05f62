"""The text parsers' temporary macros are made once per family load, outside the files' transactions (the trading
loader's ``connection_setup``, ``textfiles.parse_macros_setup``), not again for every file (≈ 20 ms of CPU a file,
wave 17). A file rolled back (rejected whole) must not take them with it: the files after it still load."""
from __future__ import annotations

import csv
from pathlib import Path

from dagster_project.ingest import text_values
from test_ingest_trading import load, load_file_row

HEADER = ["PROJECT_CODE", "BID_SECTION_CODE", "BULLETIN_TYPE", "NOTICE_NAME", "NOTICE_SEND_TIME"]


def _export(path: Path, n: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerow([f"NXP{n:04d}", f"NXP{n:04d}-01", "交易公告", f"第{n}号\n招标公告", f"2020-03-{n:02d} 09:00:00"])


def test_macros_are_made_once_per_load_and_outlive_a_rejected_file(tmp_path, monkeypatch):
    made = []
    real = text_values.register_chinese_time_macro
    monkeypatch.setattr(text_values, "register_chinese_time_macro", lambda *a: (made.append(1), real(*a))[1])
    raw = tmp_path / "raw"
    for n in (1, 2, 3):
        _export(raw / "trading" / f"导出_{n}.csv", n)
    (raw / "trading" / "导出_2a.json").write_text('{"code": 200, "data": {"records": [{"title": "x"}]}}', encoding="utf-8")
    report = load(raw, tmp_path / "w.duckdb")
    assert report.rejected == ["trading/导出_2a.json"]       # rolled back, between loaded files
    assert sorted(report.loaded) == [f"trading/导出_{n}.csv" for n in (1, 2, 3)]
    assert load_file_row(tmp_path / "w.duckdb", "trading/导出_3.csv")["rows_loaded"] == 1
    assert len(made) == 1
