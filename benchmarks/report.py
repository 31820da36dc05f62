"""Render benchmarks/RESULTS.md tables from the results JSON files written by run.py.

    .venv/bin/python benchmarks/report.py benchmarks/results/scale-*.json > /tmp/tables.md

Prints Markdown: per scale, each pipeline stage with seconds, rows/s and peak RSS; the whole pipeline
against both floors (the old floor: the floor's stages before publication; the equal-work floor: the whole
floor, which also writes the published datasets); the unchanged, re-published-workbook and new-year re-runs
against the full run (ratios).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

STAGES = ("ingest", "dbt", "quality", "publish")


def load(paths: list[Path]) -> tuple[dict, list[dict], list[str]]:
    """The last file's machine, every file's summary rows, and the fiscal years each file generated (older results
    do not say: the harness's default then, 2017-2019)."""
    machine, summary, years = {}, [], []
    for path in paths:
        data = json.loads(path.read_text(encoding="utf-8"))
        machine = data["machine"]
        summary += data["summary"]
        years.append(data.get("generation", {}).get("years", "2017-2019 (not recorded)"))
    return machine, summary, years


def table(summary: list[dict]) -> str:
    by_key = {(r["scale"], r["variant"], r["stage"]): r for r in summary}
    scales = sorted({r["scale"] for r in summary})
    lines = [
        "| scale | trading rows | stage | pipeline s | rows/s | peak RSS MiB | unchanged re-run s | revised workbook s | new year s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    totals = []
    for scale in scales:
        rows = next(r["rows"] for r in summary if r["scale"] == scale)
        sums = {"pipeline": 0.0, "pipeline_unchanged": 0.0, "pipeline_revised_workbook": 0.0, "pipeline_new_year": 0.0}
        complete = {variant: True for variant in sums}
        peak = 0.0
        for stage in STAGES:
            cells = {}
            for variant in sums:
                r = by_key.get((scale, variant, stage))
                if r is None or not r["ok"]:
                    complete[variant] = False
                    cells[variant] = "—" if r is None else f"failed ({r['seconds']})"
                    continue
                sums[variant] += r["seconds"]
                cells[variant] = f"{r['seconds']:.1f}"
                if variant == "pipeline":
                    peak = max(peak, r["peak_rss_mib"])
            full = by_key.get((scale, "pipeline", stage))
            rate = f"{full['rows_per_second']:,}" if full else "—"
            rss = f"{full['peak_rss_mib']:.0f}" if full else "—"
            lines.append(
                f"| {scale:g} | {rows:,} | {stage} | {cells['pipeline']} | {rate} | {rss} | "
                f"{cells['pipeline_unchanged']} | {cells['pipeline_revised_workbook']} | {cells['pipeline_new_year']} |"
            )
        # Re-runs are one process (the main job); their stage cells are Dagster's step times and the
        # ratio uses the process's wall time, start-up included.
        for variant in ("pipeline_unchanged", "pipeline_revised_workbook", "pipeline_new_year"):
            total = by_key.get((scale, variant, "total"))
            complete[variant] = bool(total and total["ok"])
            sums[variant] = total["seconds"] if total else 0.0
        floor = by_key.get((scale, "floor", "total"))
        # the old floor = the equal-work floor without its publication stages
        publishing = sum(r["seconds"] for (sc, v, st), r in by_key.items()
                         if sc == scale and v == "floor" and st.startswith("publish_"))
        totals.append((scale, rows, sums, complete, floor, peak, publishing))
    out = ["\n".join(lines), "",
           "| scale | trading rows | pipeline total s | old floor s | pipeline / old floor | equal-work floor s | "
           "pipeline / equal-work floor | unchanged / full | revised workbook / full | new year / full | peak RSS MiB |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for scale, rows, sums, complete, floor, peak, publishing in totals:
        full = sums["pipeline"] if complete["pipeline"] else None
        floor_s = floor["seconds"] if floor and floor["ok"] else None
        old_s = floor_s - publishing if floor_s else None

        def ratio(variant: str) -> str:
            return f"{sums[variant] / full:.0%}" if full and complete[variant] else "—"

        full_text = f"{full:.1f}" if full else "—"
        floor_text = f"{floor_s:.1f}" if floor_s else "—"
        vs_floor = f"{full / floor_s:.1f}×" if full and floor_s else "—"
        old_text = f"{old_s:.1f}" if old_s else "—"
        vs_old = f"{full / old_s:.1f}×" if full and old_s else "—"
        out.append(
            f"| {scale:g} | {rows:,} | {full_text} | {old_text} | {vs_old} | {floor_text} | {vs_floor} | "
            f"{ratio('pipeline_unchanged')} | {ratio('pipeline_revised_workbook')} | {ratio('pipeline_new_year')} | {peak:.0f} |"
        )
    return "\n".join(out)


def main(argv: list[str]) -> int:
    machine, summary, years = load([Path(p) for p in argv])
    print(f"Machine: {machine.get('cores')} cores, {machine.get('memory_gib')} GiB, Python "
          f"{machine.get('python')}; {', '.join(f'{k} {v}' for k, v in machine.get('versions', {}).items())}; "
          f"{machine.get('date')}. Fiscal years generated: {', '.join(dict.fromkeys(years))}.\n")
    print(table(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
