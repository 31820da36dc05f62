"""dbt on the bundled sample: load data/raw through the real loaders, `dbt build`, and compare the marts
and rule inputs with the generator's ground truth (which the pipeline itself never reads)."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from dagster_project.ingest import framework
from dagster_project.ingest.assets import FAMILY_LOADERS, resolve_loader
from dagster_project.paths import DBT_PROJECT_DIR, REPO_ROOT

SAMPLE = REPO_ROOT / "data" / "raw"
GROUND_TRUTH = SAMPLE / "ground_truth.json"
DBT = str(Path(sys.executable).with_name("dbt"))

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not GROUND_TRUTH.is_file(), reason="the bundled sample is not generated yet"),
]


@pytest.fixture(scope="module")
def sample_warehouse(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dbt_sample")
    warehouse = tmp / "warehouse.duckdb"
    truth = json.loads(GROUND_TRUTH.read_text(encoding="utf-8"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GONGKAI_RAW_DIR", str(SAMPLE))
        mp.setenv("GONGKAI_WAREHOUSE", str(warehouse))
        mp.setenv("GONGKAI_OUT_DIR", str(tmp / "out"))
        mp.delenv("GONGKAI_AS_OF", raising=False)  # today: every sample year is long due
        from dagster_project.paths import settings

        env = settings().env_for_subprocess()
        con = duckdb.connect(str(warehouse))
        try:
            for family, spec in FAMILY_LOADERS.items():
                framework.load_family(con, SAMPLE, family, resolve_loader(spec), progress=lambda _: None)
        finally:
            con.close()
        started = time.perf_counter()
        result = subprocess.run(
            [DBT, "build", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
             "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs")],
            env=env, capture_output=True, text=True, cwd=REPO_ROOT,
        )
        elapsed = time.perf_counter() - started
    assert result.returncode == 0, result.stdout[-6000:]
    print(f"dbt build on the sample: {elapsed:.1f} s")
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
