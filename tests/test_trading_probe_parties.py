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


def test_a_consortium_split_across_two_exports_is_one_winner(warehouse):
    # the probe's 513: the consortium's lead in WIN_RESULT_ANNO_lead.csv, its member in WIN_RESULT_ANNO_members.csv,
    # each file one row of it, its 联合体名称 listing both (read from the files, not written out). Each copy named its
    # own member before: the deal's winner the lead alone, two copies differing in winner (TRADE_CONFLICTING_COPIES).
    rows = {}
    for name in ("WIN_RESULT_ANNO_lead.csv", "WIN_RESULT_ANNO_members.csv"):
        with (FIXTURE / name).open(encoding="utf-8-sig", newline="") as handle:
            rows[name] = [r for r in csv.DictReader(handle) if r["UNION_NAME"]]
    ((lead,), (member,)) = rows.values()
    assert lead["UNION_NAME"] == member["UNION_NAME"] and lead["WIN_BIDDER_NAME"] != member["WIN_BIDDER_NAME"]
    deal = f"{lead['TENDER_PROJECT_CODE']}/{lead['BID_SECTION_CODE']}"
    copies = _query(warehouse, "select distinct win_bidder_name, win_bidder_code, bid_amount_yuan from raw.trading_bulletins "
                               "where split_part(bulletin_key, '|', 1) = ? and split_part(bulletin_key, '|', 2) = 'result'",
                    [deal])
    assert len(copies) == 1, copies   # the two copies state the same notice
    kept = _query(warehouse, "select win_bidder_name, copies, list_sort(source_files) from "
                             "intermediate.int_bulletins_deduplicated where deal_key = ? and bulletin_type_code = 'result'",
                  [deal])
    assert kept == [(copies[0][0], 2, ["trading/WIN_RESULT_ANNO_lead.csv", "trading/WIN_RESULT_ANNO_members.csv"])]
    assert lead["WIN_BIDDER_NAME"] in copies[0][0] and member["WIN_BIDDER_NAME"] in copies[0][0]
    ((winner,),) = _query(warehouse, "select win_bidder_name from intermediate.int_deals_assembled where deal_key = ?", [deal])
    assert winner == copies[0][0]
