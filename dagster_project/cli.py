"""Command-line entry points behind the Makefile: prepare dbt, run the main job, start the UI.

Everything goes through Dagster's and dbt's own CLIs, with the paths from ``paths.settings()``
handed down in the environment.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from dagster_project.paths import DBT_PROJECT_DIR, REPO_ROOT, settings

BIN = Path(sys.executable).parent


def _env() -> dict[str, str]:
    env = settings().env_for_subprocess()
    # dagster-dbt calls `dbt` from PATH: make sure it is this venv's.
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("DAGSTER_HOME", str(REPO_ROOT / ".dagster_home"))
    Path(env["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    return env


def dbt_executable() -> str:
    return str(BIN / "dbt") if (BIN / "dbt").exists() else (shutil.which("dbt") or "dbt")


def prepare() -> int:
    """Write dbt's manifest, which @dbt_assets reads at import (STACK_NOTES: prepare before import)."""
    cmd = [dbt_executable(), "parse", "--project-dir", str(DBT_PROJECT_DIR),
           "--profiles-dir", str(DBT_PROJECT_DIR), "--quiet"]
    if not (DBT_PROJECT_DIR / "dbt_project.yml").exists():
        print("dbt project not present yet; skipping dbt parse", file=sys.stderr)
        return 0
    return subprocess.call(cmd, env=_env(), cwd=DBT_PROJECT_DIR)


def run_main_job(job: str = "gongkai_all") -> int:
    """Materialise every asset on the configured raw root through Dagster's own CLI."""
    code = prepare()
    if code:
        return code
    cmd = [str(BIN / "dagster"), "job", "execute", "-m", "dagster_project.definitions", "-j", job]
    return subprocess.call(cmd, env=_env(), cwd=REPO_ROOT)


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
        return run_main_job(args.job)
    return ui(port=args.port)


if __name__ == "__main__":
    raise SystemExit(main())
