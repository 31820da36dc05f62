"""Wave 19's blind round on the trading areas beside works and procurement: land (600/601), mining rights (650–653),
state property (700/701, 750/753) and the national platform's search answer for those areas
(tests/fixtures/blind_trading_w19/MAKE.md). The whole pipeline runs once on the probe beside the bundled registry and
portal, in its own folder of the run conftest.py's ``debt_books_and_export_run`` makes for four modules (one `cli run`
of fixed costs); what is read here is of this probe's files and deals alone (OWN), but the scan for the planted
personal numbers, which reads every published file. Every expectation is computed from the generator's records (make_probe.py) and the contract (RAW_FORMATS.md
trading/, DOMAIN.md 2.4), never read off the pipeline's output.
"""
from __future__ import annotations

import gzip
import json
import shutil
import sys
import zipfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from cli_pipeline import query

FIXTURES = Path(__file__).parent / "fixtures" / "blind_trading_w19"
sys.path.insert(0, str(FIXTURES))
import make_probe as probe  # noqa: E402

# the national platform's information types (RAW_FORMATS trading/) → the DOMAIN 2.4 information type; 0104 交易结果公示
# is the deal's result in every area but works, the one area with a candidates publicity before its result
NATIONAL_TYPE = {"0201": "announcement", "0202": "result", "0203": "contract", "0204": "change", "0105": "change",
                 "9002": "result", "0104": "result"}
SALE_AREAS = ("land", "mining", "state_property")
OWN = "trading/blind_trading_w19/"   # this probe's folder in the shared run's raw root (source_file is relative to it)


def write_raw(raw: Path) -> None:
    """This module's probe in its own folder of a raw root that holds the sample's registry and portal."""
    shutil.copytree(FIXTURES / "trading", raw / OWN)


@pytest.fixture(scope="module")
def run(debt_books_and_export_run) -> Path:
    # one run with test_debt_blind's, test_debt_whole_region's and test_privacy_typed_ids' files (conftest.py)
    return debt_books_and_export_run


def _own_deals(warehouse: Path) -> set[str]:
    return {k for (k,) in query(warehouse, "select distinct deal_key from marts.fct_trading_bulletins "
                                           "where source_file like ?", [OWN + "%"])}


def _v3_records():
    for name, (table, records, _fmt) in probe.FILES.items():
        for rec in records:
            yield name, table, rec


def _deal_of(warehouse: Path, unified: str | None = None, project: str | None = None) -> dict:
    cols = ["deal_key", "trade_area_code", "has_announcement", "has_result", "bid_amount_yuan", "win_bidder_name",
            "announced_at", "result_published_at", "tenderer_name"]
    where, param = ("unified_deal_code = ?", unified) if unified else ("project_code = ?", project)
    rows = query(warehouse, f"select {', '.join(cols)} from marts.fct_deals where {where}", [param])
    assert len(rows) == 1, (unified or project, rows)
    return dict(zip(cols, rows[0]))


def test_every_record_loaded(run):
    wh = run / "warehouse.duckdb"
    got = {Path(f).name: (i, ok, bad) for f, i, ok, bad in query(
        wh, "select source_file, rows_in, rows_loaded, rows_rejected from raw.load_files "
            "where family = 'trading' and is_current and source_file like ?", [OWN + "%"])}
    expected = {Path(name).name: (len(recs), len(recs), 0) for name, (_t, recs, _f) in probe.FILES.items()}
    expected[Path(probe.NATIONAL_FILE).name] = (len(probe.NATIONAL), len(probe.NATIONAL), 0)
    expected[Path(probe.FLAT_FILE).name] = (len(probe.FLAT), len(probe.FLAT), 0)
    assert got == expected


def test_v3_tables_area_type_and_amount(run):
    wh = run / "warehouse.duckdb"
    for _name, table, rec in _v3_records():
        rows = query(wh, "select trade_area_code, bulletin_type_code, bid_amount_yuan from marts.fct_trading_bulletins "
                         "where unified_deal_code = ? and bulletin_type_code = ?",
                     [rec["UNIFIED_DEAL_CODE"], "result" if table in probe.RESULT_TABLES else "announcement"])
        assert len(rows) == 1, (table, rows)
        area, _type, amount = rows[0]
        assert area == probe.AREA[table], table
        if table in probe.RESULT_TABLES:
            assert Decimal(amount) == probe.deal_amount_yuan(table, rec), table


