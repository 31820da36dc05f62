"""Codes a spreadsheet damaged become findings (QUAR_CODE_DAMAGED), end to end: raw → dbt → GX → quality.findings.

The bundled sample is run as is, and again with two files as an office forwards them after a spreadsheet opened and
saved them (the committed LibreOffice Calc fixtures: a trading export, tests/fixtures/trading_spreadsheet/, and a
portal log, tests/fixtures/registry_spreadsheet/calc_resaved/). A party's or a publisher's code in scientific
notation is stored NULL and its row loaded (wave 10); each such cell must now be a warning naming file, row, column
and the value as found, with the publisher and year the row names — and nothing else the sample's findings say may
change. Expected cells are read from the fixture files themselves, the publishers from the platform's own export.
"""
from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.paths import REPO_ROOT
from dbt_fixed_path import sample_copy_in_dagster

SAMPLE = REPO_ROOT / "data" / "raw"
FIXTURES = Path(__file__).parent / "fixtures"
TRADING = FIXTURES / "trading_spreadsheet"
PORTAL = FIXTURES / "registry_spreadsheet" / "calc_resaved" / "publications_budget.csv"
ADDED = {"trading/calc_resaved_gbk.csv": TRADING / "calc_resaved_gbk.csv", "portal/publications_calc_resaved.csv": PORTAL}
SCIENTIFIC = re.compile(r"[0-9](\.[0-9]+)?E\+[0-9]{2,3}")
DEAL_CODES = ("PROJECT_CODE", "TENDER_PROJECT_CODE", "BID_SECTION_CODE", "UNIFIED_DEAL_CODE")
COLUMNS = "rule_id, severity, publisher_code, fiscal_year, object_key, observed, expected, source_file, sheet, source_row, detail"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (SAMPLE / "ground_truth.json").is_file(), reason="the bundled sample is not generated yet"),
]


def _records(path: Path, encoding: str) -> dict[int, dict[str, str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return {i: row for i, row in enumerate(csv.DictReader(handle), start=2)}


def _findings(warehouse: Path, env: dict[str, str]) -> list[tuple]:
    """Quality run on ``warehouse`` (its dbt build recorded as done), its findings."""
    from dagster_project import stage_state
    from dagster_project.quality.assets import quality_findings
    from dagster_project.transform.assets import dbt_inputs_fingerprint

    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        mp.delenv("GONGKAI_NO_CARRY", raising=False)
        con = duckdb.connect(str(warehouse))
        try:
            stage_state.record(con, "dbt", dbt_inputs_fingerprint())
        finally:
            con.close()
        assert dg.materialize([quality_findings], instance=dg.DagsterInstance.ephemeral()).success
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(f"select {COLUMNS} from quality.findings "
                           f"where run_id = (select max(run_id) from quality.findings)").fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def runs(sample_built, sample_quality_runs, tmp_path_factory):
    from dagster_project.ingest import framework
    from dagster_project.ingest.assets import FAMILY_LOADERS, resolve_loader

    built, _, _ = sample_built
    tmp = tmp_path_factory.mktemp("codes_damaged")
    today = dt.date.today().isoformat()
    # the sample's own findings: its first quality run, made once per test run (conftest), evaluated today
    con = duckdb.connect(str(sample_quality_runs["warehouse"]), read_only=True)
    try:
        before = con.execute(f"select {COLUMNS} from quality.findings where run_id = ?",
                             [sample_quality_runs["first"].run_id]).fetchall()
    finally:
        con.close()

    # the sample's copy, recorded as built whole; the two files loaded by the loaders; then the dbt asset, which
    # builds and tests what the trading and portal families feed (the rest is the sample's build, unchanged: a
    # selective build gives what a full one gives, test_dbt_republished_workbook) — not a whole `dbt build` again
    from dagster_project.transform.assets import dbt_resource, gongkai_dbt

    with sample_copy_in_dagster(built, tmp / "damaged") as (raw, warehouse, _):
        for rel, path in ADDED.items():
            shutil.copy(path, raw / rel)
        con = duckdb.connect(str(warehouse))
        try:
            for family in ("trading", "portal"):
                report = framework.load_family(con, raw, family, resolve_loader(FAMILY_LOADERS[family]),
                                               progress=lambda _: None)
                assert report.loaded == [rel for rel in ADDED if rel.startswith(family + "/")]
        finally:
            con.close()
        build = dg.materialize([gongkai_dbt], resources={"dbt": dbt_resource}, instance=dg.DagsterInstance.ephemeral())
        assert build.success
    env = {"GONGKAI_RAW_DIR": str(raw), "GONGKAI_WAREHOUSE": str(warehouse), "GONGKAI_OUT_DIR": str(tmp / "out"),
           "GONGKAI_AS_OF": today}
    after = _findings(warehouse, env)
    return {"before": before, "after": after, "warehouse": warehouse}


def test_each_damaged_code_of_a_loaded_row_is_a_warning_naming_its_cell(runs):
    source = _records(TRADING / "platform_export.csv", "utf-8")
    expected = {}
    for rel, path in ADDED.items():
        for row, rec in _records(path, "gbk").items():
            if any(SCIENTIFIC.fullmatch(rec.get(c, "")) for c in DEAL_CODES):
                continue                                   # a deal's own code rejects its row instead
            for column, value in rec.items():
                if SCIENTIFIC.fullmatch(value or ""):
                    expected[f"{rel}#{row}#{column}"] = (rel, row, column, value)
    assert {k.split("#")[0] for k in expected} == set(ADDED)   # the fixtures carry what this test is about

    found = {f[4]: dict(zip([c.strip() for c in COLUMNS.split(",")], f))
             for f in runs["after"] if f[0] == "QUAR_CODE_DAMAGED"}
    assert set(found) == set(expected)
    con = duckdb.connect(str(runs["warehouse"]), read_only=True)
    try:
        portal_publishers = dict(((r, p), (code, year)) for r, p, code, year in con.execute(
            "select source_file, source_row, publisher_code, year(published_at) from staging.stg_portal__publications"
        ).fetchall())
    finally:
        con.close()
    for key, (rel, row, column, value) in expected.items():
        finding = found[key]
        assert finding["severity"] == "warning"
        assert (finding["source_file"], finding["source_row"], finding["sheet"]) == (rel, row, None)
        assert finding["observed"] == f"{column} = {value}"
        if rel.startswith("trading/"):   # the deal's buyer and year, as the platform's own export gives them
            assert finding["publisher_code"] == source[row]["TENDERER_CODE"]
            assert finding["fiscal_year"] == int(source[row]["NOTICE_SEND_TIME"][:4])
        else:                            # the publisher as the row names it (its name's key: its code is lost)
            assert (finding["publisher_code"], finding["fiscal_year"]) == portal_publishers[(rel, row)]


def test_the_sample_findings_are_unchanged(runs):
    before = sorted(runs["before"], key=repr)
    others = sorted((f for f in runs["after"] if f[0] != "QUAR_CODE_DAMAGED"), key=repr)
    assert not any(f[0] == "QUAR_CODE_DAMAGED" for f in before)
    assert others == before
