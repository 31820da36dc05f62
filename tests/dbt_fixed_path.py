"""A test's direct `dbt` call that keeps dbt's partial parse from one test warehouse to the next.

dbt keys its partial-parse state (``partial_parse.msgpack``) by a hash of the profile's connection keys, which holds
the DuckDB ``path``: every test warehouse has a path of its own, so every call into a fresh target parsed the whole
project again ("Unable to do partial parsing because profile has changed"; 8.97 against 3.35 CPU-s for `dbt parse`,
measured in wave 15 at load ≈ 10). Here dbt sees one path per test process — a folder link in the process's own
temp root pointing at the warehouse's folder — and each fresh target is seeded with the last state written through
that link. dbt still re-checks every file's checksum and every env var it read: a stale state costs a re-parse,
never a wrong manifest. DuckDB opens the file (and writes its write-ahead log) in the real folder, through the link.
A warehouse named otherwise than ``warehouse.duckdb`` gets another profile hash: a whole parse, as before.

A whole-pipeline run (`cli run`, an in-process Dagster job) cannot go through a link: ``paths.settings()`` resolves
the warehouse path, so dbt would see the real one. ``fixed_warehouse`` moves the warehouse instead — its file, its
write-ahead log and the scratch folders ``paths.Settings`` puts beside it — into this process's one fixed folder for
the run and back afterwards (renames within the temp root), and seeds the kept parse state
(``parse_state.py``, which ``cli prepare`` and the dbt build read) with the last one written. The fixed
folder is the link's path, so a pipeline run and a direct call on a warehouse named ``warehouse.duckdb`` share one
state. The product sees one warehouse path for every run; the test reads the warehouse where it lives.
"""
from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from dagster_project.paths import DBT_PROJECT_DIR, REPO_ROOT
from dbt_session import DbtSession

DBT = str(Path(sys.executable).with_name("dbt"))
STATE = "partial_parse.msgpack"


def _home() -> Path:
    """This process's folder for the link and the last parse state (conftest points it into pytest's temp root)."""
    home = Path(os.environ.get("GONGKAI_TEST_DBT_HOME") or Path(tempfile.gettempdir()) / f"gongkai-dbt-{os.getpid()}")
    home.mkdir(parents=True, exist_ok=True)
    return home


def scenario_env(tmp: Path, warehouse: Path) -> dict[str, str]:
    """The environment of a dbt run on a test's own ``warehouse``, its raw root and output under ``tmp``."""
    import pytest

    from dagster_project.paths import settings

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GONGKAI_RAW_DIR", str(tmp / "raw"))
        mp.setenv("GONGKAI_WAREHOUSE", str(warehouse))
        mp.setenv("GONGKAI_OUT_DIR", str(tmp / "out"))
        return settings().env_for_subprocess()


def run_dbt(args: list[str], env: dict[str, str], target: Path, logs: Path | None = None,
            unit_tests: bool = True) -> subprocess.CompletedProcess:
    """``dbt <args>`` on the warehouse ``env["GONGKAI_WAREHOUSE"]`` names, into ``target`` (logs: ``logs`` or
    ``target/logs``), as the tests called it before, but through this process's fixed path.

    ``unit_tests=False``: a `dbt build` leaves dbt's unit tests out, as the product's builds in the suite do
    (``paths.dbt_unit_tests_in_whole_builds``; selected builds never run them). They test the dbt code with fixed
    inputs, not a scenario's data: ``sample_built``'s build runs them once per test run."""
    warehouse = Path(env["GONGKAI_WAREHOUSE"])
    home = _home()
    link = home / "warehouse"
    if link.is_symlink():
        link.unlink()
    elif link.exists():  # fixed_warehouse's folder, left by a run this process did not finish
        shutil.rmtree(link)
    link.symlink_to(warehouse.parent.resolve(), target_is_directory=True)
    target.mkdir(parents=True, exist_ok=True)
    saved = home / f"{warehouse.name}.{STATE}"
    if saved.is_file() and not (target / STATE).is_file():
        shutil.copyfile(saved, target / STATE)
    if not unit_tests and args[:1] == ["build"]:
        args = list(args)
        if "--exclude" in args:   # one --exclude takes many selectors
            args.insert(args.index("--exclude") + 1, "resource_type:unit_test")
        else:
            args += ["--exclude", "resource_type:unit_test"]
    cmd = [DBT, *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
           "--target-path", str(target), "--log-path", str(logs or target / "logs")]
    done = _call(cmd, {**env, "GONGKAI_WAREHOUSE": str(link / warehouse.name)})
    if done.returncode == 0 and (target / STATE).is_file():
        shutil.copyfile(target / STATE, saved.with_suffix(".tmp"))
        os.replace(saved.with_suffix(".tmp"), saved)
    return done


