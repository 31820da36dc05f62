"""gongkai benchmarks: the real pipeline, stage by stage, against a hand-written DuckDB floor.

For each scale: generate a raw root with the sample generator, then alternate
  A = the pipeline through Dagster's own CLI (one subprocess per stage: ingest, dbt, quality, publish)
  B = the floor (benchmarks/floor/floor.py: one DuckDB SQL script doing the same essential work)
and record wall time, rows/s and peak RSS of every stage (GNU time's "Maximum resident set size").
Then the incremental runs: an unchanged re-run, a re-run after one figure changed in a re-published budget
workbook, and a re-run after one more fiscal year of raw files. The floor writes the same published
datasets as the release (the equal-work floor); its stages before ``publish_*`` are the old floor.
Results: benchmarks/results/<date>.json and the table in benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/run.py --scales 125 1250 12500
    .venv/bin/python benchmarks/run.py --scales 1 --repeats 1 --work /tmp/bench   # smoke
    .venv/bin/python benchmarks/run.py --scales 1 --reruns unchanged              # one re-run only
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TIME = "/usr/bin/time"

# Stages of the pipeline, each one Dagster CLI call selecting a group of assets.
PIPELINE_STAGES: list[tuple[str, str]] = [
    ("ingest", "group:ingest"),
    ("dbt", "group:seeds or group:staging or group:intermediate or group:marts"),
    ("quality", "group:quality"),
    ("publish", "group:publish"),
]


@dataclass
class StageResult:
    scale: float
    variant: str  # pipeline | floor | pipeline_unchanged | pipeline_revised_workbook | pipeline_new_year
    stage: str
    repeat: int
    seconds: float
    peak_rss_mib: float
    rows: int
    exit_code: int

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def timed(cmd: list[str], env: dict[str, str], log: Path) -> tuple[float, float, int]:
    """Run cmd under GNU time; return (wall seconds, peak RSS MiB, exit code)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    time_file = log.with_suffix(".time")
    if env.get("CPU_SAMPLES_DIR"):  # step_cpu's samplers: each command's processes in a folder of their own
        samples = Path(env["CPU_SAMPLES_DIR"]) / log.stem
        samples.mkdir(parents=True, exist_ok=True)
        env = {**env, "CPU_SAMPLES_DIR": str(samples)}
    start = time.perf_counter()
    with log.open("w") as out:
        code = subprocess.call([TIME, "-v", "-o", str(time_file), *cmd], env=env, stdout=out,
                               stderr=subprocess.STDOUT, cwd=REPO)
    seconds = time.perf_counter() - start
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", time_file.read_text())
    rss = int(match.group(1)) / 1024 if match else float("nan")
    return seconds, rss, code


