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


def test_the_loading_connection_plans_parses_without_the_in_clause_optimizer(tmp_path):
    """The IN-clause optimizer was half of a small export's parse planning (text_macros.PARSE_DISABLED_OPTIMIZERS):
    the family's connection does without it from its setup on, keeps what it disabled already, and a placeholder
    cell — the parse's IN lists — is still blanked, not rejected."""
    import duckdb

    from dagster_project.ingest import framework
    from dagster_project.ingest.trading import load_trading_file

    raw = tmp_path / "raw"
    path = raw / "trading" / "导出_placeholders.csv"
    path.parent.mkdir(parents=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(HEADER + ["BUDGET_AMOUNT"])
        writer.writerow(["NXP0001", "NXP0001-01", "交易公告", "第1号招标公告", "2020-03-01 09:00:00", "—"])
        writer.writerow(["NXP0002", "NXP0002-01", "交易公告", "第2号招标公告", "－", "120.50"])
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        con.execute("SET disabled_optimizers = 'join_order'")
        report = framework.load_family(con, raw, "trading", load_trading_file)
        disabled = set(con.execute("SELECT current_setting('disabled_optimizers')").fetchone()[0].split(","))
        rows = con.execute("SELECT project_code, notice_send_time, budget_amount_yuan FROM raw.trading_bulletins "
                           "ORDER BY project_code").fetchall()
        rejects = con.execute("SELECT count(*) FROM raw.load_rejects").fetchone()[0]
    finally:
        con.close()
    assert disabled == {"in_clause", "join_order"}
    assert report.rows_loaded == 2 and rejects == 0
    assert [(code, str(at) if at else None, amount) for code, at, amount in rows] == [
        ("NXP0001", "2020-03-01 09:00:00", None), ("NXP0002", None, 120.5)]
