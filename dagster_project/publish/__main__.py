"""Command line: ``python -m dagster_project.publish {ocds,release,dashboards,all}``.

Uses ``paths.settings()`` unless ``--warehouse`` / ``--out`` are given. ``--fail-at`` / ``--pause-at``
(stages of ``release.STAGES``) exist to drill failure and kill handling.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dagster_project.paths import settings
from dagster_project.publish import atomic
from dagster_project.publish.release import STAGES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dagster_project.publish")
    parser.add_argument("what", choices=["ocds", "release", "dashboards", "all"])
    parser.add_argument("--warehouse", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--run-id")
    parser.add_argument("--fail-at", choices=STAGES)
    parser.add_argument("--pause-at", choices=STAGES)
    parser.add_argument("--pause-file", type=Path)
    parser.add_argument("--ocds-schema-dir", type=Path, help="OCDS 1.1.5 schema folder (default ../shared/ocds-1.1.5)")
    parser.add_argument("--fiscal-years", type=int, nargs="+",
                        help="rebuild these years' parts (if changed) and carry every other year's as it is")
    parser.add_argument("--keep", type=int, help="releases kept (default: GONGKAI_RELEASE_KEEP, else datasets.yaml)")
    args = parser.parse_args(argv)
    s = settings()
    warehouse, out = args.warehouse or s.warehouse, args.out or s.out_dir
    years = set(args.fiscal_years) if args.fiscal_years else None
    if args.what in ("ocds", "all"):
        from dagster_project.publish.ocds import build_ocds

        r = build_ocds(warehouse, out, schema_setting=args.ocds_schema_dir, fiscal_years=years, keep=args.keep)
        print(f"ocds: {r.releases} releases, {r.records} records -> {r.path}")
    if args.what in ("release", "all"):
        from dagster_project.publish.release import build_release

        r = build_release(warehouse, out, run_id=args.run_id, ocds_dir=atomic.current_release_dir(out / "ocds"),
                          fail_at=args.fail_at, pause_at=args.pause_at, pause_file=args.pause_file,
                          ocds_schema_dir=args.ocds_schema_dir, fiscal_years=years, keep=args.keep)
        print(f"release {r.release_id} -> {r.path} {r.validation}")
    if args.what in ("dashboards", "all"):
        from dagster_project.publish.dashboards import write_dashboards

        r = write_dashboards(warehouse, out)
        print(f"dashboards: {[p.name for p in r.pages]} -> {r.folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
