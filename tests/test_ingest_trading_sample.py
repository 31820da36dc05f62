"""The bundled sample's text families (trading, registry, portal) load with exactly the rejects and
duplicates its ground truth plants — no more, no fewer."""
from __future__ import annotations

import json

import duckdb
import pytest

from dagster_project.ingest import framework
from dagster_project.ingest.tabular import load_portal_file, load_registry_file
from dagster_project.ingest.trading import duplicate_report, load_trading_file
from dagster_project.paths import REPO_ROOT

SAMPLE_RAW = REPO_ROOT / "data" / "raw"

FAMILIES = {"trading": load_trading_file, "registry": load_registry_file, "portal": load_portal_file}

pytestmark = pytest.mark.skipif(
    not (SAMPLE_RAW / "trading").is_dir() or not (SAMPLE_RAW / "ground_truth.json").is_file(),
    reason="bundled sample not generated yet",
)


def test_sample_text_families_match_ground_truth(gongkai_env):
    truth = json.loads((SAMPLE_RAW / "ground_truth.json").read_text(encoding="utf-8"))
    ingest = truth["ingest"]
    in_scope = lambda rel: rel.split("/", 1)[0] in FAMILIES  # noqa: E731
    con = duckdb.connect(str(gongkai_env.warehouse))
    try:
        reports = {family: framework.load_family(con, SAMPLE_RAW, family, loader)
                   for family, loader in FAMILIES.items()}
        rejected_files = {r[0] for r in con.execute(
            "SELECT source_file FROM raw.load_files WHERE is_current AND status = 'rejected'").fetchall()}
        rejected_rows = {r for r in con.execute(
            "SELECT DISTINCT source_file, source_row FROM raw.load_rejects WHERE source_row IS NOT NULL").fetchall()}
        accounting = con.execute(
            "SELECT count(*) FROM raw.load_files WHERE rows_in <> rows_loaded + rows_rejected").fetchone()[0]
        trading_rows = con.execute("SELECT count(*) FROM raw.trading_bulletins").fetchone()[0]
        duplicates = duplicate_report(con, limit=100_000)
    finally:
        con.close()

    assert rejected_files == {f["source_file"] for f in ingest["rejected_files"] if in_scope(f["source_file"])}
    assert rejected_rows == {(r["source_file"], r["source_row"]) for r in ingest["rejected_rows"]
                             if in_scope(r["source_file"])}
    assert accounting == 0
    expected_dupes = {(d["source_file"], d["source_row"], d["duplicate_of"], d["duplicate_row"])
                      for d in ingest["duplicate_rows"]}
    got_dupes = {(d["source_file"], d["source_row"], d["duplicate_of"], d["duplicate_row"])
                 for d in duplicates["examples"]}
    assert got_dupes == expected_dupes
    # every bulletin is kept, copies included (dbt keeps one per bulletin_key); a national-standard record
    # listing several sections is one record loaded and one bulletin per section
    splits = con_splits(gongkai_env.warehouse)
    assert trading_rows == reports["trading"].rows_loaded + splits
    assert splits >= 1
    if "trading_rows" in truth.get("counts", {}):
        assert trading_rows == truth["counts"]["trading_rows"]


def con_splits(warehouse) -> int:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM raw.trading_bulletins WHERE source_part > 1").fetchone()[0]
    finally:
        con.close()
