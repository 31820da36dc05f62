"""Review v17 of wave 19's land / mining / state-property round (tests/fixtures/review_trading_w19_v17/MAKE.md): a land
transfer of several parcels (600 + one 601 row per parcel under one UNIFIED_DEAL_CODE and time) and the national
search answer holding a record of another province. Expectations come from the generator's records and the contract.
"""
from __future__ import annotations

import importlib.util
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from cli_pipeline import query

FIXTURES = Path(__file__).parent / "fixtures" / "review_trading_w19_v17"
# by path and under its own name: the blind round's generator is a make_probe too
_spec = importlib.util.spec_from_file_location("review_trading_w19_v17_probe", FIXTURES / "make_probe.py")
probe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(probe)


OWN = "trading/review_trading_w19_v17/"   # this probe's folder in the shared run's raw root (source_file is relative to it)


def write_raw(raw: Path) -> None:
    """This module's probe in its own folder of a raw root that holds the sample's registry (conftest.py's
    ``debt_books_and_export_run``: one `cli run` for the modules whose few rows would each pay a whole run)."""
    shutil.copytree(FIXTURES / "trading", raw / OWN)


@pytest.fixture(scope="module")
def run(debt_books_and_export_run) -> Path:
    return debt_books_and_export_run


def test_each_parcel_of_a_land_deal_keeps_its_winner_and_amount(run):
    # three parcels sold under one 600 announcement, their 601 rows sharing its UNIFIED_DEAL_CODE and time: each is a
    # result of its own (winner, price), none a conflicting copy of another; the later export's rows are copies
    wh = run / "warehouse.duckdb"
    got = sorted((name, Decimal(amount)) for name, amount in query(
        wh, "select win_bidder_name, bid_amount_yuan from marts.fct_trading_bulletins "
            "where unified_deal_code = ? and bulletin_type_code = 'result'", [probe.MULTI_CODE]))
    expected = sorted((name, Decimal(price) * 10000) for _land, name, _code, price in probe.PARCELS)
    assert got == expected
    assert query(wh, "select rule_id from quality.findings where rule_id in "
                     "('TRADE_CONFLICTING_COPIES', 'TRADE_RESULT_WITHOUT_ANNOUNCEMENT') and starts_with(object_key, ?)",
                 [probe.MULTI_CODE]) == []
    # each parcel (LAND_CODE, the deal's lot) a deal of its own, announced by the 600 the land office published
    deals = query(wh, "select bid_section_code, has_announcement, has_result, tenderer_name, win_bidder_name, "
                      "bid_amount_yuan from marts.fct_deals where unified_deal_code = ? and has_result",
                  [probe.MULTI_CODE])
    assert sorted((lot, w, Decimal(a)) for lot, *_r, w, a in deals) == sorted(
        (land, name, Decimal(price) * 10000) for land, name, _code, price in probe.PARCELS)
    assert {(a, t) for _lot, a, _r, t, *_w in deals} == {(True, probe.T600[0]["ANNOUNCEMENT_UNIT"])}


def test_each_parcel_loaded_once_per_export(run):
    wh = run / "warehouse.duckdb"
    got = {Path(f).name: (i, ok, bad) for f, i, ok, bad in query(
        wh, "select source_file, rows_in, rows_loaded, rows_rejected from raw.load_files "
            "where family = 'trading' and is_current and starts_with(source_file, ?) and source_file like '%DEAL_LAND_INFO%'",
        [OWN])}
    assert got == {Path(n).name: (3, 3, 0) for n, (t, *_r) in probe.FILES.items() if t == "DEAL_LAND_INFO"}


def test_national_record_of_another_province_is_rejected_naming_it(gongkai_env):
    # the search answer's `province` (RAW_FORMATS trading/): a record of Gansu is no Ningxia bulletin — a row reject
    # naming the column and the province, the rest of the answer loads; counts in = loaded + rejected
    from test_ingest_trading import load, load_file_row, query as raw_query

    dest = gongkai_env.raw_dir / "trading" / Path(probe.NATIONAL_FILE).name
    dest.parent.mkdir(parents=True)
    shutil.copy(FIXTURES / "trading" / probe.NATIONAL_FILE, dest)
    load(gongkai_env.raw_dir, gongkai_env.warehouse)
    rel = f"trading/{dest.name}"
    row = load_file_row(gongkai_env.warehouse, rel)
    others = [r for r in probe.NATIONAL if r["province"] != probe.HOME_PROVINCE]
    assert (row["rows_in"], row["rows_loaded"], row["rows_rejected"]) == (
        len(probe.NATIONAL), len(probe.NATIONAL) - len(others), len(others))
    loaded = {c for (c,) in raw_query(gongkai_env.warehouse, "select coalesce(project_code, tender_project_code) from raw.trading_bulletins")}
    assert loaded == {r["tenderProjectCode"] for r in probe.NATIONAL if r["province"] == probe.HOME_PROVINCE}
    rejects = raw_query(gongkai_env.warehouse, "select source_column, raw_value, reason from raw.load_rejects "
                                               "where source_file = ?", [rel])
    assert [(c, v) for c, v, _r in rejects] == [("province", r["province"]) for r in others]


def test_a_land_result_labelled_0104_and_9002_is_one_bulletin(gongkai_env):
    # 交易结果公示 (0104's text) is a land deal's result in dbt staging (ref_bulletin_types' row for the area): the
    # loader's key must say so too, or the province's copy and the national answer's 成交公示 of one result at one time
    # are two bulletins — the deal's result published twice — instead of two copies of one (RAW_FORMATS dedupe key)
    from test_ingest_trading import load, query as raw_query

    for name in (probe.FLAT_RESULT_FILE, probe.NATIONAL_RESULT_FILE):
        dest = gongkai_env.raw_dir / "trading" / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FIXTURES / "trading" / name, dest)
    load(gongkai_env.raw_dir, gongkai_env.warehouse)
    keys = raw_query(gongkai_env.warehouse, "select source_file, bulletin_key from raw.trading_bulletins")
    assert len(keys) == 2
    assert len({k for _f, k in keys}) == 1, keys
    assert keys[0][1].split("|")[1] == "result"


def test_the_land_result_twice_is_one_bulletin_with_both_copies(run):
    wh = run / "warehouse.duckdb"
    got = query(wh, "select b.bulletin_type_code, b.win_bidder_name, b.bid_amount_yuan, len(b.source_files) "
                    "from marts.fct_trading_bulletins as b join marts.fct_deals as d using (deal_key) "
                    "where d.project_code = ?",
                [probe.RESULT_TWICE["project"]])
    assert [(t, w, Decimal(a), n) for t, w, a, n in got] == [
        ("result", probe.RESULT_TWICE["winner"], Decimal(probe.RESULT_TWICE["amount_yuan"]), 2)]
