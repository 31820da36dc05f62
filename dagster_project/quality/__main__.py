"""`python -m dagster_project.quality`: run every suite on the configured warehouse (GONGKAI_WAREHOUSE)
and write the quality tables and reports under GONGKAI_OUT_DIR/quality. Exit 1 if integrity fails."""
from __future__ import annotations

import sys

from dagster_project.paths import settings
from dagster_project.quality.runner import run_quality


def main() -> int:
    cfg = settings()
    run = run_quality(cfg.warehouse, cfg.out_dir)
    compliance = [o for o in run.outcomes if o.expectation.kind == "compliance"]
    print(f"run {run.run_id}: {sum(o.failed for o in compliance)} findings from {len(compliance)} compliance "
          f"expectations; integrity {'ok' if run.integrity_ok else 'FAILED'}; GX {run.gx_seconds:.1f} s, "
          f"total {run.total_seconds:.1f} s")
    print(f"report: {run.report_path}")
    for o in run.outcomes:
        if o.status == "error" or (o.expectation.kind == "integrity" and o.status != "passed"):
            print(f"  {o.expectation.kind} {o.expectation.rule_id} on {o.expectation.batch}: {o.status} {o.detail}")
    return 0 if run.integrity_ok else 1


if __name__ == "__main__":
    sys.exit(main())
