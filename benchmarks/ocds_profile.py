"""Where one OCDS build's CPU goes: chosen fiscal-year parts built from a warehouse, read-only, file by file.

    .venv/bin/python benchmarks/ocds_profile.py WAREHOUSE OUT_DIR --years 2017 [--temp-dir DIR] [--workers N]

Builds the parts as ``build_ocds`` does (``ocds.write_ocds_parts`` with ``PackageChecks``: the same packages, checked
and scanned; only the base URI is fixed, so ``uri`` and record links name ``https://example.org/ocds/BUILD/``) and
prints the process CPU (user + system, every thread) at each step: the flat COPY (masking, ``flat_sql``, the sort),
then each package file as it is written, with the size of its cursor's privacy-scan run cache
(``privacy_scan.json_run_cache``). ``--temp-dir``: where DuckDB spills (by default DuckDB's own choice,
``<warehouse>.tmp`` beside the database file even when it is opened read-only: give one when the warehouse is shared).
No carrying, no promotion, no validation record: a measuring tool, not a publisher.
"""
from __future__ import annotations

import argparse
import os
import resource
import threading
import time
from pathlib import Path

import duckdb

from dagster_project.publish import ocds, ocds_packages
from dagster_project.publish.masking import MaskingPolicy
from dagster_project.publish.ocds_config import load_config
from dagster_project.publish.release import load_spec
from dagster_project.publish.warehouse import _quiet

_T0 = time.monotonic()


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _log(message: str) -> None:
    print(f"{time.monotonic() - _T0:8.1f} s wall {_cpu():8.1f} CPU-s  load {os.getloadavg()[0]:4.1f}  {message}",
          flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("warehouse")
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--years", required=True, help="comma-separated fiscal-year parts, e.g. 2017 or 2017,2018")
    ap.add_argument("--temp-dir", help="DuckDB's spill directory")
    ap.add_argument("--workers", type=int, help="package workers (default ocds_packages.PACKAGE_WORKERS)")
    args = ap.parse_args()
    if args.workers:
        ocds_packages.PACKAGE_WORKERS = args.workers
    write_package = ocds_packages._write_package

    def timed(con, folder, job, gzipped, checks):
        started = time.monotonic()
        found = write_package(con, folder, job, gzipped, checks)
        try:
            runs = con.execute("SELECT count(*) FROM _json_run_hits").fetchone()[0]
        except duckdb.Error:
            runs = "-"
        _log(f"{job.name} {job.count} items {time.monotonic() - started:.1f} s wall, run cache {runs} "
             f"({threading.current_thread().name})")
        return found

    ocds_packages._write_package = timed
    part_jobs = ocds._part_jobs

    def timed_part_jobs(*a, **k):
        _log("flat file written (masking, flat_sql, sort, COPY) and its part spans read")
        return part_jobs(*a, **k)

    ocds._part_jobs = timed_part_jobs
    cfg = load_config()
    cfg["base_uri"] = "https://example.org/ocds/BUILD/"
    policy = MaskingPolicy.from_spec(load_spec().get("masking") or {})
    config = {"temp_directory": args.temp_dir} if args.temp_dir else {}
    con = _quiet(duckdb.connect(args.warehouse, read_only=True, config=config))  # capped as the pipeline's
    args.out_dir.mkdir(parents=True, exist_ok=True)
    checks = ocds_packages.PackageChecks(cfg, None)
    _log("start")
    try:
        results = ocds.write_ocds_parts(con, args.out_dir, cfg, policy, args.years.split(","), checks)
    finally:
        con.close()
    _log(f"done: problems {checks.problems[:3]}, privacy {checks.privacy.summary()}")
    for key, r in results.items():
        print(f"part {key}: {r.releases} releases, {r.records} records, {len(r.files)} files, {r.bytes} bytes")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB")


if __name__ == "__main__":
    main()
