"""An unchanged re-run carries the previous quality run forward instead of running Great Expectations again.

GX reads the marts dbt built, the raw load manifest, the suites and rule catalogue, and the as-of date. When all
of them are what the last quality run judged, running every suite again can only repeat its results (tens of
seconds at the sample's size, minutes at scale). So the quality stage has a fingerprint — the dbt stage's
recorded fingerprint (marts, seeds incl. the rule catalogue, raw files, as-of), the raw inputs, the quality code
and suites, the as-of date — stored with each run in ``quality.runs.inputs_fingerprint``; when the latest run's
equals today's, its results are carried.

A carried run is appended as a run of its own (new ``run_id``, ``carried_from_run`` naming the source, the same
``check_runs`` and ``findings`` rows under the new id) rather than left as "the latest run is still the old one":
every reader — the report's "since the previous run", the dashboards' ``{latest_findings}``, the release
fingerprint, the run summary, the integrity gate — takes the latest run by ``started_at`` and compares it with the
one before. Appending keeps each of them right without knowing that carrying exists: the report compares two
identical runs and says "no change", the gate sees the same integrity outcomes (failed checks stay failed, so a
broken pipeline stays blocked), and trends get one row per run as before. The price is one more copy of the
findings rows per unchanged run, which DuckDB writes in one INSERT … SELECT. ``check_runs.started_at`` keeps the
time the checks really ran: the evidence is that run's.
"""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import duckdb

from dagster_project import stage_state
from dagster_project.duckdb_memory import capped
from dagster_project.paths import EXPECTATIONS_DIR, REPO_ROOT, carrying_disabled
from dagster_project.quality import store
from dagster_project.quality.runner import QualityRun, new_run_id
from dagster_project.quality.suite_carry import outcome_of
from dagster_project.quality.suites import Suite

QUALITY_STAGE = "quality"
DBT_STAGE = "dbt"  # transform/assets.py records the dbt stage under this name after a whole-project build
# What defines a quality run besides its data: the runner, report and suites, and the masking the report applies.
QUALITY_CODE_PATHS = (
    REPO_ROOT / "dagster_project" / "quality",
    EXPECTATIONS_DIR,
)
QUALITY_PACKAGE = "dagster_project.quality"
# source and data files only: byte-code caches appear on first import and would move the fingerprint
CODE_SUFFIXES = (".py", ".yaml", ".yml", ".json", ".sql", ".csv", ".js", ".css", ".html")


def quality_modules_digest() -> str:
    """The code quality runs outside ``quality/``: the import closure of its modules but the Dagster assets (which
    wire the steps and import the dbt asset) — masking, personal numbers, identifiers, relation fingerprints, paths
    (``code_closure``, as the release's code digest). It was a hand-kept list of files, which missed
    ``relation_fingerprint.py`` (how a relation's fingerprint is taken decides what is carried)."""
    from dagster_project import code_closure

    entries = code_closure.package_modules(QUALITY_PACKAGE, leave_out=(f"{QUALITY_PACKAGE}.assets",))
    return code_closure.digest(entries, leave_out=(QUALITY_PACKAGE,))  # quality/ is hashed by its bytes


def quality_code_digest() -> str:
    return stage_state.tree_digest([p for p in QUALITY_CODE_PATHS if p.exists()], suffixes=CODE_SUFFIXES) \
        + ":" + quality_modules_digest()


def quality_fingerprint(warehouse: Path, as_of: dt.date) -> str | None:
    """Fingerprint of what the quality stage would judge now; None when unknown (``fingerprint_and_marks``)."""
    return fingerprint_and_marks(warehouse, as_of)[0]


def fingerprint_and_marks(warehouse: Path, as_of: dt.date):
    """(fingerprint of what the quality stage would judge now, the ``StorageMarks`` it holds); the fingerprint None
    when unknown (then GX always runs), the marks None when not taken. The marks go to the kept hashes
    (``suite_carry.unit_inputs``): read once, not again on the next connection.

    Unknown: no warehouse, or no recorded dbt build (the marts were built outside Dagster's whole-project
    build, or a build is under way or died half-way: the dbt asset forgets its fingerprint before building).
    The storage marks of the relations dbt builds are in it (``_storage_marks``): a hand-edited mart is judged again.
    """
    if not warehouse.exists():
        return None, None
    con = capped(duckdb.connect(str(warehouse), read_only=True))
    try:
        tables = store.existing_tables(con)
        if not {"raw.stage_state", "raw.load_files"} <= tables:
            return None, None
        row = con.execute("SELECT fingerprint FROM raw.stage_state WHERE stage = ?", [DBT_STAGE]).fetchone()
        if row is None or _built_outside(con):  # a hand dbt build since: the record no longer says what marts hold
            return None, None
        marks, stored = _storage_marks(con)
        return stage_state.stage_fingerprint(con, quality_code_digest(), as_of,
                                             upstream=[QUALITY_STAGE, row[0], stored]), marks
    finally:
        con.close()