def pipeline_env(raw: Path, work: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        GONGKAI_RAW_DIR=str(raw),
        GONGKAI_WAREHOUSE=str(work / "warehouse.duckdb"),
        GONGKAI_OUT_DIR=str(work / "out"),
        DAGSTER_HOME=str(work / "dagster_home"),
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    Path(env["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    return env


def generate(raw: Path, scale: float, years: str, seed: int) -> None:
    if (raw / "ground_truth.json").exists():
        return
    subprocess.check_call([str(BIN / "python"), "-m", "dagster_project.sample", "--seed", str(seed),
                           "--scale", str(scale), "--years", years, "--out", str(raw), "--force"], cwd=REPO)


def count_trading_rows(raw: Path) -> int:
    truth = json.loads((raw / "ground_truth.json").read_text(encoding="utf-8"))
    return int(truth.get("counts", {}).get("trading_rows", 0))


def run_pipeline(raw: Path, work: Path, scale: float, variant: str, repeat: int, rows: int,
                 fresh: bool) -> list[StageResult]:
    if fresh and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    env = pipeline_env(raw, work)
    results = []
    for stage, selection in PIPELINE_STAGES:
        cmd = [str(BIN / "dagster"), "asset", "materialize", "-m", "dagster_project.definitions",
               "--select", selection]
        if stage == "publish":  # the release is partitioned by fiscal year: the job publishes every year
            cmd = [str(BIN / "dagster"), "job", "execute", "-m", "dagster_project.definitions", "-j", "publish_only"]
        seconds, rss, code = timed(cmd, env, work / "logs" / f"{variant}-{stage}-{repeat}.log")
        results.append(StageResult(scale, variant, stage, repeat, seconds, rss, rows, code))
        if code != 0:
            print(f"  {variant} {stage} failed (exit {code}); see {work / 'logs'}", file=sys.stderr)
            break
    return results


# Which stage a step of the main job belongs to (step keys are asset keys joined by "__").
def stage_of_step(step_key: str) -> str:
    if step_key == "gongkai_dbt":
        return "dbt"
    for stage in ("quality", "publish"):
        if step_key.startswith(stage):
            return stage
    return "ingest"


def last_run_step_stats(dagster_home: Path) -> list[tuple[str, float | None, float | None]]:
    """(step key, start, end) of every step of the last run Dagster recorded in ``dagster_home``. Read in this
    process (after the timed run, so nothing measured moves): a process per read cost ≈ 2.4 CPU-s of imports."""
    from dagster import DagsterInstance

    with DagsterInstance.from_config(str(dagster_home)) as instance:
        run = instance.get_runs(limit=1)[0]
        return [(s.step_key, s.start_time, s.end_time) for s in instance.get_run_step_stats(run.run_id)]


def run_job(raw: Path, work: Path, scale: float, variant: str, repeat: int, rows: int) -> list[StageResult]:
    """A re-run as the Finance Department runs it: the main job in one process (``make run``).

    Stage seconds come from Dagster's own step statistics of that run; ``total`` is the wall time of the
    process, start-up included, under GNU time.
    """
    work.mkdir(parents=True, exist_ok=True)
    env = pipeline_env(raw, work)
    cmd = [str(BIN / "dagster"), "job", "execute", "-m", "dagster_project.definitions", "-j", "gongkai_all"]
    seconds, rss, code = timed(cmd, env, work / "logs" / f"{variant}-job-{repeat}.log")
    results = []
    try:
        stats = last_run_step_stats(Path(env["DAGSTER_HOME"]))
    except Exception as exc:  # a run that failed before Dagster recorded it: its stages are missing, not the harness
        print(f"  {variant}: no step statistics ({type(exc).__name__}: {exc})", file=sys.stderr)
        stats = []
    by_stage: dict[str, float] = {}
    for step_key, start, end in stats:
        if start is not None and end is not None:
            stage = stage_of_step(step_key)
            by_stage[stage] = by_stage.get(stage, 0.0) + (end - start)
    for stage, _ in PIPELINE_STAGES:
        if stage in by_stage:
            results.append(StageResult(scale, variant, stage, repeat, by_stage[stage], rss, rows, code))
    results.append(StageResult(scale, variant, "total", repeat, seconds, rss, rows, code))
    if code != 0:
        print(f"  {variant} job failed (exit {code}); see {work / 'logs'}", file=sys.stderr)
    return results


def run_floor(raw: Path, work: Path, scale: float, repeat: int, rows: int) -> list[StageResult]:
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    results = []
    report = work / "floor_stages.json"
    cmd = [str(BIN / "python"), str(REPO / "benchmarks" / "floor" / "floor.py"), "--raw", str(raw),
           "--work", str(work), "--report", str(report)]
    seconds, rss, code = timed(cmd, dict(os.environ), work / "floor.log")
    if report.exists():
        for stage, stage_seconds in json.loads(report.read_text()).items():
            results.append(StageResult(scale, "floor", stage, repeat, stage_seconds, rss, rows, code))
    results.append(StageResult(scale, "floor", "total", repeat, seconds, rss, rows, code))
    return results


def added_dir(raw: Path, family: str, year: int) -> Path:
    return raw / family / f"added_{year}"


def add_year(raw: Path, scale: float, seed: int, year: int, staging: Path) -> None:
    """Generate one more fiscal year and copy its files into the raw root.

    Files keep their names (the portal log names its attachments by file name) and go into an
    ``added_<year>/`` folder inside each family folder, since files are found recursively.
    """
    if staging.exists():
        shutil.rmtree(staging)
    subprocess.check_call([str(BIN / "python"), "-m", "dagster_project.sample", "--seed", str(seed),
                           "--scale", str(scale), "--years", f"{year}-{year}", "--out", str(staging),
                           "--force"], cwd=REPO)
    for path in staging.rglob("*"):
        if path.is_file() and path.name != "ground_truth.json":
            relative = path.relative_to(staging)
            target = added_dir(raw, relative.parts[0], year).joinpath(*relative.parts[1:])
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def revise_workbook(raw: Path, backup_dir: Path) -> tuple[Path, Path, str]:
    """Re-publish one budget workbook with one figure changed (a publisher's quiet correction).

    The first line amount of the first sheet that is not a total row gets one unit more; the workbook is
    saved under its own name (a new version of the same file). Returns (file, backup of the original, what
    changed); ``restore_workbook`` puts the original back.
    """
    from openpyxl import load_workbook

    for path in sorted((raw / "budget").rglob("*.xlsx")):
        book = load_workbook(path)
        for sheet in book.worksheets:
            for row in sheet.iter_rows(min_row=4):
                label = " ".join(str(c.value) for c in row if isinstance(c.value, str))
                if any(word in label for word in ("合计", "总计", "小计")):
                    continue
                cell = next((c for c in row if isinstance(c.value, (int, float)) and not isinstance(c.value, bool)
                             and c.value > 0 and c.column > 1), None)
                if cell is None:
                    continue
                backup_dir.mkdir(parents=True, exist_ok=True)
                backup = backup_dir / path.name
                shutil.copy2(path, backup)
                before = cell.value
                cell.value = before + 1
                # a new file under the old name, never the old file rewritten: a raw root copied with hard links
                # (`cp -al`) shares its files with the original
                revised = path.with_name(f".revised-{path.name}")
                book.save(revised)
                os.replace(revised, path)
                return path, backup, f"{path.name} {sheet.title}!{cell.coordinate}: {before} -> {cell.value}"
    raise RuntimeError(f"no budget workbook with a line amount under {raw / 'budget'}")


def restore_workbook(path: Path, backup: Path) -> None:
    shutil.copy2(backup, path)
    backup.unlink()


def remove_added_year(raw: Path, year: int) -> None:
    """Leave the raw root as generated for the next invocation."""
    for family_dir in raw.iterdir():
        if family_dir.is_dir() and added_dir(raw, family_dir.name, year).exists():
            shutil.rmtree(added_dir(raw, family_dir.name, year))


# The re-runs after the fresh pipeline run, in this order, on its warehouse (``run_job``, the main job in one process).
RERUNS = ("unchanged", "revised_workbook", "new_year")


def rerun(raw: Path, work: Path, scale: float, years: str, seed: int, rows: int, reruns: list[str],
          record: Callable[[list[StageResult]], None], run: Callable[..., list[StageResult]] = run_job,
          keep_before_new_year: Path | None = None) -> None:
    """The re-runs named in ``reruns`` on the pipeline's warehouse of ``scale``: nothing changed; one figure of a
    re-published budget workbook changed; one more fiscal year of raw files (at the same yearly volume: the scale
    covers every year of ``years``). The corrected workbook stays for the new-year run (which then adds only the
    year); the raw root is put back as generated at the end, also when a run fails. ``keep_before_new_year``: a folder
    that receives a copy of the warehouse's work folder and of the raw root just before the new year is added."""
    pipe_work = work / f"pipe-{scale:g}"
    if "unchanged" in reruns:
        record(run(raw, pipe_work, scale, "pipeline_unchanged", 0, rows))
    revised = None
    if "revised_workbook" in reruns:
        workbook, backup, change = revised = revise_workbook(raw, work / f"revised-{scale:g}")
        print(f"  re-published workbook: {change}")
    try:
        if revised:
            record(run(raw, pipe_work, scale, "pipeline_revised_workbook", 0, rows))
        if "new_year" in reruns:
            if keep_before_new_year:  # the state a new year starts from, to run it again (RESULTS' step tables)
                for source, name in ((pipe_work, "pipe"), (raw, "raw")):
                    if (keep_before_new_year / name).exists():
                        shutil.rmtree(keep_before_new_year / name)
                    keep_before_new_year.mkdir(parents=True, exist_ok=True)
                    # cp -a: the releases' hard links (carried parts) stay links in the copy
                    subprocess.check_call(["cp", "-a", str(source), str(keep_before_new_year / name)])
            first_year, last_year = (int(y) for y in years.split("-"))
            year_scale = scale / (last_year - first_year + 1)
            add_year(raw, year_scale, seed, last_year + 1, work / f"added-{scale:g}")
            try:
                record(run(raw, pipe_work, scale, "pipeline_new_year", 0, rows))
            finally:
                remove_added_year(raw, last_year + 1)
    finally:
        if revised:
            restore_workbook(workbook, backup)


def summarise(results: list[StageResult]) -> list[dict]:
    """Median seconds per (scale, variant, stage) and the pipeline / floor ratios."""
    from statistics import median

    groups: dict[tuple, list[StageResult]] = {}
    for r in results:
        groups.setdefault((r.scale, r.variant, r.stage), []).append(r)
    rows = []
    for (scale, variant, stage), items in sorted(groups.items()):
        rows.append({
            "scale": scale, "variant": variant, "stage": stage,
            "seconds": round(median(i.seconds for i in items), 2),
            "peak_rss_mib": round(max(i.peak_rss_mib for i in items), 1),
            "rows": items[0].rows,
            "rows_per_second": round(median(i.rows_per_second for i in items)),
            "ok": all(i.exit_code == 0 for i in items),
        })
    return rows


def machine() -> dict:
    mem_kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    versions = {}
    for package in ("dagster", "dbt-core", "dbt-duckdb", "duckdb", "great_expectations", "polars"):
        try:
            from importlib.metadata import version
            versions[package] = version(package)
        except Exception:  # pragma: no cover - informational only
            versions[package] = "?"
    return {"cores": os.cpu_count(), "memory_gib": round(mem_kib / 1024 / 1024, 1),
            "python": platform.python_version(), "versions": versions,
            "date": dt.date.today().isoformat()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", nargs="+", type=float, default=[125, 1250, 12500])
    parser.add_argument("--repeats", type=int, default=2, help="A/B alternations per scale")
    parser.add_argument("--years", default="2017-2019")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=REPO / "benchmarks" / "work")
    parser.add_argument("--reruns", nargs="*", choices=RERUNS, default=list(RERUNS),
                        help="which re-runs follow the pipeline's fresh run (default all; none: no re-runs)")
    parser.add_argument("--no-incremental", action="store_true", help="no re-runs (as --reruns with no name)")
    parser.add_argument("--out", type=Path, default=None, help="results JSON (default benchmarks/results/<date>.json)")
    parser.add_argument("--keep-before-new-year", type=Path, default=None,
                        help="copy the work folder and raw root here before the new year (pipe/, raw/; one scale)")
    args = parser.parse_args(argv)
    if args.repeats < 1 or any(s <= 0 for s in args.scales):
        parser.error("--repeats must be ≥ 1 and every scale > 0")

    # dbt's manifest is read when Dagster imports the definitions: parse it now, like `make run`.
    subprocess.check_call([str(BIN / "python"), "-m", "dagster_project.cli", "prepare"], cwd=REPO)
    out = args.out or REPO / "benchmarks" / "results" / f"{dt.date.today().isoformat()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    results: list[StageResult] = []
    reruns = [] if args.no_incremental else args.reruns

    def save() -> None:
        # after every run, so a long benchmark that is stopped still leaves what it measured
        # what was generated goes with the numbers: a new year's share depends on how many years came before it
        generation = {"years": args.years, "seed": args.seed, "scales": args.scales}
        out.write_text(json.dumps({"machine": machine(), "generation": generation,
                                   "results": [asdict(r) for r in results],
                                   "summary": summarise(results)}, ensure_ascii=False, indent=2),
                       encoding="utf-8")

    def record(measured: list[StageResult]) -> None:
        results.extend(measured)
        save()

    for scale in args.scales:
        raw = args.work / f"raw-{scale:g}"
        generate(raw, scale, args.years, args.seed)
        rows = count_trading_rows(raw)
        print(f"scale {scale:g}: {rows:,} trading rows")
        for repeat in range(args.repeats):
            # alternate the order so neither side always runs on a warm page cache
            order = ("pipeline", "floor") if repeat % 2 == 0 else ("floor", "pipeline")
            for side in order:
                if side == "pipeline":
                    results += run_pipeline(raw, args.work / f"pipe-{scale:g}", scale, "pipeline", repeat, rows, fresh=True)
                else:
                    results += run_floor(raw, args.work / f"floor-{scale:g}", scale, repeat, rows)
                save()
        rerun(raw, args.work, scale, args.years, args.seed, rows, reruns, record,
              keep_before_new_year=args.keep_before_new_year)
    save()
    for row in summarise(results):
        print(json.dumps(row, ensure_ascii=False))
    print(f"written {out}")
    return 0 if all(r.exit_code == 0 for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
