"""CPU seconds per Dagster step of one run, the job process outside its steps, and each child process (dbt).

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
    for ts, cpu in samples:
        if ts >= t:
            if previous is None:
                return cpu
            t0, c0 = previous
            return c0 + (cpu - c0) * ((t - t0) / (ts - t0) if ts > t0 else 0)
        previous = (ts, cpu)
    return samples[-1][1]


def _ts(value) -> float:
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value).replace(tzinfo=dt.timezone.utc).timestamp()
    return float(value)


def main(dagster_home: str, samples_dir: str) -> None:
    processes = [json.load(open(f)) for f in glob.glob(os.path.join(samples_dir, "cpu-*.json"))]
    job = next(p for p in processes if "job" in " ".join(p["argv"]))
    # the newest run's event log; index.db (the run index) is written after it, so it is left out
    db = max((f for f in glob.glob(os.path.join(dagster_home, "history", "runs", "*.db"))
              if os.path.basename(f) != "index.db"), key=os.path.getmtime)
    con = sqlite3.connect(db)
    windows: dict[str, list] = {}
    for step, kind, ts in con.execute("SELECT step_key, dagster_event_type, timestamp FROM event_logs WHERE "
                                      "dagster_event_type IN ('STEP_START', 'STEP_SUCCESS', 'STEP_FAILURE')"):
        windows.setdefault(step, [None, None])[0 if kind == "STEP_START" else 1] = _ts(ts)
    total = job["samples"][-1][1]
    in_steps = 0.0
    for step, (start, end) in sorted(windows.items(), key=lambda item: item[1][0]):
        cpu = _cpu_at(job["samples"], end) - _cpu_at(job["samples"], start)
        in_steps += cpu
        print(f"{step:32s} wall {end - start:6.2f}  CPU {cpu:6.2f}")
    first = min(start for start, _ in windows.values())
    print(f"job process CPU {total:.2f}: before the first step {_cpu_at(job['samples'], first):.2f}, "
          f"outside steps {total - in_steps:.2f}")
    for p in processes:
        if p is not job:
            print(f"child {' '.join(p['argv'])[:70]}: CPU {p['samples'][-1][1]:.2f}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
