"""A filler in a party's name cell (代理机构 无, /, 暂无) names no party (wave 16 X5 probe: the re-tendered deal's agency
was 无). The deal's buyer, agency and winner are the names its notices give that are names; the bulletin keeps the
cell as published (fct_trading_bulletins), and the OCDS mapping makes no party of it (test_publish_ocds_one_party_per_name).

The exports are the blind probe's (tests/fixtures/trading_platform_exports, MAKE.md), loaded beside the bundled
registry by the real loaders and built by dbt; which deal states a filler is read from the file, not written out."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from dagster_project.publish.ocds_config import is_party_filler
from cli_pipeline import query as _query

FIXTURE = Path(__file__).parent / "fixtures" / "trading_platform_exports" / "trading"
EXPORT = FIXTURE / "平台导出_工程_bom_crlf.csv"
# the export's party name columns → the deal's
PARTY_COLUMNS = {"TENDERER_NAME": "tenderer_name", "TENDER_AGENCY_NAME": "tender_agency_name",
                 "WIN_BIDDER_NAME": "win_bidder_name"}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def warehouse(trading_probe_warehouse) -> Path:
    return trading_probe_warehouse


def test_a_filler_is_no_party_of_the_deal(warehouse):
    with EXPORT.open(encoding="utf-8-sig", newline="") as handle:
        records = list(csv.DictReader(handle))
    filled = [(r, column) for r in records for column in PARTY_COLUMNS if is_party_filler(r[column])]
    assert filled, "the export states no filler: the fixture is not the case this test is about"
    for record, column in filled:
        deal = f"{record['PROJECT_CODE']}/{record['BID_SECTION_CODE']}"
        names = {r[column] for r in records if f"{r['PROJECT_CODE']}/{r['BID_SECTION_CODE']}" == deal
                 and r[column] and not is_party_filler(r[column])}
        ((got,),) = _query(warehouse, f"select {PARTY_COLUMNS[column]} from intermediate.int_deals_assembled "
                                      "where deal_key = ?", [deal])
        # the name another notice of the deal gives, else none
        assert (got in names) if names else got is None, (deal, column, got)
    # the bulletin keeps what it published
    published = _query(warehouse, "select count(*) from intermediate.int_bulletins_deduplicated "
                                  "where tender_agency_name = '无'")
    assert published == [(sum(1 for r, c in filled if r[c] == "无" and c == "TENDER_AGENCY_NAME"),)]
    # no deal of any export names a filler as a party
    for column in PARTY_COLUMNS.values():
        names = [n for (n,) in _query(warehouse, f"select distinct {column} from intermediate.int_deals_assembled")]
        assert not [n for n in names if is_party_filler(n)], column