_session: "DbtSession | None" = None


def _call(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """``cmd`` (``dbt …``) run with exactly ``env`` in the repository root, as a CLI call: in this process's kept dbt
    process (tests/dbt_session.py — dbt's imports paid once per test process, not per call), or as a CLI process
    when ``GONGKAI_TEST_DBT_CLI=1``. dbt's log is the result's stdout, its code the CLI's."""
    global _session
    if os.environ.get("GONGKAI_TEST_DBT_CLI") == "1":
        return subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO_ROOT)
    if _session is None or not _session.alive():
        _session = DbtSession(dict(os.environ), REPO_ROOT, _home() / "dbt-session.stderr")
        atexit.register(_session.close)
    code, log = _session.call(cmd[1:], env=env, cwd=REPO_ROOT, replace_env=True)
    return subprocess.CompletedProcess(cmd, code, stdout=log, stderr="")


# what paths.Settings keeps beside the warehouse file (tmp_dir, spark_work_dir's default)
_BESIDE = ("tmp", "spark")


@contextmanager
def fixed_warehouse(warehouse: Path) -> Iterator[Path]:
    """Run the pipeline on ``warehouse`` at this process's fixed path: the path to hand the run as
    ``GONGKAI_WAREHOUSE`` (same file name). Everything the run wrote there is moved back beside ``warehouse``."""
    from dagster_project.paths import settings
    from dagster_project import parse_state

    home = _home()
    fixed = home / "warehouse"  # run_dbt's link: the same path
    if fixed.is_symlink():
        fixed.unlink()
    elif fixed.exists():  # left by a run this process did not finish: nothing else of it will be read
        shutil.rmtree(fixed)
    fixed.mkdir()
    parent = warehouse.parent
    for name in (warehouse.name, f"{warehouse.name}.wal", *_BESIDE):
        if (parent / name).exists():
            os.rename(parent / name, fixed / name)
    kept = parse_state.state_file(replace(settings(), warehouse=fixed / warehouse.name, dbt_target="local"))
    saved = home / f"{warehouse.name}.{STATE}"
    if saved.is_file() and not kept.is_file():
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(saved, kept)
    try:
        yield fixed / warehouse.name
    finally:
        if kept.is_file():
            shutil.copyfile(kept, saved.with_suffix(".tmp"))
            os.replace(saved.with_suffix(".tmp"), saved)
        for entry in list(fixed.iterdir()):
            os.rename(entry, parent / entry.name)
        fixed.rmdir()


@contextmanager
def sample_copy_in_dagster(warehouse0: Path, root: Path) -> Iterator[tuple[Path, Path, Path]]:
    """A copy of the built sample under ``root`` for in-process Dagster runs of the dbt asset: the raw files, the
    warehouse at its own path (not the fixed one: Dagster's dbt runs parse for it), a dbt target of its own seeded
    with ``dbt/target``'s partial-parse state (what dagster-dbt reuses), and the environment pointing at them,
    evaluated today, while the context lasts. The warehouse is recorded as built whole (``record_whole_build``):
    ``sample_built`` is a whole `dbt build` of these raw files, code and date. Yields (raw, warehouse, target)."""
    import datetime as dt

    import pytest

    from dagster_project.transform.assets import record_whole_build

    raw, warehouse, target = root / "raw", root / "w.duckdb", root / "target"
    shutil.copytree(REPO_ROOT / "data" / "raw", raw)
    shutil.copyfile(warehouse0, warehouse)
    target.mkdir()
    if (DBT_PROJECT_DIR / "target" / "partial_parse.msgpack").is_file():
        shutil.copy(DBT_PROJECT_DIR / "target" / "partial_parse.msgpack", target)
    with pytest.MonkeyPatch.context() as mp:
        for name, value in (("GONGKAI_RAW_DIR", raw), ("GONGKAI_WAREHOUSE", warehouse), ("GONGKAI_OUT_DIR", root / "out"),
                            ("GONGKAI_AS_OF", dt.date.today().isoformat()), ("DBT_TARGET_PATH", target)):
            mp.setenv(name, str(value))
        record_whole_build()
        yield raw, warehouse, target
