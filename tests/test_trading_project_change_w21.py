"""Wave 21: a change of a tender project naming no section, where the project has sections AND a section-less
announcement (the project's own deal ``project/``: ingest/trading.assign_sole_sections keeps it the project's when
it cannot tell which section it is). The change is read on each section's deal — each section is its own procurement
(招标投标法 §23 judged there) — and was judged on ``project/`` too: one late 澄清 gave three TRADE_AMENDMENT_LATE
findings for the two deals it amends. The probe is the platform's 503 CSV export
(tests/fixtures/trading_project_change_w21, MAKE.md); expected values are read from its generator."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from test_trading_candidates_per_row import _query, load_and_build

FIXTURE = Path(__file__).parent / "fixtures" / "trading_project_change_w21"
sys.path.insert(0, str(FIXTURE))
import make_project_change as fx  # noqa: E402

REGISTRY = Path(__file__).parents[1] / "data" / "raw" / "registry"


@pytest.mark.slow
def test_a_late_clarification_of_the_project_is_one_finding_per_section(tmp_path):
    from dagster_project.quality.suites import load_suites

    shutil.copytree(REGISTRY, tmp_path / "raw" / "registry")
    (tmp_path / "raw" / "trading").mkdir()
    shutil.copyfile(FIXTURE / "trading" / fx.NAME, tmp_path / "raw" / "trading" / fx.NAME)
    db = load_and_build(tmp_path, "+int_deal_timelines_evaluated")
    sections = {f"{fx.PROJECT}/{fx.v3.section(fx.PROJECT, n)}" for n in (1, 2)}
    # the project's own deal stays (its section-less announcement): it is no procurement of its own to amend
    deals = {key for (key,) in _query(db, "select deal_key from intermediate.int_deals_assembled")}
    assert deals == sections | {f"{fx.PROJECT}/"}
    rule = next(e for s in load_suites() for e in s.expectations if e.rule_id == "TRADE_AMENDMENT_LATE")
    found = {object_key: (observed, source_file, source_row)
             for _r, _p, _y, object_key, observed, _e, source_file, _sheet, source_row, _d
             in _query(db, rule.sql_for_duckdb(rule.gx_query))}
    days = (fx.CLOSING.date() - fx.CLARIFIED.date()).days
    # exactly the sections': each names the 澄清's own file and row (the title broken inside quotes is one record)
    assert set(found) == sections
    for observed, source_file, source_row in found.values():
        assert (source_file, source_row) == (f"trading/{fx.NAME}", fx.CLARIFICATION_ROW)
        assert observed.startswith(f"{days}") and f"{fx.CLARIFIED:%Y-%m-%d %H:%M:%S}" in observed
    shutil.rmtree(tmp_path, ignore_errors=True)
