"""A notice naming its project but no section (the national search service's records carry ``tenderProjectCode`` only)
is the section's when its project has exactly one (wave 16 X5 probe: NXCG2019-01's result from the search service was
a deal ``NXCG2019-01/`` of its own beside the platform export's ``NXCG2019-01/NXCG2019-01-1`` — a result without
announcement, a GP result lacking its fields). With several sections, or none, it stays the project's own deal.
Either file may come first: in one load, or in separate loads, either one earlier (wave 17:
test_trading_sections_load_order.py).

The exports are the blind probe's (tests/fixtures/trading_platform_exports, MAKE.md), loaded by the real loader (and,
for the rules, built by dbt); the projects and sections expected are read from the files."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from cli_pipeline import query
from test_ingest_trading import load

FIXTURE = Path(__file__).parent / "fixtures" / "trading_platform_exports" / "trading"
SEARCH = FIXTURE / "ggzy_search_answer.json"


def _sections() -> dict[str, set[str]]:
    """Every project of the fixture's files with a section column → its sections."""
    found: dict[str, set[str]] = {}
    with (FIXTURE / "政府采购_导出_gbk.csv").open(encoding="gbk", newline="") as handle:
        for r in csv.DictReader(handle):
            found.setdefault(r["项目编号"], set()).add(r["标段(包)编号"])
    with (FIXTURE / "平台导出_工程_bom_crlf.csv").open(encoding="utf-8-sig", newline="") as handle:
        for r in csv.DictReader(handle):
            found.setdefault(r["PROJECT_CODE"], set()).add(r["BID_SECTION_CODE"])
    with (FIXTURE / "TENDER_ANN_QUA_INQUERY_ANN_20191201.csv").open(encoding="utf-8", newline="") as handle:
        for r in csv.DictReader(handle):
            found.setdefault(r["TENDER_PROJECT_CODE"], set()).update(r["BID_SECTION_CODES"].split(";"))
    return found


def _expected_deals() -> dict[str, str]:
    """The search service's record → the deal it belongs to (title → deal key)."""
    sections = _sections()
    records = json.loads(SEARCH.read_text(encoding="utf-8"))["data"]["records"]
    expected = {}
    for r in records:
        project = r["tenderProjectCode"]
        own = sections.get(project, set())
        expected[r["title"]] = f"{project}/{next(iter(own))}" if len(own) == 1 else f"{project}/"
    # the file holds each case: one section, several, none
    counts = {len(sections.get(r["tenderProjectCode"], ())) for r in records}
    assert {0, 1} <= counts and max(counts) > 1
    return expected


def _search_deals(warehouse: Path) -> dict[str, str]:
    return dict(query(warehouse, "SELECT notice_name, split_part(bulletin_key, '|', 1) FROM raw.trading_bulletins "
                                 "WHERE source_file = 'trading/ggzy_search_answer.json' AND NOT is_retired"))


def test_one_load_either_file_first(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    shutil.copytree(FIXTURE, raw / "trading")
    load(raw, wh)      # files in name order: the search answer before the GBK export naming the section
    assert _search_deals(wh) == _expected_deals()


def test_the_section_less_file_in_a_later_load(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    (raw / "trading").mkdir()
    for path in FIXTURE.iterdir():
        if path != SEARCH:
            shutil.copy(path, raw / "trading" / path.name)
    load(raw, wh)
    shutil.copy(SEARCH, raw / "trading" / SEARCH.name)
    load(raw, wh)
    assert _search_deals(wh) == _expected_deals()


@pytest.mark.slow
def test_the_search_services_result_is_the_sections_result(trading_probe_warehouse):
    db = trading_probe_warehouse
    deals = {k for (k,) in query(db, "select deal_key from intermediate.int_deals_assembled")}
    moved = {deal for deal in _expected_deals().values() if not deal.endswith("/")}
    assert moved and moved <= deals
    assert not {deal.split("/")[0] + "/" for deal in moved} & deals    # no section-less twin of those deals
    failing = query(db, "select deal_key, rule_id from intermediate.int_deal_timelines_evaluated where passes = false "
                        "and rule_id in ('TRADE_RESULT_WITHOUT_ANNOUNCEMENT', 'TRADE_RESULT_FIELDS')")
    assert not [f for f in failing if f[0] in moved]
    # the search service's copy and the export's are one bulletin, listed with both files
    files = query(db, "select source_files from intermediate.int_bulletins_deduplicated "
                      "where deal_key in (select unnest(?)) and bulletin_type_code = 'result'", [sorted(moved)])
    assert files and all("trading/ggzy_search_answer.json" in f for (f,) in files)
