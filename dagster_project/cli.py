"""Command-line entry points behind the Makefile: prepare dbt, run the main job, start the UI.

Everything goes through Dagster's and dbt's own CLIs, with the paths from ``paths.settings()``
handed down in the environment. ``run`` checks the raw root before anything starts (a missing or
unreadable root fails with one line naming it, nothing touched) and ends with a run summary
(``run_summary``): exit 0 when the run published — publishers' defects are findings, not failures —
and non-zero with a one-line cause when it could not publish.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from dagster_project.paths import DBT_PROJECT_DIR, REPO_ROOT, SettingError, settings

# Exit codes of `run` besides Dagster's own: a setting or the raw root is unusable (nothing started).
EXIT_SETTINGS = 2
# Dagster's console at INFO: the debug events of every step (hundreds of lines) hide the summary.
RUN_CONFIG = "loggers:\n  console:\n    config:\n      log_level: INFO\n"

BIN = Path(sys.executable).parent


def _env() -> dict[str, str]:
    env = settings().env_for_subprocess()
    # dagster-dbt calls `dbt` from PATH: make sure it is this venv's.
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("DAGSTER_HOME", str(REPO_ROOT / ".dagster_home"))
    Path(env["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    # an empty instance configuration: Dagster's defaults, without its warning on every command
    (Path(env["DAGSTER_HOME"]) / "dagster.yaml").touch(exist_ok=True)
    return env


def dbt_executable() -> str:
    return str(BIN / "dbt") if (BIN / "dbt").exists() else (shutil.which("dbt") or "dbt")


def prepare() -> int:
    """Write dbt's manifest, which @dbt_assets reads at import (STACK_NOTES: prepare before import).

    dbt writes into its target folder in place; a Dagster process importing the definitions meanwhile (the UI, a
    second run, a test on another worker) could read half a manifest. So dbt parses into a private folder beside
    it, seeded with the last partial-parse state, and the results are renamed into dbt/target (atomic on one
    filesystem): a reader sees the old manifest or the new one, never a mix.

    The seed is the state kept for this warehouse (``parse_state.py``, which the dbt build keeps too)
    when there is one, else dbt/target's: dbt's state is valid only for the warehouse path it was parsed with, and
    dbt/target's is whichever warehouse was prepared last (another deployment's, a benchmark's, another test's),
    so alternating between two warehouses paid a whole parse on every run. What dbt wrote is kept for this
    warehouse as well as put into dbt/target, as before.

    dbt is not started at all when dbt/target's manifest is the one a prepare wrote from the same project files,
    settings and dbt version, and this warehouse's state is kept (``parse_state.prepared_inputs``): an unchanged
    ``make run``, ``make ui`` or ``make docs`` does not pay a dbt process to learn that nothing changed.
    """
    from dataclasses import replace

    from dagster_project import parse_state

    if not (DBT_PROJECT_DIR / "dbt_project.yml").exists():
        print("dbt project not present yet; skipping dbt parse", file=sys.stderr)
        return 0
    target = DBT_PROJECT_DIR / "target"
    target.mkdir(exist_ok=True)
    # `dbt parse` below names no --target: the profile's default, `local`, whatever GONGKAI_DBT_TARGET says
    local = replace(settings(), dbt_target="local")
    env = _env()
    # dbt is not started when dbt/target's manifest is the one a prepare with these inputs wrote and the state kept
    # for this warehouse is still there (parse_state: the parse would change nothing)
    inputs = parse_state.prepared_inputs(env)
    if parse_state.manifest_prepared_for(target, inputs) and parse_state.state_file(local).is_file():
        return 0
    private = Path(tempfile.mkdtemp(prefix=".parse-", dir=target))
    try:
        state = target / "partial_parse.msgpack"
        if not parse_state.seed(private, local) and state.is_file():
            shutil.copy2(state, private / state.name)
        cmd = [dbt_executable(), "parse", "--project-dir", str(DBT_PROJECT_DIR),
               "--profiles-dir", str(DBT_PROJECT_DIR), "--quiet",
               "--target-path", str(private), "--log-path", str(private / "logs")]
        code = subprocess.call(cmd, env=env, cwd=DBT_PROJECT_DIR)
        if code == 0:
            parse_state.keep(private, local)
            manifest = parse_state.file_digest(private / parse_state.MANIFEST_FILE)
            for name in ("partial_parse.msgpack", "semantic_manifest.json", parse_state.MANIFEST_FILE):  # manifest last
                if (private / name).is_file():
                    os.replace(private / name, target / name)
            if manifest is not None:
                parse_state.record_prepared(target, inputs, manifest)
        return code
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _ensure_fiscal_year_partition(env: dict[str, str], year: int) -> None:
    """A year asked for on the command line is a partition before the run starts (Dagster refuses a run of a
    partition it does not know; dbt registers the years the marts hold only after a build)."""
    from dagster_project import partitions

    saved = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = env["DAGSTER_HOME"]
    try:
        import dagster as dg

        with dg.DagsterInstance.get() as instance:
            partitions.register(instance, [year])
    finally:
        if saved is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = saved


def run_main_job(job: str = "gongkai_all", allow_retire: bool = False, fiscal_year: int | None = None,
                 full_refresh: bool = False) -> int:
    """Materialise every asset on the configured raw root through Dagster's own CLI, then summarise.

    ``fiscal_year``: run the job for that fiscal-year partition (ingest, dbt and quality run as always; the
    publication assets rebuild that year and carry the others over). None: every year, as ``make run``."""
    from dagster_project import run_summary
    from dagster_project.ingest import framework
    from dagster_project.publish import atomic

    if allow_retire:
        os.environ["GONGKAI_ALLOW_RETIRE"] = "1"
    if full_refresh:
        os.environ["GONGKAI_DBT_FULL_REFRESH"] = "1"
    try:
        s = settings()
        framework.check_raw_root(s.raw_dir)
    except (SettingError, framework.RawRootError) as exc:
        print(f"gongkai: 未运行 not run: {exc}", file=sys.stderr)
        return EXIT_SETTINGS
    code = prepare()
    if code:
        print("gongkai: 未运行 not run: dbt parse failed (see above)", file=sys.stderr)
        return code
    env = _env()
    previous_release = atomic.read_pointer(s.out_dir / "open-data")
    started = dt.datetime.now()
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", prefix="gongkai-run-", delete=False) as fh:
        fh.write(RUN_CONFIG)
        config = fh.name
    try:
        cmd = [str(BIN / "dagster"), "job", "execute", "-m", "dagster_project.definitions", "-j", job, "-c", config]
        if fiscal_year is not None:
            _ensure_fiscal_year_partition(env, fiscal_year)
            cmd += ["--tags", json.dumps({"dagster/partition": str(fiscal_year)})]
        code = subprocess.call(cmd, env=env, cwd=REPO_ROOT)
    finally:
        os.unlink(config)
    cause = None
    if code:
        try:
            cause = run_summary.failure_cause(Path(env["DAGSTER_HOME"]), job, started)
        except Exception as exc:  # the summary must not hide the run's own exit code
            cause = f"(cause not readable: {type(exc).__name__})"
    summary = run_summary.summarise(s, started, previous_release, run_ok=code == 0, cause=cause)
    print("\n".join(summary.lines()))
    if code == 0 and not summary.published:
        return 1
    if code:
        print(f"gongkai: 未发布 not published: {cause or f'dagster exited with {code}'}", file=sys.stderr)
    return code


def summary() -> int:
    """Print the summary of the warehouse and release as they stand (no run)."""
    from dagster_project import run_summary
    from dagster_project.publish import atomic

    s = settings()
    current = atomic.read_pointer(s.out_dir / "open-data")
    print("\n".join(run_summary.summarise(s, None, current, run_ok=True).lines()))
    return 0


def ui(host: str = "127.0.0.1", port: int = 3000) -> int:
    code = prepare()
    if code:
        return code
    cmd = [str(BIN / "dagster"), "dev", "-m", "dagster_project.definitions", "-h", host, "-p", str(port)]
    # Restore default signal handlers so Ctrl-C / kill -INT stops it (STACK_NOTES).
    return subprocess.call(
        cmd, env=_env(), cwd=REPO_ROOT,
        preexec_fn=lambda: (signal.signal(signal.SIGINT, signal.SIG_DFL), signal.signal(signal.SIGTERM, signal.SIG_DFL)),
    )


def docs(port: int = 8080, serve: bool = True) -> int:
    """dbt docs and GX Data Docs built with the settings of paths.py, served on 127.0.0.1:<port>."""
    from dagster_project import docs_site

    code = prepare()
    if code:
        return code
    s = settings()
    try:
        built = docs_site.build(s)
    except (FileNotFoundError, RuntimeError) as exc:
        print(exc, file=sys.stderr)
        return 1
    for name, path in built.items():
        print(f"{name}: {path}")
    if serve:
        docs_site.serve(s, port)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dagster_project.cli", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("prepare", help="dbt parse (writes dbt/target/manifest.json)")
    run = sub.add_parser("run", help="materialise every asset (job gongkai_all)")
    run.add_argument("--job", default="gongkai_all")
    run.add_argument("--fiscal-year", type=int, default=None,
                     help="re-publish one fiscal year (its partition); the other years are carried over")
    run.add_argument("--allow-retire", action="store_true",
                     help="retire vanished files even when a family would lose every file or more than "
                          "GONGKAI_RETIRE_MAX_DROP of its rows (same as GONGKAI_ALLOW_RETIRE=1)")
    run.add_argument("--full-refresh", action="store_true",
                     help="rebuild the incremental dbt models whole (dbt build --full-refresh) instead of only the "
                          "partitions new loads touched (same as GONGKAI_DBT_FULL_REFRESH=1)")
    sub.add_parser("summary", help="print the summary of the warehouse and current release")
    ui_parser = sub.add_parser("ui", help="start the Dagster UI on 127.0.0.1")
    ui_parser.add_argument("--port", type=int, default=3000)
    docs_parser = sub.add_parser("docs", help="build dbt docs + GX Data Docs and serve them on 127.0.0.1")
    docs_parser.add_argument("--port", type=int, default=8080)
    docs_parser.add_argument("--no-serve", action="store_true", help="build only")
    args = parser.parse_args(argv)
    if args.command == "prepare":
        return prepare()
    if args.command == "docs":
        return docs(args.port, serve=not args.no_serve)
    if args.command == "run":
        return run_main_job(args.job, allow_retire=args.allow_retire, fiscal_year=args.fiscal_year,
                            full_refresh=args.full_refresh)
    if args.command == "summary":
        return summary()
    return ui(port=args.port)


if __name__ == "__main__":
    raise SystemExit(main())