# written by the pipeline itself on every run (load records, stage records, quality's results): not what GX judges
PIPELINE_SCHEMAS = ("raw", "quality")


def _storage_marks(con):
    """The storage marks (``relation_fingerprint.StorageMarks``) of every relation dbt builds — those with a generation,
    and every relation outside the schemas the pipeline writes itself (a warehouse built without generations: the
    marts dbt built are there all the same): a mart changed by hand in a DuckDB session moves no dbt record and no
    generation, but it moves its mark, so the run is not carried. A staging view's mark holds the raw tables it
    reads. Returns (the ``StorageMarks``, the marks of them all)."""
    from dagster_project.relation_fingerprint import StorageMarks
    from dagster_project.transform import generations

    names = set(generations.BuildState.read(con).generations) | {name for schema, name in con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "UNION ALL SELECT schema_name, view_name FROM duckdb_views() "
        "WHERE database_name = current_database() AND NOT internal").fetchall() if schema not in PIPELINE_SCHEMAS}
    marks = StorageMarks(con)
    return marks, marks.of_all(names)


def _built_outside(con) -> bool:
    from dagster_project.transform import generations

    return bool(generations.built_outside(con))


def _rows(con, sql: str, params=()) -> list[dict]:
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def carry_previous_run(warehouse: Path, out_dir: Path, suites: list[Suite], fingerprint: str | None,
                       write_report: bool = True) -> QualityRun | None:
    """Carry the latest quality run forward when it judged exactly ``fingerprint``; None when GX must run.

    GX must run when: the fingerprint is unknown or differs; the latest run stored none (run outside Dagster,
    or an expectation errored); its expectations are not today's suites' (one each); or its GX Data Docs are
    gone from the output root (re-running rebuilds them).
    """
    if fingerprint is None or not warehouse.exists() or carrying_disabled():
        return None
    t0 = time.perf_counter()
    quality_dir = out_dir / "quality"
    docs_index = quality_dir / "gx_data_docs" / "index.html"
    if not docs_index.is_file():
        return None
    expectations = {e.expectation_id: e for s in suites for e in s.expectations}
    if len(expectations) != sum(len(s.expectations) for s in suites):
        return None  # two expectations share an id: carried rows could not be told apart
    con = capped(duckdb.connect(str(warehouse)))
    try:
        if "quality.runs" not in store.existing_tables(con):
            return None
        store.ensure_quality_schema(con)  # tables from before carrying gain its columns
        latest = con.execute(
            "select run_id, inputs_fingerprint from quality.runs order by started_at desc limit 1").fetchone()
        if latest is None or latest[1] != fingerprint:
            return None
        source = latest[0]
        checks = _rows(con, "select * from quality.check_runs where run_id = ?", [source])
        if sorted(str(c["expectation_id"]) for c in checks) != sorted(expectations) or any(
                c["status"] == "error" for c in checks):
            return None
        run_id = new_run_id()
        started = dt.datetime.now()
        # one transaction: a crash half-way leaves no run that holds part of the findings
        con.execute("begin transaction")
        try:
            con.execute("insert into quality.findings by name "
                        "select * replace (?::varchar as run_id) from quality.findings where run_id = ?", [run_id, source])
            con.execute("insert into quality.check_runs by name select * replace (?::varchar as run_id, "
                        "coalesce(carried_from_run, run_id) as carried_from_run) from quality.check_runs where run_id = ?",
                        [run_id, source])
            integrity_ok = not any(c["kind"] == "integrity" and c["status"] not in ("passed", "insufficient_data")
                                   for c in checks)
            store.insert_run(con, run_id=run_id, started_at=started, finished_at=dt.datetime.now(), gx_seconds=0.0,
                             total_seconds=time.perf_counter() - t0, suites=len(suites), expectations=len(checks),
                             success=integrity_ok, report_path=str(quality_dir / "index.html") if write_report else None,
                             inputs_fingerprint=fingerprint, carried_from_run=source)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        outcomes = [outcome_of(expectations[c["expectation_id"]], c) for c in checks]
        order = {eid: i for i, eid in enumerate(expectations)}
        outcomes.sort(key=lambda o: order[o.expectation.expectation_id])
        run = QualityRun(run_id, started, outcomes, gx_seconds=0.0, data_docs_index=docs_index,
                         gx_engine=f"not run: results carried from run {source}", carried_from_run=source)
        if write_report:
            from dagster_project.quality.report import write_reports
            from dagster_project.quality.report_carry import carry_reports

            # the source run's files with this run's id and head (report_carry.py), else written whole
            run.report_path = (carry_reports(con, run, suites, quality_dir, source)
                               or write_reports(con, run, suites, quality_dir))
    finally:
        con.close()
    run.total_seconds = time.perf_counter() - t0
    return run
