"""OCDS packages built again from the same records publish no new release, through the whole pipeline
(``python -m dagster_project.cli run``; release_metadata.content_digest, ocds_packages.content_digest).

The bundled sample is run once; the trading family's readers' version is then made stale (``raw.stage_state``,
``ingest_readers:trading``: what a readers change does, ingest/reread.py) and the pipeline run again with every part
built anew (``GONGKAI_NO_CARRY=1``: what a change to the publishing code does to every OCDS part — a plain re-read
carries them, their fingerprints over the published columns unchanged). The packages are written again — a new build
folder, so new package ``uri``s, record links and ``publishedDate`` — from the same bulletins and deals. Expected: no
new release, ``LATEST`` unchanged (before the packages counted by their content, such a rebuild published one). Then
one bulletin's title is changed in its raw file: a new release, whose OCDS packages are the new build's.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from dagster_project.paths import DBT_PROJECT_DIR, REPO_ROOT
from dagster_project.publish import atomic

pytestmark = pytest.mark.slow
SAMPLE_RAW = REPO_ROOT / "data" / "raw"
STREAM = "trading/ggzy_stream.jsonl"


def _run(env: dict) -> None:
    run = subprocess.run([sys.executable, "-m", "dagster_project.cli", "run"], cwd=REPO_ROOT, env=env,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, (run.stdout + run.stderr)[-6000:]


def _stale_trading_readers(warehouse: Path) -> None:
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("UPDATE raw.stage_state SET fingerprint = 'stale' WHERE stage = 'ingest_readers:trading'")
    finally:
        con.close()


def _releases(out: Path) -> list[str]:
    return sorted(p.name for p in (out / "open-data").iterdir() if p.is_dir() and not p.name.startswith("."))


def test_packages_rebuilt_from_the_same_records_after_a_reread_publish_nothing_a_changed_bulletin_does(tmp_path):
    if not (SAMPLE_RAW / STREAM).is_file():
        pytest.skip("the bundled sample is not generated")
    raw, warehouse, out = tmp_path / "raw", tmp_path / "gongkai.duckdb", tmp_path / "out"
    shutil.copytree(SAMPLE_RAW, raw)
    env = dict(os.environ, GONGKAI_RAW_DIR=str(raw), GONGKAI_WAREHOUSE=str(warehouse), GONGKAI_OUT_DIR=str(out),
               DAGSTER_HOME=str(tmp_path / "dagster_home"))
    for name in ("GONGKAI_NO_CARRY", "GONGKAI_ALLOW_RETIRE", "GONGKAI_OCDS_BASE_URI"):
        env.pop(name, None)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    (tmp_path / "dagster_home").mkdir()
    if not (DBT_PROJECT_DIR / "target" / "manifest.json").exists():
        subprocess.run([sys.executable, "-m", "dagster_project.cli", "prepare"], cwd=REPO_ROOT, env=env, check=True)
    _run(env)
    first = atomic.read_pointer(out / "open-data")
    ocds_first = atomic.read_pointer(out / "ocds")

    _stale_trading_readers(warehouse)
    _run(dict(env, GONGKAI_NO_CARRY="1"))
    con = duckdb.connect(str(warehouse), read_only=True)
    try:  # the trading files were read again (same bytes, new loads)
        reread = con.execute("SELECT count(*) FROM raw.load_files WHERE family = 'trading' AND NOT is_current "
                             "AND source_sha256 IN (SELECT source_sha256 FROM raw.load_files WHERE is_current)").fetchone()[0]
    finally:
        con.close()
    assert reread > 0
    ocds_record = json.loads((out / "ocds" / atomic.read_pointer(out / "ocds") / "validation.json").read_text("utf-8"))
    assert {p["status"] for p in ocds_record["parts"].values()} == {"new"}  # the packages were built again …
    assert atomic.read_pointer(out / "open-data") == first and _releases(out) == [first]  # … and nothing published
    ocds_reread = atomic.read_pointer(out / "ocds")

    stream = raw / STREAM
    lines = stream.read_text(encoding="utf-8").splitlines(keepends=True)
    item = json.loads(lines[0])
    item["公告标题"] += "（更正）"
    stream.write_text(json.dumps(item, ensure_ascii=False) + "\n" + "".join(lines[1:]), encoding="utf-8")
    _run(env)
    changed = atomic.read_pointer(out / "open-data")
    assert changed != first and _releases(out) == sorted([first, changed])
    ocds_now = atomic.read_pointer(out / "ocds")
    def contents(build: str) -> dict:
        record = json.loads((out / "ocds" / build / "validation.json").read_text(encoding="utf-8"))
        return {n: f["content_sha256"] for n, f in record["files"].items()}
    assert contents(ocds_reread) == contents(ocds_first)  # rebuilt, same content
    assert contents(ocds_now) != contents(ocds_reread)  # the title is in a release package and its record
    manifest = json.loads((out / "open-data" / changed / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["ocds"] and all(
        (out / "open-data" / changed / "ocds" / n).samefile(out / "ocds" / ocds_now / n) for n in manifest["ocds"])
