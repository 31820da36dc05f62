"""``make docs``: build the dbt docs and the GX Data Docs with the settings of ``paths.py``, link them
from one page with the quality report and dashboards, and serve the output root on 127.0.0.1.

- dbt docs: ``dbt docs generate --static`` (dbt's CLI, in the environment of ``Settings``) writes one
  self-contained page (manifest and catalog inside, so it also opens from the file system); it is
  copied to ``<out>/docs/dbt/index.html``. Usage tracking is off (``dbt_project.yml`` flags), so the
  page loads nothing from outside. dbt starts from the parse state kept for the warehouse
  (``parse_state.py``, as ``cli prepare`` and the builds do) and keeps what it wrote: without it
  every ``make docs`` parsed the whole project again (≈ 6 of the call's ≈ 26 CPU-s on the sample).
- GX Data Docs: ``quality.runner.build_data_docs`` validates the suites on the warehouse as it is and
  writes ``<out>/quality/gx_data_docs/`` with the vendored assets (``quality/offline_docs.py``); the
  quality tables are not touched.
- ``<out>/docs/index.html`` links both, the quality report and the dashboards.
"""
from __future__ import annotations

import functools
import html
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from dagster_project.paths import DBT_PROJECT_DIR, Settings
from dagster_project import parse_state

DEFAULT_PORT = 8080


def _dbt() -> str:
    local = Path(sys.executable).with_name("dbt")
    return str(local) if local.exists() else (shutil.which("dbt") or "dbt")


def fix_dbt_docs_page(text: str) -> str:
    """dbt's menu template writes ``<use xlink:href="{{ getIcon(..) }}">``: the browser loads that literal
    URL before Angular fills it in (a console warning per icon, a 404 when served). ``ng-attr-`` makes
    Angular set the attribute only once it has a value."""
    return text.replace('<use xlink:href="{{', '<use ng-attr-xlink:href="{{')


def build_dbt_docs(s: Settings) -> Path:
    """dbt's documentation site of the project, as one offline page ``<out>/docs/dbt/index.html``."""
    target = s.out_dir / "docs" / "dbt"
    target.mkdir(parents=True, exist_ok=True)
    # `docs generate` below names no --target: the profile's default, `local` (as `cli prepare`'s parse)
    local = replace(s, dbt_target="local")
    with tempfile.TemporaryDirectory(prefix="gongkai-dbt-docs-") as tmp:
        parse_state.seed(Path(tmp), local)
        proc = subprocess.run(
            [_dbt(), "docs", "generate", "--static", "--project-dir", str(DBT_PROJECT_DIR),
             "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", tmp, "--log-path", str(Path(tmp) / "logs"),
             "--quiet"],
            env=s.env_for_subprocess(), cwd=DBT_PROJECT_DIR, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"dbt docs generate failed:\n{(proc.stdout + proc.stderr)[-3000:]}")
        parse_state.keep(Path(tmp), local)
        page = target / "index.html"
        tmp_page = target / ".index.html.tmp"
        text = (Path(tmp) / "static_index.html").read_text(encoding="utf-8")
        tmp_page.write_text(fix_dbt_docs_page(text), encoding="utf-8")
        tmp_page.replace(page)
    return page


def build_gx_docs(s: Settings) -> Path | None:
    from dagster_project.quality.runner import build_data_docs

    return build_data_docs(s.warehouse, s.out_dir)


def write_index(s: Settings) -> Path:
    links = [("dbt/index.html", "dbt 模型文档 dbt docs (models, columns, tests, lineage)"),
             ("../quality/gx_data_docs/index.html", "GX 数据文档 Great Expectations Data Docs"),
             ("../quality/index.html", "数据质量报告 Quality report"),
             ("../dashboards/index.html", "仪表板 Dashboards")]
    items = "".join(f'<li><a href="{h}">{html.escape(t)}</a></li>' for h, t in links)
    page = s.out_dir / "docs" / "index.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text('<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>gongkai 文档 Docs</title>'
                    '</head><body style="font-family:sans-serif;margin:24px"><h1>gongkai 文档 Documentation</h1>'
                    f"<ul>{items}</ul></body></html>", encoding="utf-8")
    return page


def build(s: Settings) -> dict[str, Path | None]:
    if not s.warehouse.exists():
        raise FileNotFoundError(f"warehouse {s.warehouse} not found: run `make run` first")
    return {"dbt": build_dbt_docs(s), "gx": build_gx_docs(s), "index": write_index(s)}


def serve(s: Settings, port: int = DEFAULT_PORT, host: str = "127.0.0.1") -> None:
    """Serve the output root on ``host:port`` until interrupted (Ctrl-C)."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(s.out_dir))
    with ThreadingHTTPServer((host, port), handler) as server:
        print(f"gongkai docs: http://{host}:{port}/docs/index.html (Ctrl-C stops)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
