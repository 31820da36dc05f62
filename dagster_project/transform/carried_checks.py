"""dbt test outcomes kept beside the tables they judge, carried into runs that do not re-run the test (issue 16).

A dbt test is an asset check of its model (dagster-dbt; an error-severity test is a *blocking* check). A build
that rebuilds only what changed inputs feed does not run the tests of the other models — their tables did not
change, so their last outcomes still hold. Each outcome is kept in ``raw.dbt_test_results`` (one row per test,
replaced whenever the test runs, with the Dagster run that ran it), and a run that does not run a test reports the
kept outcome as the check's result, marked carried and naming that run. Every blocking check thus has a result in
every run, and a test that failed still fails (and blocks) until a run re-runs it and it passes.

Kept in the warehouse, not only in Dagster's event log: the outcome belongs to the table in this file (a fresh
Dagster instance over an existing warehouse still carries; a fresh warehouse has nothing to carry and runs every
test). A check with no kept outcome is run, not guessed (``checks_without_result``).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import dagster as dg
import duckdb

from dagster_project.row_inserts import insert_rows

RESULTS_DDL = """
CREATE SCHEMA IF NOT EXISTS raw;
CREATE TABLE IF NOT EXISTS raw.dbt_test_results (
    test_unique_id VARCHAR PRIMARY KEY,
    asset_key      VARCHAR NOT NULL,
    check_name     VARCHAR NOT NULL,
    passed         BOOLEAN NOT NULL,
    severity       VARCHAR NOT NULL,
    failed_rows    BIGINT,
    dagster_run_id VARCHAR NOT NULL,
    checked_at     TIMESTAMP NOT NULL
)
"""
UNIQUE_ID = "unique_id"  # dagster-dbt's metadata key on a test's check result
SPEC_UNIQUE_ID = "dagster_dbt/unique_id"  # ... and on the check spec (DAGSTER_DBT_UNIQUE_ID_METADATA_KEY)
FAILED_ROWS = "dagster_dbt/failed_row_count"


@dataclass(frozen=True)
class TestOutcome:
    test_unique_id: str
    asset_key: str  # AssetKey.to_user_string()
    check_name: str
    passed: bool
    severity: str  # AssetCheckSeverity name: ERROR | WARN
    failed_rows: "int | None"
    dagster_run_id: str
    checked_at: dt.datetime


def _metadata_value(value: Any) -> Any:
    return getattr(value, "value", value)


def outcome_of(result: dg.AssetCheckResult, run_id: str, checked_at: dt.datetime) -> "TestOutcome | None":
    """The outcome a dbt test's check result records; None for a result that is not a dbt test's (no unique_id)
    or is itself carried."""
    metadata = result.metadata or {}
    unique_id = _metadata_value(metadata.get(UNIQUE_ID))
    if not unique_id or _metadata_value(metadata.get("carried_from_run")):
        return None
    failed = _metadata_value(metadata.get(FAILED_ROWS))
    return TestOutcome(
        test_unique_id=str(unique_id), asset_key=result.asset_key.to_user_string(), check_name=result.check_name,
        passed=bool(result.passed), severity=result.severity.name, failed_rows=None if failed is None else int(failed),
        dagster_run_id=run_id, checked_at=checked_at)


def spec_test_ids(check_specs: Iterable[dg.AssetCheckSpec]) -> dict[dg.AssetCheckKey, str]:
    """check key -> the dbt test's unique_id, for the checks dagster-dbt made from dbt tests."""
    out = {}
    for spec in check_specs:
        unique_id = _metadata_value((spec.metadata or {}).get(SPEC_UNIQUE_ID))
        if unique_id:
            out[spec.key] = str(unique_id)
    return out


def checks_without_result(test_ids: Mapping[dg.AssetCheckKey, str], kept: Mapping[str, TestOutcome]) -> set[str]:
    """unique_ids of the tests that have never recorded an outcome in this warehouse: they must run."""
    return {unique_id for unique_id in test_ids.values() if unique_id not in kept}


def carried_results(test_ids: Mapping[dg.AssetCheckKey, str], kept: Mapping[str, TestOutcome],
                    evaluated: Iterable[str]) -> list[dg.AssetCheckResult]:
    """A result for every check whose test did not run in this run, from its kept outcome (checks with none are
    left out: ``checks_without_result`` has them run)."""
    ran = set(evaluated)
    results = []
    for key in sorted(test_ids, key=lambda k: (k.asset_key.to_user_string(), k.name)):
        unique_id = test_ids[key]
        outcome = kept.get(unique_id)
        if unique_id in ran or outcome is None:
            continue
        metadata = {
            "dbt_test": "carried 沿用上次结果: table not rebuilt, outcome of the run named here",
            "carried_from_run": outcome.dagster_run_id,
            "checked_at": outcome.checked_at.isoformat(timespec="seconds"),
            UNIQUE_ID: unique_id,
        }
        if outcome.failed_rows is not None:
            metadata[FAILED_ROWS] = outcome.failed_rows
        results.append(dg.AssetCheckResult(
            asset_key=key.asset_key, check_name=key.name, passed=outcome.passed,
            severity=dg.AssetCheckSeverity[outcome.severity], metadata=metadata))
    return results


def load_outcomes(con: duckdb.DuckDBPyConnection) -> dict[str, TestOutcome]:
    con.execute(RESULTS_DDL)
    rows = con.execute(
        "SELECT test_unique_id, asset_key, check_name, passed, severity, failed_rows, dagster_run_id, checked_at "
        "FROM raw.dbt_test_results").fetchall()
    return {row[0]: TestOutcome(*row) for row in rows}


def save_outcomes(con: duckdb.DuckDBPyConnection, outcomes: Iterable[TestOutcome]) -> int:
    rows = [(o.test_unique_id, o.asset_key, o.check_name, o.passed, o.severity, o.failed_rows, o.dagster_run_id,
             o.checked_at) for o in outcomes]
    con.execute(RESULTS_DDL)
    if rows:
        insert_rows(con, "raw.dbt_test_results", rows, or_replace=True)
    return len(rows)
