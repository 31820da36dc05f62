"""Run every suite: GX judges (SQL pushed down to DuckDB), then the findings are written to DuckDB.

Two phases, never overlapping, because DuckDB has one writer and GX's engine holds the file lock:
1. GX phase: an ephemeral context on the warehouse (workaround from `gx_duckdb`), one checkpoint per
   suite (one validation per batch table), Data Docs written under the output root; then the engine
   is disposed.
2. DuckDB phase: for each unexpected-rows expectation the SAME query text GX ran is executed again as
   `INSERT INTO quality.findings SELECT ... FROM (<query>)`. GX returns at most 200 rows per
   expectation (`MAX_RESULT_RECORDS`) but counts them all; we keep every row, and check that our
   row count equals GX's observed count (a mismatch is an error, not silently accepted).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from dagster_project.duckdb_memory import capped
from dagster_project.quality import store
from dagster_project.quality.row_counts import RowCounts
from dagster_project.quality.suites import FINDING_COLUMNS, RuleExpectation, Suite, load_suites

log = logging.getLogger(__name__)


@dataclass
class CheckOutcome:
    expectation: RuleExpectation
    status: str = "skipped"            # passed | failed | insufficient_data | error | skipped
    gx_success: bool | None = None
    gx_observed: Any = None
    gx_unexpected: list = field(default_factory=list)
    evaluated: int | None = None
    failed: int = 0
    offending_rows: int = 0
    insufficient: int | None = None
    detail: str = ""
    started_at: dt.datetime = field(default_factory=dt.datetime.now)
    finished_at: dt.datetime | None = None

    @property
    def blocking(self) -> bool:
        """Integrity checks that did not pass stop publication."""
        return self.expectation.kind == "integrity" and self.status not in ("passed", "insufficient_data")


@dataclass
class QualityRun:
    run_id: str
    started_at: dt.datetime
    outcomes: list[CheckOutcome]
    gx_seconds: float
    total_seconds: float = 0.0
    data_docs_index: Path | None = None
    report_path: Path | None = None
    gx_engine: str = ""
    carried_from_run: str | None = None  # set when GX did not run: the results repeat this run's (carry.py)
    carried_suites: dict[str, str] = field(default_factory=dict)  # suite -> run it repeats, every unit (suite_carry.py)
    carried_units: dict[str, str] = field(default_factory=dict)   # validation unit -> run it repeats
    sliced_units: dict[str, str] = field(default_factory=dict)    # validation unit -> the slices GX judged

    @property
    def integrity_ok(self) -> bool:
        return not any(o.blocking for o in self.outcomes)

    def by_suite(self) -> dict[str, list[CheckOutcome]]:
        grouped: dict[str, list[CheckOutcome]] = {}
        for o in self.outcomes:
            grouped.setdefault(o.expectation.suite, []).append(o)
        return grouped


def new_run_id() -> str:
    return dt.datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def _gx_expectation(gx, exp: RuleExpectation):
    meta = {
        "expectation_id": exp.expectation_id,
        "rule_id": exp.rule_id,
        "severity": exp.severity,
        "legal_basis": exp.legal_basis,
        "publisher_column": exp.publisher_column,
        "kind": exp.kind,
    }
    if exp.type == "unexpected_rows":
        return gx.expectations.UnexpectedRowsExpectation(
            unexpected_rows_query=exp.gx_query, description=exp.description or None, meta=meta
        )
    class_name = "".join(part.capitalize() for part in exp.type.split("_"))
    cls = getattr(gx.expectations, class_name)
    return cls(**exp.kwargs, meta=meta)


def describe_engine(datasource: Any) -> str:
    """Which engine GX judged with, as proof that validation ran in DuckDB (SQL pushdown)."""
    engine = datasource.get_execution_engine()
    sa_engine = getattr(engine, "engine", None)
    dialect = getattr(getattr(sa_engine, "dialect", None), "name", "?")
    return f"{type(engine).__name__} (SQLAlchemy dialect {dialect}, {getattr(sa_engine, 'url', '?')})"


def _run_gx(warehouse: Path, suites: list[Suite], docs_dir: Path, outcomes: dict[str, CheckOutcome],
            engine_seen: list[str] | None = None, carried_units: list[str] = (),
            batch_queries: dict[str, str] | None = None, docs_later: list | None = None) -> Path | None:
    """Validate ``suites`` except their ``carried_units`` (``suite_carry``: one suite's expectations on one batch),
    whose results the caller copies; Data Docs list the carried units too (their pages were written by the runs
    they repeat). A unit in ``batch_queries`` is validated on that query's rows instead of its whole batch
    (``key_slices.py``). With ``docs_later`` (a list) the pages are rendered, masked and made offline (``_build_docs``)
    in a thread whose future is appended to it, and None is returned: the caller takes the index from the future."""
    import warnings

    from dagster_project.quality.gx_duckdb import ephemeral_duckdb_context, import_gx, reset_connection

    gx = import_gx()
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    from dagster_project.quality.suite_carry import save_gx_results, unit_name

    carried_units = set(carried_units)
    docs_dir.mkdir(parents=True, exist_ok=True)
    with ephemeral_duckdb_context(warehouse, docs_dir=docs_dir) as (context, datasource):
        if engine_seen is not None:
            engine_seen.append(describe_engine(datasource))
            log.info("GX execution engine: %s", engine_seen[-1])
        batch_definitions: dict[str, Any] = {}
        rendered: list = []  # what this run validated: the only pages rendered when units are carried
        for suite in suites:
            batches = sorted({e.batch for e in suite.expectations if unit_name(suite.name, e.batch) not in carried_units})
            runnable = [outcomes[e.expectation_id] for e in suite.expectations
                        if e.batch in batches and outcomes[e.expectation_id].status != "error"]
            for batch in batches:
                if not any(o.expectation.batch == batch for o in runnable):
                    save_gx_results(docs_dir, unit_name(suite.name, batch), [], None)
            if not runnable:
                continue
            validations = []
            gx_suites = []
            for batch in sorted({o.expectation.batch for o in runnable}):
                unit = unit_name(suite.name, batch)
                if unit in (batch_queries or {}):
                    asset = datasource.add_query_asset(name=f"{unit}__touched", query=batch_queries[unit])
                    batch_definition = asset.add_batch_definition_whole_table(name="touched_slices")
                elif batch not in batch_definitions:
                    schema, table = batch.split(".", 1)
                    with warnings.catch_warnings():
                        # `schema_name` is deprecated in favour of a schema in the connection, but one
                        # DuckDB connection serves every schema (raw, intermediate, marts, reference).
                        warnings.simplefilter("ignore", DeprecationWarning)
                        asset = datasource.add_table_asset(
                            name=batch.replace(".", "__"), table_name=table, schema_name=schema
                        )
                    batch_definitions[batch] = asset.add_batch_definition_whole_table(name="whole_table")
                if unit not in (batch_queries or {}):
                    batch_definition = batch_definitions[batch]
                gx_suite = context.suites.add(gx.ExpectationSuite(name=unit))
                gx_suites.append(gx_suite)
                for o in runnable:
                    if o.expectation.batch == batch:
                        gx_suite.add_expectation(_gx_expectation(gx, o.expectation))
                validations.append(context.validation_definitions.add(
                    gx.ValidationDefinition(name=gx_suite.name, data=batch_definition, suite=gx_suite)
                ))
            checkpoint = context.checkpoints.add(gx.Checkpoint(
                name=f"quality_{suite.name}",
                validation_definitions=validations,
                actions=[],  # Data Docs are built once below: per-checkpoint rebuilds cost ~1.5 s each
                result_format={"result_format": "SUMMARY", "partial_unexpected_count": 50},
            ))
            try:
                result = checkpoint.run()
            except Exception as exc:  # one broken suite must not hide the others' results
                for o in runnable:
                    o.status, o.detail = "error", f"GX checkpoint failed: {type(exc).__name__}: {exc}"[:2000]
                for g in gx_suites:
                    save_gx_results(docs_dir, g.name, [], None)
                continue
            finally:
                reset_connection(datasource)
            for g in gx_suites:  # kept per unit: a later run may carry one unit and validate another
                save_gx_results(docs_dir, g.name, [g], {
                    k: v for k, v in result.run_results.items() if k.expectation_suite_identifier.name == g.name})
            rendered += list(result.run_results) + [ExpectationSuiteIdentifier(name=g.name) for g in gx_suites]
            for validation_result in result.run_results.values():
                for r in validation_result.results:
                    eid = r.expectation_config.meta["expectation_id"]
                    o = outcomes[eid]
                    o.gx_success = bool(r.success)
                    res = r.result or {}
                    o.gx_observed = res.get("observed_value", res.get("unexpected_count"))
                    o.gx_unexpected = list(res.get("partial_unexpected_list") or [])
                    info = r.exception_info or {}
                    # GX reports per-metric errors as {metric_id: {...}} as well as the flat form.
                    flat = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
                    raised = [e for e in flat if e.get("raised_exception")]
                    if raised:
                        o.status = "error"
                        o.detail = "GX: " + "; ".join(str(e.get("exception_message")) for e in raised)[:2000]
    # The pages are rendered from the context's in-memory stores only (the datasource's connection is closed above,
    # so the warehouse's lock is free for the runner's DuckDB work).
    if docs_later is None:
        return _build_docs(context, docs_dir, sorted(carried_units), rendered)
    # Rendering, masking and the offline rewrite are Python over results GX already holds (≈ 0.4 s rendering after
    # a changed figure at 1 M, ≈ 1.5 s masking after a new year); the runner's DuckDB work that follows releases the
    # GIL, so they run side by side on two cores.
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="data-docs")
    docs_later.append(pool.submit(_build_docs, context, docs_dir, sorted(carried_units), rendered))
    pool.shutdown(wait=False)
    return None


def _build_docs(context, docs_dir: Path, carried_units: list[str], rendered: list) -> Path | None:
    """Data Docs of this run's validations (and the kept results of its carried units), then ``_finish_docs``."""
    from dagster_project.quality.gx_duckdb import DATA_DOCS_SITE
    from dagster_project.quality.suite_carry import restore_gx_results

    restore_gx_results(context, docs_dir, carried_units)
    try:
        context.build_data_docs(site_names=[DATA_DOCS_SITE],
                                resource_identifiers=rendered if carried_units and rendered else None)
    except Exception as exc:  # the project's own report does not depend on GX's renderer
        log.warning("GX Data Docs not built: %s", exc)
    return _finish_docs(docs_dir)


def _finish_docs(docs_dir: Path) -> Path | None:
    """Mask personal numbers in the Data Docs pages, make them open offline, record them as masked; the index, or
    None when the pages could not be masked (so they are not linked) or there is none."""
    try:  # whether or not the docs were built: the kept results of this run's units are written
        mask_written_text(docs_dir)
        masked = True
    except Exception as exc:  # pages that may hold a personal number are not linked from the report
        log.warning("GX Data Docs not masked, so not linked: %s", exc)
        masked = False
    index = docs_dir / "index.html"
    docs_index = index if masked and index.exists() else None
    if docs_index is not None:
        from dagster_project.quality.offline_docs import make_offline

        left = make_offline(docs_dir)  # CDN assets -> vendored copies, so the pages open offline
        if left:
            log.warning("GX Data Docs still name external assets: %s", left)
    if masked:
        record_masked(docs_dir)
    return docs_index


MASKED_RECORD = ".masked_files.json"


def _file_state(path: Path) -> list[int]:
    """What changes whenever a file is written: its size and modification time in nanoseconds (what `make` and rsync
    trust; kept by a copy that keeps times, `cp -a`, so a copied output root does not mask every page again)."""
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def mask_written_text(folder: Path, suffixes: tuple[str, ...] = (".html", ".json")) -> int:
    """Mask personal numbers in text files GX wrote (Data Docs show sample unexpected values: a note or an
    item name as the publisher wrote it). Returns the number of files changed.

    A file whose state (``_file_state``) is the one ``record_masked`` recorded after the last masking, by the same
    masking code, is not read again: the pages of carried units are neither re-rendered nor rewritten (≈ 1.5 s of a
    run after a new year at 1 M went into reading and masking them again). The record is removed here and written
    only after every file is masked, so a run that stopped half-way leaves no record and every file is masked next
    time."""
    import json

    from dagster_project import personal_numbers

    record_path = folder / MASKED_RECORD
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {}
    record_path.unlink(missing_ok=True)
    files = record.get("files", {}) if record.get("code") == _masking_code() else {}
    changed = 0
    for path in folder.rglob("*"):
        if path.suffix in suffixes and path.is_file():
            if files.get(path.relative_to(folder).as_posix()) == _file_state(path):
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            masked = personal_numbers.mask(text)
            if masked != text:
                path.write_text(masked, encoding="utf-8")
                changed += 1
    return changed


def _masking_code() -> str:
    from dagster_project import identifiers, personal_numbers

    return _bytes_digest([Path(personal_numbers.__file__), Path(identifiers.__file__)])


def _bytes_digest(paths: list[Path]) -> str:
    import hashlib

    return hashlib.sha256(b"".join(p.read_bytes() for p in paths)).hexdigest()


def record_masked(folder: Path, suffixes: tuple[str, ...] = (".html", ".json")) -> None:
    """Record the state of every text file of ``folder`` as masked (after ``mask_written_text``, and after
    ``make_offline`` put vendored asset paths in place of CDN addresses, which adds no personal number)."""
    import json

    files = {p.relative_to(folder).as_posix(): _file_state(p) for p in folder.rglob("*")
             if p.suffix in suffixes and p.is_file() and p.name != MASKED_RECORD}
    (folder / MASKED_RECORD).write_text(json.dumps({"code": _masking_code(), "files": files}, sort_keys=True),
                                        encoding="utf-8")


def _write_findings(con, run_id: str, o: CheckOutcome) -> None:
    exp = o.expectation
    common = [run_id, exp.kind, exp.suite, exp.severity, exp.legal_basis]
    if exp.type == "unexpected_rows":
        query = exp.sql_for_duckdb(exp.query)
        cols = ", ".join(f"q.{c}" for c in FINDING_COLUMNS)
        con.execute("drop table if exists _quality_rows")
        con.execute(
            f"""
            create temp table _quality_rows as
            select ?::varchar as run_id, ?::varchar as kind, ?::varchar as suite, cast(q.rule_id as varchar) as rule_id,
                   ?::varchar as severity, ?::varchar as legal_basis,
                   cast(q.publisher_code as varchar) as publisher_code, cast(null as varchar) as publisher_name,
                   cast(q.fiscal_year as integer) as fiscal_year,
                   cast(q.object_key as varchar) as object_key, cast(q.observed as varchar) as observed,
                   cast(q.expected as varchar) as expected, cast(q.source_file as varchar) as source_file,
                   cast(q.sheet as varchar) as sheet, cast(q.source_row as integer) as source_row,
                   cast(q.detail as varchar) as detail,
                   concat_ws('|', q.rule_id, coalesce(cast(q.publisher_code as varchar), ''),
                             coalesce(cast(q.fiscal_year as varchar), ''),
                             coalesce(cast(q.object_key as varchar), '')) as finding_key,
                   cast(null as varchar) as document, cast(null as varchar) as group_key
            from (select {cols} from ({query}) q) q
            """,
            common,
        )
        con.execute("insert into quality.findings by name select * from _quality_rows")
        written = con.execute(
            "select count(*), count(distinct finding_key), count(*) filter (where rule_id is distinct from ?) "
            "from _quality_rows", [exp.rule_id]).fetchone()
        con.execute("drop table _quality_rows")
        wrong_rule = int(written[2])
        o.offending_rows, o.failed = int(written[0]), int(written[1])
        if wrong_rule:
            o.status = "error"
            o.detail = f"query returned {wrong_rule} rows whose rule_id is not {exp.rule_id}"
        elif o.gx_observed is not None and int(o.gx_observed) != o.offending_rows:
            o.status = "error"
            o.detail = f"GX counted {o.gx_observed} rows, the same query in DuckDB returned {o.offending_rows}"
    else:
        # Column-level expectation: GX's partial unexpected list is the drill-down (keys, not whole rows).
        unexpected = o.gx_unexpected
        for value in unexpected:
            text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else value
            con.execute(
                "insert into quality.findings values (?, ?, ?, ?, ?, ?, null, null, null, ?, ?, ?, ?, null, null, ?, ?, null, null)",
                [run_id, exp.kind, exp.suite, exp.rule_id, exp.severity, exp.legal_basis, text,
                 "unexpected", json.dumps(exp.kwargs, ensure_ascii=False), exp.batch,
                 f"{exp.type} on {exp.batch}", f"{exp.rule_id}|||{text}"],
            )
        o.offending_rows = int(o.gx_observed or 0) if isinstance(o.gx_observed, (int, float)) else len(unexpected)
        o.failed = len({json.dumps(v, default=str) for v in unexpected}) if not o.gx_success else 0
        if not o.gx_success and o.failed == 0:
            o.failed = 1


def _restrict_to_touched(outcomes: dict[str, CheckOutcome], slices: dict[str, tuple]) -> None:
    """The expectations of units judged on their touched slices get the restricted query (``slices.py``): GX runs
    it, and the runner re-runs the same text in DuckDB."""
    from dagster_project.quality.slices import restricted_query
    from dagster_project.quality.suite_carry import unit_of

    for eid, o in list(outcomes.items()):
        plan = slices.get(unit_of(o.expectation))
        if plan is None:
            continue
        touched, batch_level, _, batch_types = plan
        exp = o.expectation
        batch_has_columns = batch_level == "pair" or (exp.slice == "year" and batch_level == "year")
        outcomes[eid] = CheckOutcome(dataclasses.replace(
            exp, query=restricted_query(exp.query, exp.slice, touched, batch_has_columns, batch_types)))


FINDINGS_SLICE_TYPES = {"publisher_code": "VARCHAR", "fiscal_year": "INTEGER"}  # quality.findings (store.DDL)


def _add_untouched(con, run_id: str, o: CheckOutcome, touched, source: str) -> None:
    """Beside the touched slices' rows GX just judged, the latest run's rows of every other slice (their inputs
    did not change); then the counts are the whole relation's, as a full evaluation gives them."""
    exp = o.expectation
    con.execute(
        "insert into quality.findings by name select * replace (?::varchar as run_id, "
        "cast(null as varchar) as publisher_name, cast(null as varchar) as document, cast(null as varchar) as group_key) "
        f"from quality.findings where run_id = ? and suite = ? and rule_id = ? "
        f"and not {touched.scan_condition(exp.slice, FINDINGS_SLICE_TYPES)}",
        [run_id, source, exp.suite, exp.rule_id])
    rows, keys = con.execute("select count(*), count(distinct finding_key) from quality.findings "
                             "where run_id = ? and suite = ? and rule_id = ?", [run_id, exp.suite, exp.rule_id]).fetchone()
    o.offending_rows, o.failed = int(rows), int(keys)
    o.gx_observed, o.gx_success = int(rows), rows == 0  # what GX observes over the whole relation


def _keep_slices(con, run: QualityRun, now: dict, fingerprints: dict[str, str | None]) -> None:
    """Record each slice-local unit's slices under the fingerprint its check rows carry (none when it errored)."""
    from dagster_project.quality import slices as slicing
    from dagster_project.quality.suite_carry import unit_of

    if not now:
        return
    slicing.ensure_schema(con)
    errored = {unit_of(o.expectation) for o in run.outcomes if o.status == "error"}
    for unit, unit_slices in now.items():
        fingerprint = fingerprints.get(unit)
        if fingerprint is None or unit in errored:
            continue
        kept = slicing.recorded(con, unit, fingerprint)
        if kept is None or (kept.base, kept.slices) != (unit_slices.base, unit_slices.slices):
            slicing.record(con, unit, fingerprint, unit_slices)


def build_data_docs(warehouse: Path, out_dir: Path, suites: list[Suite] | None = None) -> Path | None:
    """GX Data Docs of every suite on the warehouse as it is, written where a quality run writes them
    (``<out>/quality/gx_data_docs``, offline), without appending to the quality tables (``make docs``)."""
    suites = suites if suites is not None else load_suites()
    outcomes = {e.expectation_id: CheckOutcome(e) for s in suites for e in s.expectations}
    con = capped(duckdb.connect(str(warehouse), read_only=True))
    try:
        tables = store.existing_tables(con)
    finally:
        con.close()
    for o in outcomes.values():
        if any(t not in tables for t in o.expectation.tables()):
            o.status = "error"  # not run: its input is missing
    return _run_gx(warehouse, suites, out_dir / "quality" / "gx_data_docs", outcomes)


def run_quality(
    warehouse: Path,
    out_dir: Path,
    suites: list[Suite] | None = None,
    run_id: str | None = None,
    write_report: bool = True,
    inputs_fingerprint: str | None = None,
    suite_fingerprints: dict[str, str | None] | None = None,
    carry: dict[str, str] | None = None,
    slices: dict[str, tuple] | None = None,
    unit_slices_now: dict | None = None,
    key_slices: dict[str, tuple] | None = None,
) -> QualityRun:
    """Run all suites on the warehouse, append to the quality tables, write the reports.

    ``inputs_fingerprint``: what this run judged (``carry.quality_fingerprint``), stored so that an unchanged
    re-run can carry these results forward; not stored when an expectation errored (an error may be passing
    trouble, so that run's results are not evidence worth repeating). ``suite_fingerprints``: each suite's
    inputs (``suite_carry.suite_fingerprints``), stored on its check rows; ``carry``: suite -> run whose results
    it carries instead of running GX (``suite_carry.plan_carry``); ``slices``: unit -> (touched slices, batch
    level, run whose other slices' findings it copies) for the units GX judges on their touched slices only
    (``suite_carry.plan_slices``, ``slices.py``); ``unit_slices_now``: each slice-local unit's slices now, kept
    for the next run; ``key_slices``: unit -> (touched slices, batch query, description) for the column-level units
    GX judges on the rows a change can reach (``suite_carry.plan_key_slices``, ``key_slices.py``).
    """
    t0 = time.perf_counter()
    suites = suites if suites is not None else load_suites()
    run_id = run_id or new_run_id()
    started = dt.datetime.now()
    quality_dir = out_dir / "quality"
    carry = dict(carry or {})
    suite_fingerprints = suite_fingerprints or {}
    outcomes = {e.expectation_id: CheckOutcome(e) for s in suites for e in s.expectations}
    slices = {u: plan for u, plan in (slices or {}).items() if u not in carry}
    key_slices = {u: plan for u, plan in (key_slices or {}).items() if u not in carry and u not in slices}
    _restrict_to_touched(outcomes, slices)

    con = capped(duckdb.connect(str(warehouse)))
    try:
        tables = store.existing_tables(con)
    finally:
        con.close()
    for o in outcomes.values():
        missing = [t for t in o.expectation.tables() if t not in tables]
        if missing:
            o.status = "error"
            o.detail = "输入表不存在 input table missing: " + ", ".join(missing)

    from dagster_project.quality.suite_carry import carried_whole_suites, unit_of, validation_units

    t_gx = time.perf_counter()
    engine_seen: list[str] = []
    docs_later: list = []  # the Data Docs pages' masking, under way while DuckDB re-runs and counts
    units = validation_units(suites)
    carry = {u: r for u, r in carry.items() if u in units}
    docs_dir = quality_dir / "gx_data_docs"
    if len(carry) < len(units):
        docs_index = _run_gx(warehouse, suites, docs_dir, outcomes, engine_seen, carried_units=list(carry),
                             batch_queries={u: plan[1] for u, plan in key_slices.items()}, docs_later=docs_later)
    else:  # every unit carried: GX's pages of the runs they repeat stay as they are
        docs_index = docs_dir / "index.html" if (docs_dir / "index.html").is_file() else None
    gx_seconds = time.perf_counter() - t_gx

    run = QualityRun(run_id, started, list(outcomes.values()), gx_seconds, data_docs_index=docs_index,
                     gx_engine="; ".join(engine_seen) or "not run: every suite carried",
                     carried_suites=carried_whole_suites(suites, carry), carried_units=carry)
    con = capped(duckdb.connect(str(warehouse)))
    try:
        store.ensure_quality_schema(con)
        if carry:
            from dagster_project.quality.suite_carry import copy_carried, outcome_of

            for row in copy_carried(con, run_id, carry, suites):
                if row["expectation_id"] in outcomes:
                    outcomes[row["expectation_id"]] = outcome_of(outcomes[row["expectation_id"]].expectation, row)
            run.outcomes = list(outcomes.values())
        counts = RowCounts()
        counts.prefetch(con, [text for o in run.outcomes if unit_of(o.expectation) not in carry and o.status != "error"
                              for text in (o.expectation.sql_for_duckdb(o.expectation.evaluated_query)
                                           or f"select count(*) from {o.expectation.batch}",
                                           o.expectation.sql_for_duckdb(o.expectation.insufficient_query))])
        # No enclosing transaction: one broken query must not abort the others (DuckDB aborts the whole
        # transaction on an error); each expectation's rows are written by single statements.
        for o in run.outcomes:
            exp = o.expectation
            if unit_of(exp) in carry:
                continue  # its rows were copied above
            if o.status != "error":
                try:
                    o.evaluated = counts.get(con, exp.sql_for_duckdb(exp.evaluated_query))
                    if o.evaluated is None:
                        o.evaluated = counts.get(con, f"select count(*) from {exp.batch}")
                    o.insufficient = counts.get(con, exp.sql_for_duckdb(exp.insufficient_query))
                    _write_findings(con, run_id, o)
                    if unit_of(exp) in slices and o.status != "error":
                        _add_untouched(con, run_id, o, slices[unit_of(exp)][0], slices[unit_of(exp)][2])
                except duckdb.Error as exc:
                    o.status, o.detail = "error", f"{type(exc).__name__}: {exc}"[:2000]
                if o.status != "error":
                    o.status = "passed" if (o.gx_success and o.failed == 0) else "failed"
                    if o.status == "passed" and not o.evaluated and o.insufficient:
                        # nothing could be judged: not a pass (red flags with too few deals, for instance)
                        o.status = "insufficient_data"
            o.finished_at = dt.datetime.now()
            con.execute(
                f"insert into quality.check_runs ({', '.join(store.CHECK_RUN_COLUMNS)}) "
                f"values ({', '.join('?' for _ in store.CHECK_RUN_COLUMNS)})",
                [run_id, exp.kind, exp.suite, exp.rule_id, exp.type, exp.batch, exp.severity, exp.legal_basis,
                 o.started_at, o.finished_at, o.evaluated, o.failed, o.offending_rows, o.insufficient,
                 o.status == "passed", o.status, None if o.gx_observed is None else str(o.gx_observed), o.detail,
                 exp.expectation_id, None if o.status == "error" else suite_fingerprints.get(unit_of(exp))],
            )
        store.fill_publisher_names(con, run_id)
        store.fill_documents(con, run_id)
        run.sliced_units = {**{u: plan[0].describe() for u, plan in slices.items()},
                            **{u: plan[2] for u, plan in key_slices.items()}}
        _keep_slices(con, run, unit_slices_now or {}, suite_fingerprints)
        if docs_later:  # the report links the Data Docs only once they are masked
            run.data_docs_index = docs_later.pop().result()
        run.total_seconds = time.perf_counter() - t0
        errored = any(o.status == "error" for o in run.outcomes)
        store.insert_run(con, run_id=run_id, started_at=started, finished_at=dt.datetime.now(),
                         gx_seconds=gx_seconds, total_seconds=run.total_seconds, suites=len(suites),
                         expectations=len(run.outcomes), success=run.integrity_ok and not errored,
                         report_path=str(quality_dir / "index.html") if write_report else None,
                         inputs_fingerprint=None if errored else inputs_fingerprint)
        if write_report:
            from dagster_project.quality.report import write_reports

            run.report_path = write_reports(con, run, suites, quality_dir)
    finally:
        con.close()
        if docs_later:  # a run that failed on the way still lets the masking finish before it returns
            from concurrent.futures import wait

            wait(docs_later)
    run.total_seconds = time.perf_counter() - t0
    return run
