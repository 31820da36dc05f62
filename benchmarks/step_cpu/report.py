"""CPU seconds and peak resident memory per Dagster step of one run, the job process outside its steps, and each child
process (dbt).

    CPU_SAMPLES_DIR=/tmp/x PYTHONPATH=benchmarks/step_cpu dagster job execute -m dagster_project.definitions -j gongkai_all
    python benchmarks/step_cpu/report.py "$DAGSTER_HOME" /tmp/x

The samples come from ``sitecustomize.py`` beside this file; the step windows from the newest run's event log
(SQLite, under DAGSTER_HOME/history/runs). A step's CPU is the job process's CPU between its start and end events,
threads included (GX imported in a thread during the dbt step counts there)."""
from __future__ import annotations

import datetime as dt
import glob
import json
import os
import sqlite3
import sys


def _cpu_at(samples: list, t: float) -> float:
    previous = None
    for ts, cpu, *_ in samples:
        if ts >= t:
            if previous is None:
                return cpu
            t0, c0 = previous
            return c0 + (cpu - c0) * ((t - t0) / (ts - t0) if ts > t0 else 0)
        previous = (ts, cpu)
    return samples[-1][1]


def _peak_rss(samples: list, start: float = float("-inf"), end: float = float("inf")) -> float:
    """The largest resident set (MiB) sampled in [start, end]; NaN for samples taken before memory was sampled."""
    inside = [s[2] for s in samples if len(s) > 2 and start <= s[0] <= end]
    return max(inside) if inside else float("nan")


def _ts(value) -> float:
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value).replace(tzinfo=dt.timezone.utc).timestamp()
    return float(value)


def main(dagster_home: str, samples_dir: str) -> None:
    processes = [json.load(open(f)) for f in glob.glob(os.path.join(samples_dir, "cpu-*.json"))]
    # the Dagster process started first; its children (dbt) after it
    job = min(processes, key=lambda p: p["start"])
    job_end = job["samples"][-1][0]
    # the run whose steps fall in the job process's lifetime (a DAGSTER_HOME keeps every run); index.db is the index
    windows: dict[str, list] = {}
    for db in sorted(glob.glob(os.path.join(dagster_home, "history", "runs", "*.db")), key=os.path.getmtime):
        if os.path.basename(db) == "index.db":
            continue
        con = sqlite3.connect(db)
        found: dict[str, list] = {}
        for step, kind, ts in con.execute("SELECT step_key, dagster_event_type, timestamp FROM event_logs WHERE "
                                          "dagster_event_type IN ('STEP_START', 'STEP_SUCCESS', 'STEP_FAILURE')"):
            found.setdefault(step, [None, None])[0 if kind == "STEP_START" else 1] = _ts(ts)
        con.close()
        if found and job["start"] <= min(w[0] for w in found.values() if w[0]) <= job_end:
            windows = found
    total = job["samples"][-1][1]
    in_steps = 0.0
    for step, (start, end) in sorted(windows.items(), key=lambda item: item[1][0]):
        cpu = _cpu_at(job["samples"], end) - _cpu_at(job["samples"], start)
        in_steps += cpu
        print(f"{step:32s} wall {end - start:6.2f}  CPU {cpu:6.2f}  peak RSS {_peak_rss(job['samples'], start, end):7.0f} MiB")
    first = min(start for start, _ in windows.values())
    print(f"job process CPU {total:.2f}: before the first step {_cpu_at(job['samples'], first):.2f}, "
          f"outside steps {total - in_steps:.2f}; peak RSS {_peak_rss(job['samples']):.0f} MiB")
    for p in processes:
        if p is not job:
            print(f"child {' '.join(p['argv'])[:70]}: CPU {p['samples'][-1][1]:.2f}, "
                  f"peak RSS {_peak_rss(p['samples']):.0f} MiB")


if __name__ == "__main__":
    main(*sys.argv[1:3])
