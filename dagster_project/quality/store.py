"""The quality tables in DuckDB: appended every run, never truncated, so trends and diffs exist.

`kind` keeps compliance findings (about publishers) apart from integrity checks (about the pipeline).
`finding_key` = rule_id|publisher_code|fiscal_year|object_key: a finding is that distinct key; the
several offending rows behind one finding share it (CONTRACTS.md §7, Aggregation). `document` and `group_key`
(publisher_code|fiscal_year|document) let the report and findings.csv group findings publisher → document → rule.
"""
from __future__ import annotations

from dataclasses import dataclass

import duckdb

DDL = """
CREATE SCHEMA IF NOT EXISTS quality;
CREATE TABLE IF NOT EXISTS quality.runs (
    run_id        VARCHAR NOT NULL,
    started_at    TIMESTAMP NOT NULL,
    finished_at   TIMESTAMP,
    gx_seconds    DOUBLE,
    total_seconds DOUBLE,
    suites        INTEGER,
    expectations  INTEGER,
    success       BOOLEAN,          -- every integrity check passed and nothing errored
    report_path   VARCHAR
);
CREATE TABLE IF NOT EXISTS quality.check_runs (
    run_id           VARCHAR NOT NULL,
    kind             VARCHAR NOT NULL,  -- compliance | integrity
    suite            VARCHAR NOT NULL,
    rule_id          VARCHAR NOT NULL,
    expectation_type VARCHAR NOT NULL,
    batch            VARCHAR NOT NULL,
    severity         VARCHAR NOT NULL,
    legal_basis      VARCHAR,
    started_at       TIMESTAMP NOT NULL,
    finished_at      TIMESTAMP,
    evaluated        BIGINT,            -- objects judged
    failed           BIGINT,            -- distinct findings (finding_key)
    offending_rows   BIGINT,            -- rows behind them (GX's observed value)
    insufficient     BIGINT,            -- objects not judged for lack of data
    success          BOOLEAN NOT NULL,
    status           VARCHAR NOT NULL,  -- passed | failed | insufficient_data | error | skipped
    gx_observed      VARCHAR,
    detail           VARCHAR
);
CREATE TABLE IF NOT EXISTS quality.findings (
    run_id         VARCHAR NOT NULL,
    kind           VARCHAR NOT NULL,
    suite          VARCHAR NOT NULL,
    rule_id        VARCHAR NOT NULL,
    severity       VARCHAR NOT NULL,
    legal_basis    VARCHAR,
    publisher_code VARCHAR,
    publisher_name VARCHAR,
    fiscal_year    INTEGER,
    object_key     VARCHAR,
    observed       VARCHAR,
    expected       VARCHAR,
    source_file    VARCHAR,
    sheet          VARCHAR,
    source_row     INTEGER,
    detail         VARCHAR,
    finding_key    VARCHAR NOT NULL,
    document       VARCHAR,          -- the published document it is about: budget | final | budget_debt | final_debt | trading | portal | registry
    group_key      VARCHAR           -- publisher_code|fiscal_year|document: the report groups publisher → document → rule
);
-- tables written before the grouping columns existed gain them (appended, so positional inserts stay valid)
ALTER TABLE quality.findings ADD COLUMN IF NOT EXISTS document VARCHAR;
ALTER TABLE quality.findings ADD COLUMN IF NOT EXISTS group_key VARCHAR;
-- an unchanged re-run carries the previous run's results forward instead of re-running GX (quality/carry.py):
-- what the run judged (its inputs' fingerprint; NULL when unknown, then it is never carried from) and, for a
-- carried run, the run whose results it repeats. Each expectation's id lets carried outcomes meet their suite.
ALTER TABLE quality.runs ADD COLUMN IF NOT EXISTS inputs_fingerprint VARCHAR;
ALTER TABLE quality.runs ADD COLUMN IF NOT EXISTS carried_from_run VARCHAR;
ALTER TABLE quality.check_runs ADD COLUMN IF NOT EXISTS expectation_id VARCHAR;
-- GX per suite (quality/suite_carry.py): what the suite judged (its relations by content, suite file, code, as-of;
-- NULL when unknown) and, for a row carried from an earlier run, the run whose GX evaluation it repeats.
ALTER TABLE quality.check_runs ADD COLUMN IF NOT EXISTS inputs_fingerprint VARCHAR;
ALTER TABLE quality.check_runs ADD COLUMN IF NOT EXISTS carried_from_run VARCHAR;
"""

