"""The trading loader alone, at scale: rows/s of ``framework.load_family(..., "trading", load_trading_file)``.

Generates only the trading family with the sample generator (``--seed 7``, fiscal years 2017–2019, as
``run.py`` does; not timed) under ``<work>/trading-<scale>/``, kept between invocations, then loads it into a
fresh DuckDB file in one process and records wall seconds, records in / loaded / rejected, bulletins, rows/s,
peak RSS and the machine's load average before and after. The generated announcements carry line breaks inside
quoted fields (公告内容), so every bulk file goes through the path real exports need.

    .venv/bin/python benchmarks/trading_loader.py --scale 12500          # ≈ 10 M rows
    .venv/bin/python benchmarks/trading_loader.py --scale 1 --work /tmp/tl   # smoke
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def generate(raw: Path, scale: float) -> None:
    from dagster_project.sample import generate as gen
    from dagster_project.sample import trading

    if (raw / ".complete").is_file():
        return
    shutil.rmtree(raw, ignore_errors=True)
    raw.mkdir(parents=True)
    import random

    _regions, entities = gen.build_publishers(random.Random(7), scale)
    buyers = [(e.code, e.name(2019), e.region_code) for e in entities]
    writer = gen.Writer(raw)
    started = time.perf_counter()
    stats = trading.generate_trading(raw, 7, scale, [2017, 2018, 2019], buyers, writer)
    (raw / ".complete").write_text(json.dumps({**stats, "seconds": round(time.perf_counter() - started, 1)}))


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=12500)
    parser.add_argument("--work", type=Path, default=REPO / "benchmarks" / "work")
    args = parser.parse_args(argv)
    raw = args.work / f"trading-{args.scale:g}"
    generate(raw, args.scale)
    warehouse = args.work / f"trading-{args.scale:g}.duckdb"
    for leftover in (warehouse, warehouse.with_suffix(".duckdb.wal")):
        leftover.unlink(missing_ok=True)
    os.environ.setdefault("GONGKAI_RAW_DIR", str(raw.parent))
    os.environ.setdefault("GONGKAI_WAREHOUSE", str(warehouse))
    os.environ.setdefault("GONGKAI_OUT_DIR", str(args.work / "out"))

    import duckdb

    from dagster_project.ingest import framework
    from dagster_project.ingest.trading import load_trading_file

    before = load_average()
    con = duckdb.connect(str(warehouse))
    started = time.perf_counter()
    try:
        report = framework.load_family(con, raw, "trading", load_trading_file, progress=lambda _: None)
        seconds = time.perf_counter() - started
        bulletins, parts = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE source_part > 1) FROM raw.trading_bulletins").fetchone()
        multiline = con.execute(
            "SELECT count(*) FROM raw.trading_bulletins WHERE contains(notice_content, chr(10))").fetchone()[0]
    finally:
        con.close()
    result = {
        "date": dt.date.today().isoformat(), "scale": args.scale, "files": len(report.loaded) + len(report.rejected),
        "files_rejected": report.rejected, "records_in": report.rows_in, "records_loaded": report.rows_loaded,
        "records_rejected": report.rows_rejected, "bulletins": bulletins, "bulletins_from_listed_sections": parts,
        "bulletins_with_line_breaks_in_content": multiline, "seconds": round(seconds, 1),
        "rows_per_second": round(report.rows_in / seconds) if seconds else None,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load_average_before": before, "load_average_after": load_average(), "cpus": os.cpu_count(),
    }
    out = REPO / "benchmarks" / "results" / f"trading-loader-{args.scale:g}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
