"""dbt on the bundled sample: load data/raw through the real loaders, `dbt build`, and compare the marts
and rule inputs with the generator's ground truth (which the pipeline itself never reads)."""
from __future__ import annotations

import json

import duckdb
import pytest

from dagster_project.paths import REPO_ROOT

SAMPLE = REPO_ROOT / "data" / "raw"
GROUND_TRUTH = SAMPLE / "ground_truth.json"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not GROUND_TRUTH.is_file(), reason="the bundled sample is not generated yet"),
]


@pytest.fixture(scope="module")
def sample_warehouse(sample_built):
    warehouse, _, _ = sample_built
    truth = json.loads(GROUND_TRUTH.read_text(encoding="utf-8"))
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        yield con, truth
    finally:
        con.close()


def test_disclosure_status_reproduces_the_ground_truth(sample_warehouse):
    con, truth = sample_warehouse
    expected = {(d["publisher_code"], d["fiscal_year"], d["table_key"]): d["status"] for d in truth["disclosure_status"]}
    actual = dict(
        ((p, y, t), s)
        for p, y, t, s in con.execute(
            "select publisher_code, fiscal_year, table_key, status from marts.fct_disclosure_status").fetchall()
    )
    assert {k: actual.get(k) for k in expected} == expected
    not_on_time = {k: s for k, s in actual.items() if s != "on_time"}
    assert not_on_time == expected  # nothing else is anything but on time


# rule inputs dbt owns -> (query of failing objects as (rule_id, publisher_code, fiscal_year, object_key))
RULE_INPUTS = {
    "int_deal_timelines_evaluated": "select rule_id, publisher_code, fiscal_year, deal_key "
                                    "from intermediate.int_deal_timelines_evaluated where applies and not passes",
    "int_reconciliation_checks": "select rule_id, publisher_code, fiscal_year, object_key "
                                 "from intermediate.int_reconciliation_checks where not is_consistent",
    "int_detail_checks": "select rule_id, publisher_code, fiscal_year, object_key "
                         "from intermediate.int_detail_checks where not passes",
    "int_identifier_checks": "select rule_id, publisher_code, fiscal_year, code_value "
                             "from intermediate.int_identifier_checks where not is_valid",
    "int_privacy_hits": "select rule_id, publisher_code, fiscal_year, deal_key from intermediate.int_privacy_hits",
    "int_bulletin_copies_compared": "select 'TRADE_CONFLICTING_COPIES', publisher_code, fiscal_year, deal_key "
                                    "from intermediate.int_bulletin_copies_compared where is_conflicting",
}
RULE_PREFIXES = ("TRADE_", "FLAG_SINGLE", "FLAG_SHORT", "RECON_", "DEBT_BALANCE", "DEBT_PARTS", "DEBT_ROLL",
                 "DEBT_REGION", "DETAIL_", "IDENT_", "PRIV_")


def test_rule_inputs_fail_exactly_the_planted_findings(sample_warehouse):
    con, truth = sample_warehouse
    planted = {
        (f["rule_id"], f["publisher_code"], f["fiscal_year"], f["object_key"])
        for f in truth["findings"] if f["rule_id"].startswith(RULE_PREFIXES)
    }
    failing = set()
    for sql in RULE_INPUTS.values():
        failing |= set(con.execute(sql).fetchall())
    assert failing == planted


def test_duplicated_export_is_deduplicated(sample_warehouse):
    con, truth = sample_warehouse
    duplicates = truth["ingest"]["duplicate_rows"]
    if not duplicates:
        pytest.skip("the sample plants no duplicate export")
    raw_rows, keys = con.execute(
        "select count(*), count(distinct bulletin_key) from raw.trading_bulletins where not is_retired").fetchone()
    (mart_rows,) = con.execute("select count(*) from marts.fct_trading_bulletins").fetchone()
    assert mart_rows == keys < raw_rows
    (with_two_sources,) = con.execute(
        "select count(*) from marts.fct_trading_bulletins where len(source_files) > 1").fetchone()
    assert with_two_sources >= 1


def test_dagster_duplicate_report_names_the_copy_the_marts_keep(sample_warehouse):
    """The report on raw/trading (rendered from the same macro) and fct_trading_bulletins agree, and both
    agree with the ground truth: every planted copy points to the canonical copy the marts keep."""
    from dagster_project.ingest.trading_copies import duplicate_report

    con, truth = sample_warehouse
    report = duplicate_report(con, limit=100_000)
    kept = dict(((k, (f, r)) for k, f, r in con.execute(
        "select bulletin_key, source_file, source_row from marts.fct_trading_bulletins").fetchall()))
    for example in report["examples"]:
        assert kept[example["bulletin_key"]] == (example["duplicate_of"], example["duplicate_row"]), example
    planted = {(d["source_file"], d["source_row"], d["duplicate_of"], d["duplicate_row"])
               for d in truth["ingest"]["duplicate_rows"]}
    assert {(e["source_file"], e["source_row"], e["duplicate_of"], e["duplicate_row"])
            for e in report["examples"]} == planted
    conflicts = set(con.execute(
        "select source_file, source_row, canonical_file, canonical_row from intermediate.int_bulletin_copies_compared "
        "where is_conflicting").fetchall())
    assert conflicts == {(c["source_file"], c["source_row"], c["duplicate_of"], c["duplicate_row"])
                         for c in truth["ingest"]["conflicting_copies"]}