def test_national_answer_type_area_and_amount(run):
    wh = run / "warehouse.duckdb"
    got = sorted(query(wh, "select d.project_code, b.notice_send_time, b.bulletin_type_code, b.trade_area_code, "
                           "b.budget_amount_yuan, b.bid_amount_yuan from marts.fct_trading_bulletins as b "
                           "join marts.fct_deals as d using (deal_key) where b.source_file like ?", [OWN + "%ggzy_search%"]))
    expected = sorted(
        (r["tenderProjectCode"], datetime.fromisoformat(r["publishTime"]),
         NATIONAL_TYPE[r["informationType"]], probe.NATIONAL_AREA[r["businessType"]],
         probe.national_amount_yuan(r["budgetAmount"]) if "budgetAmount" in r else None,
         probe.national_amount_yuan(r["bidAmount"]) if "bidAmount" in r else None)
        for r in probe.NATIONAL)
    assert [(p, t, ty, a, b if b is None else Decimal(b), d if d is None else Decimal(d))
            for p, t, ty, a, b, d in got] == expected


def test_every_deal_traces_back_to_its_announcement(run):
    wh = run / "warehouse.duckdb"
    results = {rec["UNIFIED_DEAL_CODE"]: (table, rec) for _n, table, rec in _v3_records() if table in probe.RESULT_TABLES}
    for _n, table, rec in _v3_records():
        if table in probe.RESULT_TABLES:
            continue
        deal = _deal_of(wh, unified=rec["UNIFIED_DEAL_CODE"])
        assert deal["has_announcement"] and deal["trade_area_code"] == probe.AREA[table]
        # the public party: the land office (600 公示单位), the seller of a listing (700/750 转让方)
        party = rec.get("ANNOUNCEMENT_UNIT") or rec.get("SELLER_NAME")
        assert deal["tenderer_name"] == party, rec["UNIFIED_DEAL_CODE"]
        assert deal["has_result"] == (rec["UNIFIED_DEAL_CODE"] in results), rec["UNIFIED_DEAL_CODE"]
        if deal["has_result"]:
            rtable, rrec = results[rec["UNIFIED_DEAL_CODE"]]
            assert Decimal(deal["bid_amount_yuan"]) == probe.deal_amount_yuan(rtable, rrec)
            assert deal["announced_at"] <= deal["result_published_at"]
    for project in sorted({r["tenderProjectCode"] for r in probe.NATIONAL}):
        records = [r for r in probe.NATIONAL if r["tenderProjectCode"] == project]
        deal = _deal_of(wh, project=project)
        assert deal["has_announcement"]
        # the national mining deal's result is its 0104 交易结果公示 (a candidates publicity is works' alone)
        assert deal["has_result"] == any(NATIONAL_TYPE[r["informationType"]] == "result" for r in records), project
        result = next(r for r in records if NATIONAL_TYPE[r["informationType"]] == "result")
        assert Decimal(deal["bid_amount_yuan"]) == probe.national_amount_yuan(result["bidAmount"]), project


def test_no_budget_or_order_failure_for_sales(run):
    # a land, mining-right or state-property sale closes above its starting or listing price: that is an auction's
    # outcome, no amount above a budget or ceiling (DOMAIN 2.4 names those of purchases: 预算 / 最高限价)
    wh = run / "warehouse.duckdb"
    own = _own_deals(wh)
    assert len(own) > len(SALE_AREAS)
    got = [(rule, key) for rule, key, source in query(
        wh, "select rule_id, object_key, source_file from quality.findings where rule_id in "
            "('TRADE_AMOUNT_OVER_BUDGET', 'TRADE_DATE_ORDER', 'TRADE_RESULT_WITHOUT_ANNOUNCEMENT', "
            "'TRADE_CONTRACT_SIGN_LATE')") if key in own or (source or "").startswith(OWN)]
    assert got == []


def test_flat_land_export_is_one_deal_sold_and_contracted(run):
    # the flat export's land parcel: announced, sold above its starting price, its 出让合同 signed 46 days after the
    # deal — a sale, judged by no tender's rule (招标投标法 §46's 30 days, the budget ceiling)
    wh = run / "warehouse.duckdb"
    first = probe.FLAT[0]
    deal = _deal_of(wh, project=first["PROJECT_CODE"])
    result = next(r for r in probe.FLAT if r["BULLETIN_TYPE"] == "成交结果公告")
    assert (deal["trade_area_code"], deal["has_announcement"], deal["has_result"]) == ("land", True, True)
    assert Decimal(deal["bid_amount_yuan"]) == Decimal(result["BID_AMOUNT"]) > Decimal(first["BUDGET_AMOUNT"])
    assert deal["tenderer_name"] == first["TENDERER_NAME"]


def _text_of(path: Path) -> str:
    if path.suffix == ".gz":
        return gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
    if path.suffix in (".xlsx", ".xlsm"):
        with zipfile.ZipFile(path) as z:
            return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
    if path.suffix == ".parquet":
        con = duckdb.connect()
        try:
            return "\n".join(map(str, con.execute("select * from read_parquet(?)", [str(path)]).fetchall()))
        finally:
            con.close()
    return path.read_bytes().decode("utf-8", "replace")


