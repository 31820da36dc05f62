"""Wave 20: state-property listings (national data standard 700 LISTING_PUB_INFO, 750 STOCK_LISTING_PUB_INFO) as a
platform exports them (tests/fixtures/trading_listings_w20/MAKE.md).

* PROJECT_PRICE 挂牌价格 was unread: a listing's starting price is its tender's value (OCDS tender.value), read in 元
  by its PRICE_UNIT (0 元, 1 万元).
* The listing's seller (SELLER_* 转让方, the public party) was the OCDS release's `buyer` — "an entity whose budget
  will be used to pay", the opposite of a seller. OCDS 1.1.5's partyRole codelist has no seller; the seller managing
  its own sale is `procuringEntity` (ocds.yaml public_party_roles), and no release or record names it `buyer`.
* 750's free-text BUYER_POSTULATE 受让方资格条件 and OTHER_CONDITIONS 与转让相关的其他条件 were unread, so a mobile or ID
  number written there escaped the privacy scan (DOMAIN.md 4: personal data in any text) — now loaded, scanned and
  never published.
Expectations come from the probe's records (make_probe.T700, T750, PLANTED)."""
from __future__ import annotations

import importlib.util
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from test_ingest_trading import load, query
from test_trading_candidates_per_row import _query, load_and_build

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "trading_listings_w20"
_spec = importlib.util.spec_from_file_location("trading_listings_w20_probe", FIXTURES / "make_probe.py")
probe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(probe)
LISTINGS = [*probe.T700, *probe.T750]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("trading_listings_w20")
    shutil.copytree(REPO_ROOT / "data" / "raw" / "registry", tmp / "raw" / "registry")
    shutil.copytree(FIXTURES / "trading", tmp / "raw" / "trading")
    return load_and_build(tmp, "+int_bulletin_privacy_hits", "+fct_trading_bulletins", "+fct_deals")


def test_a_listing_price_is_read_in_yuan_as_the_listing_budget(tmp_path):
    raw, wh = tmp_path / "raw", tmp_path / "w.duckdb"
    shutil.copytree(FIXTURES / "trading", raw / "trading")
    load(raw, wh)
    got = dict(query(wh, "select project_code, budget_amount_yuan from raw.trading_bulletins"))
    assert {k: Decimal(v) for k, v in got.items()} == {r["PROJECT_CODE"]: probe.starting_price_yuan(r) for r in LISTINGS}
    # the conditions are loaded as written (line breaks kept), for the scan
    (conditions,) = query(wh, "select buyer_conditions, other_conditions from raw.trading_bulletins where project_code = ?",
                          [probe.T750[0]["PROJECT_CODE"]])
    assert conditions == (probe.T750[0]["BUYER_POSTULATE"], probe.T750[0]["OTHER_CONDITIONS"])


@pytest.mark.slow
def test_personal_numbers_in_a_listing_s_conditions_are_found(warehouse):
    stock_file = next(n for n, (table, *_r) in probe.FILES.items() if table == "STOCK_LISTING_PUB_INFO")
    hits = set(_query(warehouse, "select column_name, rule_id from intermediate.int_bulletin_privacy_hits "
                                 "where source_file = ?", [stock_file]))
    # the standard's field → the warehouse column holding it (the spec's buyer_conditions / other_conditions)
    column_of = {"BUYER_POSTULATE": "buyer_conditions", "OTHER_CONDITIONS": "other_conditions"}
    expected = {(column_of[field], rule) for field, (_number, rule) in probe.PLANTED.items()}
    assert expected <= hits, hits


@pytest.mark.slow
def test_the_ocds_tender_value_of_a_listing_is_its_starting_price(warehouse, tmp_path):
    from dagster_project.publish.ocds import build_ocds
    from dagster_project.publish.ocds_config import open_package_text, package_files

    result = build_ocds(warehouse, tmp_path / "out")
    releases = []
    for path in package_files(result.path):
        if path.name.startswith("release-package"):
            with open_package_text(path) as handle:
                releases += json.load(handle)["releases"]
    values = {}
    for release in releases:
        value = (release.get("tender") or {}).get("value")
        if value:
            values[release["ocid"]] = (Decimal(str(value["amount"])), value["currency"])
    for record in LISTINGS:
        ocids = [o for o in values if record["PROJECT_CODE"] in o]
        assert ocids, (record["PROJECT_CODE"], sorted(values))
        assert {values[o] for o in ocids} == {(probe.starting_price_yuan(record), "CNY")}, record["PROJECT_CODE"]



@pytest.mark.slow
def test_the_seller_of_a_listing_is_no_buyer_in_ocds(warehouse, tmp_path):
    from dagster_project.publish.ocds import build_ocds
    from dagster_project.publish.ocds_config import open_package_text, package_files

    result = build_ocds(warehouse, tmp_path / "out")
    items = {"releases": [], "records": []}
    for path in package_files(result.path):
        key = "releases" if path.name.startswith("release-package") else "records"
        with open_package_text(path) as handle:
            items[key] += json.load(handle)[key]
    releases = items["releases"] + [r["compiledRelease"] for r in items["records"]]
    for record in LISTINGS:
        own = [r for r in releases if record["PROJECT_CODE"] in r["ocid"]]
        assert len(own) >= 2, record["PROJECT_CODE"]   # the release and the record's compiled release
        for release in own:
            sellers = [p for p in release["parties"] if p.get("name") == record["SELLER_NAME"]]
            assert [p["roles"] for p in sellers] == [["procuringEntity"]], release["parties"]
            assert "buyer" not in release, release.get("buyer")


@pytest.mark.slow
def test_the_sql_mapping_of_a_sale_is_the_reference_mapping(warehouse, tmp_path):
    # the seller's role is one definition: DuckDB's releases and records are what ocds_reference defines for them
    from dagster_project.publish.ocds_config import open_package_text, package_files
    from dagster_project.publish.ocds_reference import _compile
    from test_publish_support import ocds_written_and_mapped

    folder, expected = ocds_written_and_mapped(warehouse, tmp_path)
    written = {"releases": [], "records": []}
    for path in package_files(folder):
        key = "releases" if path.name.startswith("release-package") else "records"
        with open_package_text(path) as handle:
            written[key] += json.load(handle)[key]
    assert written["releases"] == expected
    sellers = {r["SELLER_NAME"] for r in LISTINGS}
    assert any(p.get("name") in sellers for r in expected for p in r["parties"])   # the sales are there
    for record in written["records"]:
        releases = json.loads(json.dumps([r for r in expected if r["ocid"] == record["ocid"]]))
        assert record["compiledRelease"] == _compile(record["ocid"], releases)