# Where a publisher's display name can be found (table, code column, name column), first hit wins.
PUBLISHER_NAME_SOURCES = (
    ("marts.dim_entity", "entity_code", "entity_name"),
    ("marts.dim_region", "region_code", "region_name"),
    ("marts.fct_deals", "tenderer_code", "tenderer_name"),
    # publishers the registry does not know, under their derived UNREG- key: the name their file gives
    ("intermediate.int_sheets_resolved", "publisher_code", "publisher_name"),
    ("intermediate.int_deals_assembled", "publisher_code", "tenderer_name"),
)


# Inserts name their columns: the tables gain columns over time (ALTER above), positional inserts would break.
CHECK_RUN_COLUMNS = (
    "run_id", "kind", "suite", "rule_id", "expectation_type", "batch", "severity", "legal_basis", "started_at",
    "finished_at", "evaluated", "failed", "offending_rows", "insufficient", "success", "status", "gx_observed",
    "detail", "expectation_id", "inputs_fingerprint",
)


def ensure_quality_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def insert_run(con: duckdb.DuckDBPyConnection, **values) -> None:
    """One row of ``quality.runs`` by column name (columns not given stay NULL)."""
    names = list(values)
    con.execute(f"insert into quality.runs ({', '.join(names)}) values ({', '.join('?' for _ in names)})",
                list(values.values()))


def existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "select table_schema || '.' || table_name from information_schema.tables"
    ).fetchall()
    return {r[0] for r in rows}


def fill_publisher_names(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    tables = existing_tables(con)
    for table, code_col, name_col in PUBLISHER_NAME_SOURCES:
        if table not in tables:
            continue
        con.execute(
            f"""
            update quality.findings f set publisher_name = n.name
            from (select {code_col} as code, min({name_col}) as name from {table}
                  where {code_col} is not null group by 1) n
            where f.run_id = ? and f.publisher_name is null and f.publisher_code = n.code
            """,
            [run_id],
        )


DEBT_BOOK = "debt"


def fill_documents(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """The document each finding is about, and its group key. A table's document is its catalogue document
    (debt tables apart: they are published as their own document); a grouped DISC_MISSING names the document
    itself; anything else (trading, portal, registry) the raw family of its source file, else the suite."""
    tables = existing_tables(con)
    if "reference.ref_disclosure_catalogue" in tables:
        con.execute(
            """
            update quality.findings f
            set document = c.document || case when c.book = ? then '_debt' else '' end
            from reference.ref_disclosure_catalogue c
            where f.run_id = ? and f.document is null and f.object_key = c.table_key
            """,
            [DEBT_BOOK, run_id],
        )
    con.execute(
        """
        update quality.findings
        set document = case
                when object_key in ('budget', 'final', 'budget_debt', 'final_debt') then object_key
                when source_file like '%/%' then split_part(source_file, '/', 1)
                else suite end
        where run_id = ? and document is null
        """,
        [run_id],
    )
    con.execute(
        """
        update quality.findings
        set group_key = concat_ws('|', coalesce(publisher_code, ''), coalesce(cast(fiscal_year as varchar), ''), document)
        where run_id = ?
        """,
        [run_id],
    )


@dataclass(frozen=True)
class RunChange:
    previous_run_id: str | None
    new: list[str]
    fixed: list[str]
    still_open: list[str]

    @property
    def unchanged(self) -> bool:
        return self.previous_run_id is not None and not self.new and not self.fixed


def change_since_previous(con: duckdb.DuckDBPyConnection, run_id: str) -> RunChange:
    """Compare this run's finding keys with the run before it (by start time)."""
    prev = con.execute(
        """select run_id from quality.runs
           where started_at < (select started_at from quality.runs where run_id = ?)
           order by started_at desc limit 1""",
        [run_id],
    ).fetchone()
    def keys(rid: str) -> set[str]:
        return {r[0] for r in con.execute(
            "select distinct finding_key from quality.findings where run_id = ? and kind = 'compliance'", [rid]
        ).fetchall()}
    now = keys(run_id)
    if prev is None:
        return RunChange(None, sorted(now), [], [])
    before = keys(prev[0])
    return RunChange(prev[0], sorted(now - before), sorted(before - now), sorted(now & before))