def test_personal_data_found_and_masked_in_every_extract(run):
    wh = run / "warehouse.duckdb"
    hits = set(query(wh, "select rule_id, regexp_replace(source_file, '.*/', '') from quality.findings "
                         "where rule_id like 'PRIV_%'"))
    land_file = Path(next(n for n, (t, *_r) in probe.FILES.items() if t == "DEAL_BEHAVIOR_INFO")).name
    listing_file = Path(next(n for n, (t, *_r) in probe.FILES.items() if t == "LISTING_PUB_INFO")).name
    # the land notice's ID and mobile; the listing's 转让说明事项 (TRANSFER_NOTES, the listing's own text) its +86 mobile
    assert {("PRIV_ID_NUMBER", land_file), ("PRIV_MOBILE", land_file), ("PRIV_MOBILE", listing_file)} <= hits
    planted = (probe.ID_PLANTED, probe.MOBILE_PLANTED, probe.MOBILE_SPACED, probe.MOBILE_INTL,
               probe.MOBILE_INTL_DIGITS, probe.MOBILE_INTL.replace("+86 ", ""))
    for path in sorted(p for p in (run / "out").rglob("*") if p.is_file() and "gx_data_docs" not in p.parts):
        text = _text_of(path)
        assert not [p for p in planted if p in text], path


def test_ocds_award_per_result(run):
    from dagster_project.paths import settings

    # a package per fiscal year: the other modules' deals are in theirs (and skipped below)
    releases = [rel for package in sorted((run / "out" / "ocds").rglob("release-package-*.json.gz"))
                for rel in json.loads(gzip.decompress(package.read_bytes()))["releases"]]
    own = {settings().ocds_ocid_prefix + key for key in _own_deals(run / "warehouse.duckdb")}
    awards = {}
    for rel in releases:
        for award in rel.get("awards", []) if rel["ocid"] in own else ():
            awards[rel["ocid"]] = Decimal(str(award["value"]["amount"]))
    expected = sorted(probe.deal_amount_yuan(t, r) for _n, t, r in _v3_records() if t in probe.RESULT_TABLES)
    expected += [probe.national_amount_yuan(r["bidAmount"]) for r in probe.NATIONAL
                 if NATIONAL_TYPE[r["informationType"]] == "result"]
    expected += [Decimal(r["BID_AMOUNT"]) for r in probe.FLAT if r["BULLETIN_TYPE"] == "成交结果公告"]
    assert sorted(awards.values()) == sorted(expected)


# ------------------------------------------------------------------ the loader alone, on one probe file each
def _loaded(gongkai_env, table: str) -> tuple[dict, dict]:
    """The probe's file of ``table`` alone in a fresh raw root, loaded: its bulletins by row and its load_files row."""
    from test_ingest_trading import bulletins, load, load_file_row

    name = next(n for n, (t, *_r) in probe.FILES.items() if t == table)
    dest = gongkai_env.raw_dir / "trading" / Path(name).name
    dest.parent.mkdir(parents=True)
    shutil.copy(FIXTURES / "trading" / name, dest)
    load(gongkai_env.raw_dir, gongkai_env.warehouse)
    rel = f"trading/{dest.name}"
    return bulletins(gongkai_env.warehouse, rel), load_file_row(gongkai_env.warehouse, rel)


def test_land_announcement_names_the_office_that_sells(gongkai_env):
    # 600's 公示单位 (ANNOUNCEMENT_UNIT) is the land office selling the right — the deal's public party, as a tender's
    # 招标人 is; unread, the land deal had no publisher and its findings named none
    got, _file = _loaded(gongkai_env, "DEAL_BEHAVIOR_INFO")
    assert [b["tenderer_name"] for b in got.values()] == [r["ANNOUNCEMENT_UNIT"] for r in probe.T600]


@pytest.mark.parametrize("table", ["MINING_BID_AUC_TRANS_RES_ANN", "EXPLOR_BID_AUC_TRANS_RES_ANN"])
def test_mining_result_tables_told_apart_by_their_names(gongkai_env, table):
    # 652 and 653 have one field set: the headers cannot tell a 采矿权 result from a 探矿权 one. The sheet (openpyxl's
    # export names it after the table) or the file naming exactly one of them does — the 653 workbook was read as 652
    # and both files noted as uncertain
    _got, file = _loaded(gongkai_env, table)
    assert file["detected_kind"] == f"bulletins:{table}"
    assert "不能确定是哪一张表" not in file["reason"]
