"""End to end on the bundled sample: ingest → dbt build → every GX suite. The compliance findings must
EQUAL the generator's ground truth (recall and precision 100 %), the integrity suite must pass, and a
second run on the same data must report no change. Validation time is measured and printed."""
from __future__ import annotations

import json
from pathlib import Path

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
def sample_quality(sample_quality_runs):
    """Two quality runs on the sample's warehouse, the second on unchanged data (conftest: made once, shared with
    test_people_outputs); ``out`` holds the second run's report."""
    r = sample_quality_runs
    truth = json.loads(GROUND_TRUTH.read_text(encoding="utf-8"))
    return r["warehouse"], r["out_second"], r["first"], r["second"], truth


def _keys(warehouse: Path, run_id: str, kind: str) -> set[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return set(con.execute(
            """select distinct rule_id, publisher_code, fiscal_year, object_key from quality.findings
               where run_id = ? and kind = ? and severity in ('failure', 'warning', 'red_flag')""",
            [run_id, kind]).fetchall())
    finally:
        con.close()


def test_findings_equal_the_ground_truth(sample_quality):
    warehouse, _, first, _, truth = sample_quality
    expected = {(f["rule_id"], f["publisher_code"], f["fiscal_year"], f["object_key"]) for f in truth["findings"]}
    found = _keys(warehouse, first.run_id, "compliance")
    assert sorted(found - expected, key=str) == [], "raised but not planted (precision)"
    assert sorted(expected - found, key=str) == [], "planted but not raised (recall)"


def test_planted_information_is_raised_where_planted(sample_quality):
    """A figure one unit of its table off is rounding (RECON_ROUNDING), last year's names a rename
    (CLASS_NAME_RENAMED): information exactly where planted, never a failure or warning."""
    warehouse, _, first, _, truth = sample_quality
    planted = {(f["rule_id"], f["publisher_code"], f["fiscal_year"], f["object_key"]) for f in truth["info"]}
    rules = sorted({p[0] for p in planted})
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        found = set(con.execute(
            f"""select distinct rule_id, publisher_code, fiscal_year, object_key from quality.findings
                where run_id = ? and rule_id in ({", ".join("?" for _ in rules)})""", [first.run_id, *rules]).fetchall())
    finally:
        con.close()
    assert {"RECON_ROUNDING", "CLASS_NAME_RENAMED"} <= set(rules)
    assert found == planted


def test_every_suite_ran_and_integrity_passed(sample_quality):
    warehouse, _, first, _, _ = sample_quality
    errors = [(o.expectation.rule_id, o.detail) for o in first.outcomes if o.status == "error"]
    assert errors == []
    assert first.integrity_ok
    assert _keys(warehouse, first.run_id, "integrity") == set()


def test_second_run_reports_no_change(sample_quality):
    warehouse, out, first, second, _ = sample_quality
    assert _keys(warehouse, second.run_id, "compliance") == _keys(warehouse, first.run_id, "compliance")
    page = (out / "quality" / "index.html").read_text(encoding="utf-8")
    assert "no change since last run" in page and first.run_id in page


def test_findings_point_at_their_sources(sample_quality):
    warehouse, _, first, _, _ = sample_quality
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        unsourced = con.execute(
            """select rule_id, count(*) from quality.findings
               where run_id = ? and kind = 'compliance' and source_file is null
                 and rule_id not in ('DISC_MISSING', 'DISC_MISSING_DEADLINE_UNKNOWN', 'FLAG_REPEAT_WINNER')  -- nothing published / buyer-level
               group by 1""", [first.run_id]).fetchall()
    finally:
        con.close()
    assert unsourced == []


def test_report_and_exports_carry_no_personal_data(sample_quality):
    """The sample plants an ID number and a mobile in notices: the report shows them masked, never whole."""
    from dagster_project import identifiers

    _, out, _, _, _ = sample_quality
    for name in ("index.html", "findings.csv"):
        text = (out / "quality" / name).read_text(encoding="utf-8-sig")
        assert identifiers.find_id_numbers(text) == [], name
        assert identifiers.find_mobiles(text) == [], name


def test_validation_ran_in_duckdb_by_sql_pushdown(sample_quality):
    _, _, first, _, _ = sample_quality
    assert "SqlAlchemyExecutionEngine" in first.gx_engine
    assert "dialect duckdb" in first.gx_engine
