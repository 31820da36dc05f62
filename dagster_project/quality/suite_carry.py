"""GX per validation unit: a unit whose inputs did not change carries its previous results; the others run.

``carry.py`` carries a whole run when nothing at all changed. When something did — one budget figure in a
re-published workbook — most of what quality judges still reads exactly what it read last time (the trading suites
read no budget relation; the pipeline checks of the trading marts neither). A **validation unit** is one suite's
expectations on one batch (one GX suite and validation, ``unit_name``). Its **fingerprint** is: the relations it
reads (every ``schema.table`` its expectations name as batch, ``requires`` or inside their SQL), each by content
(``relation_fingerprint``: columns, row count, order-independent hash aggregate); the suite file's bytes; the quality
code (``dagster_project/quality`` and the helpers the report uses, not the other suite files); and the evaluation
(as-of) date. It is stored on every ``quality.check_runs`` row of the unit (``inputs_fingerprint``).

A relation no dbt build reached since it was last hashed is not hashed again: its hashing queries' rows are kept by
its dbt generation (``kept_hashes.py``, which says when a generation is trusted).

A unit is **carried** when the latest run judged it with the same fingerprint, with today's expectations (by
``expectation_id``) and none of them errored. Its ``check_runs`` and ``findings`` rows are copied under the new
run id (``check_runs.carried_from_run`` = the run whose GX evaluation they are; ``started_at`` kept), and the
findings' publisher names and documents are filled again as a run fills its own, so a carried unit's rows equal
those a run with carrying disabled (``GONGKAI_NO_CARRY=1``) writes. The run itself is appended as usual: every
reader of "the latest run" sees one complete run, and a carried integrity failure still blocks. A unit that is not
carried may still be judged on its touched publisher-years only (``slices.py``, ``plan_slices``).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from dagster_project import stage_state
from dagster_project.duckdb_memory import capped
from dagster_project.paths import EXPECTATIONS_DIR, carrying_disabled
from dagster_project.quality import store
from dagster_project.quality.suites import Suite
from dagster_project.relation_fingerprint import RelationFingerprints


def _suite_code_digest() -> str:
    from dagster_project.quality.carry import CODE_SUFFIXES, QUALITY_CODE_PATHS, quality_modules_digest

    return stage_state.tree_digest([p for p in QUALITY_CODE_PATHS if p.exists() and p != EXPECTATIONS_DIR],
                                   suffixes=CODE_SUFFIXES) + ":" + quality_modules_digest()


def unit_name(suite_name: str, batch: str) -> str:
    """A validation unit: one suite's expectations on one batch (GX's suite of that name, one validation)."""
    return f"{suite_name}__{batch.replace('.', '__')}"


def unit_of(expectation) -> str:
    return unit_name(expectation.suite, expectation.batch)


def validation_units(suites: list[Suite]) -> dict[str, tuple[Suite, list]]:
    """unit name -> (its suite, its expectations), in suite and batch order."""
    units: dict[str, tuple[Suite, list]] = {}
    for suite in suites:
        for batch in sorted({e.batch for e in suite.expectations}):
            units[unit_name(suite.name, batch)] = (suite, [e for e in suite.expectations if e.batch == batch])
    return units


def expectation_relations(expectations, relations: RelationFingerprints) -> set[str]:
    """Every relation the expectations read: declared (batch, requires) and named in their SQL."""
    names: set[str] = set()
    for e in expectations:
        names |= set(e.tables())
        for text in (e.query, e.evaluated_query, e.insufficient_query):
            names |= relations.names_in(text)
    return names


def counted_only(expectations, relations: RelationFingerprints) -> set[str]:
    """Relations the expectations read only as ``select count(*) from <relation>`` (a count query's whole text), never
    as batch nor in an unexpected-rows query: all a unit's results take from such a relation is its row count (the
    bulletins counted as the privacy and quarantine rules' denominator), so the count, not every row, is its input."""
    counted: set[str] = set()
    other: set[str] = {e.batch for e in expectations}
    for e in expectations:
        other |= relations.names_in(e.query)
        for text in (e.evaluated_query, e.insufficient_query):
            named = relations.names_in(text)
            if len(named) == 1 and " ".join(text.split()).lower() == f"select count(*) from {next(iter(named))}":
                counted |= named
            else:
                other |= named
    return counted - other


def unit_data(expectations, relations: RelationFingerprints) -> str | None:
    """What a unit of set-based expectations reads, as one fingerprint: every relation it reads by content, those it
    only counts (``counted_only``) by their row count. None when one is missing or unreadable."""
    names = expectation_relations(expectations, relations)
    counted = counted_only(expectations, relations)
    if not counted:
        return relations.of_all(names)
    parts = [f"whole={relations.of_all(names - counted)}"]
    for name in sorted(counted):
        if not relations.exists(name):
            return None
        parts.append(f"{name}=count:{relations.fetch(f'select count(*) from {name}', name)[0][0]}")
    return None if parts[0] == "whole=None" else "\n".join(parts)


def suite_relations(suite: Suite, relations: RelationFingerprints) -> set[str]:
    return expectation_relations(suite.expectations, relations)


def unit_fingerprints(warehouse: Path, suites: list[Suite], as_of: dt.date) -> dict[str, str | None]:
    """Fingerprint of each validation unit's inputs now (None: unknown — a relation is missing — so it runs)."""
    return unit_inputs(warehouse, suites, as_of)[0]


# Column-level expectation types whose verdict (and every count the runner stores for them) is a function of the
# named columns' values in the batch, row by row: the unit's inputs are those columns, not the whole relation.
COLUMN_TYPES = {"expect_column_values_to_be_unique": {"column"}, "expect_column_values_to_not_be_null": {"column"},
                "expect_column_values_to_be_in_set": {"column", "value_set"},
                "expect_compound_columns_to_be_unique": {"column_list"}}


def columns_read(expectations) -> list[str] | None:
    """The batch columns a unit of column-level expectations reads (sorted); None when any expectation reads more
    (a query, a count query, another table, an argument naming other columns or filtering rows)."""
    columns: set[str] = set()
    for e in expectations:
        allowed = COLUMN_TYPES.get(e.type)
        if allowed is None or e.query or e.evaluated_query or e.insufficient_query or e.requires \
                or not set(e.kwargs) <= allowed:
            return None
        named = [e.kwargs["column"]] if "column" in e.kwargs else list(e.kwargs.get("column_list") or [])
        if not named or not all(isinstance(c, str) for c in named):
            return None
        columns |= set(named)
    return sorted(columns) if columns else None


def projection_fingerprint(relations: RelationFingerprints, batch: str, columns: list[str]) -> str | None:
    """Content of ``batch`` projected on ``columns`` (``RelationFingerprints.of_columns``: their names and types, the
    row count, every row, nulls too, and the order-independent hash aggregate). None when unreadable."""
    value = relations.of_columns(batch, columns)
    return None if value is None else "columns:" + value


def sliceable(expectations) -> bool:
    return all(e.slice and e.type == "unexpected_rows" for e in expectations)


def unit_inputs(warehouse: Path, suites: list[Suite], as_of: dt.date, marks=None) -> tuple[dict, dict]:
    """(unit -> inputs fingerprint, unit -> ``slices.UnitSlices`` of the units whose expectations are all
    slice-local, and of the column-level units whose batch has a slice column, ``key_slices.py``). Slices are read
    first: a sliced relation's whole fingerprint comes from its slices. ``marks``: storage marks taken earlier in this
    step (``kept_hashes.KeptHashes``)."""
    from dagster_project.quality import key_slices
    from dagster_project.quality import slices as slicing

    units = validation_units(suites)
    if not warehouse.exists():
        return {u: None for u in units}, {}
    from dagster_project.quality.kept_hashes import KeptHashes

    code = _suite_code_digest()
    con = capped(duckdb.connect(str(warehouse), read_only=True))
    try:
        kept = KeptHashes(con, as_of, marks)  # relations no dbt build reached since they were hashed: not hashed again
        relations = RelationFingerprints(con, kept)
        per_slice = slicing.SliceFingerprints(con, relations)
        files = {s.name: stage_state.tree_digest([s.path]) for s in suites}
        sliced: dict[str, slicing.UnitSlices] = {}
        for unit, (suite, expectations) in units.items():
            if not sliceable(expectations) or carrying_disabled():
                continue
            read = set()
            for e in expectations:
                read |= {e.batch} | relations.names_in(e.query)
            if not all(relations.exists(r) for r in read):
                continue
            now = slicing.unit_slices(per_slice, read, f"{unit}\n{files[suite.name]}\n{code}\n{as_of.isoformat()}")
            if now is not None and now.slices:
                sliced[unit] = now
        out: dict[str, str | None] = {}
        for unit, (suite, expectations) in units.items():
            read = columns_read(expectations)
            keyed = None
            if read is not None and not carrying_disabled():  # its data fingerprint and its slices, one pass
                keyed = key_slices.projected_slices(con, relations, expectations[0].batch, read,
                                                    f"{unit}\n{files[suite.name]}\n{code}\n{as_of.isoformat()}")
            if keyed is not None:
                data, sliced[unit] = keyed
            else:
                data = (projection_fingerprint(relations, expectations[0].batch, read) if read is not None
                        else unit_data(expectations, relations))
            out[unit] = None if data is None else stage_state.fingerprint(
                "unit", unit, files[suite.name], code, as_of.isoformat(), data)
    finally:
        con.close()
    kept.remember(warehouse)
    return out, sliced


_UNREAD = object()  # a plan not given the latest run's rows reads them itself


def plan_slices(con: duckdb.DuckDBPyConnection, suites: list[Suite], fingerprints: dict[str, str | None],
                now: dict, carry: dict[str, str], latest_run=_UNREAD) -> dict[str, tuple]:
    """unit -> (``slices.Touched``, batch slice level, run whose other slices' findings are copied, batch column types)
    for every unit
    not carried whole that may judge only its touched slices (``quality/slices.py``): slice-local expectations, the
    latest run judged them all without error under one recorded fingerprint whose slices are kept, same base."""
    from dagster_project.quality import slices as slicing

    if not now:
        return {}
    latest_run = latest_check_rows(con) if latest_run is _UNREAD else latest_run
    if latest_run is None:
        return {}
    latest, by_unit = latest_run
    slicing.ensure_schema(con)
    plan = {}
    for unit, (_, expectations) in validation_units(suites).items():
        if unit in carry or unit not in now or fingerprints.get(unit) is None or not sliceable(expectations):
            continue
        before = by_unit.get(unit) or []
        if sorted(str(b[0]) for b in before) != sorted(e.expectation_id for e in expectations):
            continue
        recorded_fingerprints = {b[2] for b in before}
        if any(b[1] == "error" for b in before) or len(recorded_fingerprints) != 1 or None in recorded_fingerprints:
            continue
        kept = slicing.recorded(con, unit, recorded_fingerprints.pop())
        if kept is None or kept.base != now[unit].base:
            continue
        touched = slicing.touched_slices(kept.slices, now[unit].slices)
        if len(touched.pairs) + len(touched.years) > slicing.MAX_TOUCHED_SHARE * len(now[unit].slices):
            continue  # most of it moved: judging it whole costs no more
        level, types = _batch_columns(con, expectations[0].batch)
        plan[unit] = (touched, level, latest, types)
    return plan


def latest_check_rows(con: duckdb.DuckDBPyConnection) -> tuple[str, dict[str, list[tuple]]] | None:
    """(latest quality run, unit name -> its (expectation id, status, inputs fingerprint) rows); None when carrying
    is disabled or before any run. Read once per run by the quality asset and given to the three plans
    (``plan_carry``, ``plan_slices``, ``plan_key_slices``; each reads it itself when not given)."""
    if carrying_disabled() or "quality.runs" not in store.existing_tables(con):
        return None
    store.ensure_quality_schema(con)
    latest = con.execute("select run_id from quality.runs order by started_at desc limit 1").fetchone()
    if latest is None:
        return None
    rows = con.execute(
        "select suite, batch, expectation_id, status, inputs_fingerprint from quality.check_runs where run_id = ?",
        [latest[0]]).fetchall()
    by_unit: dict[str, list[tuple]] = {}
    for suite, batch, eid, status, fingerprint in rows:
        by_unit.setdefault(unit_name(suite, batch), []).append((eid, status, fingerprint))
    return latest[0], by_unit


def plan_key_slices(con: duckdb.DuckDBPyConnection, suites: list[Suite], fingerprints: dict[str, str | None],
                    now: dict, carry: dict[str, str], latest_run=_UNREAD) -> dict[str, tuple]:
    """unit -> (``slices.Touched``, the query of the batch GX judges instead of the whole one, the touched slices in
    words) for every column-level unit not carried whole that may be judged on the rows a change can reach
    (``key_slices.py``)."""
    from dagster_project.quality import key_slices
    from dagster_project.quality import slices as slicing

    if not now:
        return {}
    latest_run = latest_check_rows(con) if latest_run is _UNREAD else latest_run
    if latest_run is None:
        return {}
    _, by_unit = latest_run
    slicing.ensure_schema(con)
    plan = {}
    for unit, (_, expectations) in validation_units(suites).items():
        sliced = now.get(unit)
        if unit in carry or sliced is None or sliced.column is None or fingerprints.get(unit) is None:
            continue
        before = by_unit.get(unit) or []
        recorded = slicing.recorded(con, unit, before[0][2]) if before and before[0][2] else None
        touched = key_slices.plan(expectations, before, recorded, sliced)
        if touched is None:
            continue
        query = key_slices.batch_query(expectations[0].batch, expectations, touched, sliced.column, sliced.column_type,
                                       columns_read(expectations))
        plan[unit] = (touched, query, f"{sliced.column} " + ", ".join(sorted(touched.years)))
    return plan


def _batch_columns(con: duckdb.DuckDBPyConnection, batch: str) -> tuple[str, dict[str, str]]:
    """The batch's slice level ('pair', 'year' or 'none') and its columns' types (name -> DuckDB type)."""
    schema, table = batch.split(".", 1)
    types = dict(con.execute("select column_name, data_type from information_schema.columns where table_schema = ? "
                             "and table_name = ?", [schema, table]).fetchall())
    if {"publisher_code", "fiscal_year"} <= set(types):
        return "pair", types
    return ("year" if "fiscal_year" in types else "none"), types


def plan_carry(con: duckdb.DuckDBPyConnection, suites: list[Suite], fingerprints: dict[str, str | None],
               docs_dir: Path, latest_run=_UNREAD) -> dict[str, str]:
    """unit name -> the run whose results it carries (the latest run), for every validation unit that may be
    carried: same fingerprint, same expectations, none errored, and its GX results kept for the Data Docs."""
    latest_run = latest_check_rows(con) if latest_run is _UNREAD else latest_run
    if latest_run is None:
        return {}
    latest, by_unit = latest_run
    plan = {}
    for unit, (_, expectations) in validation_units(suites).items():
        fingerprint = fingerprints.get(unit)
        before = by_unit.get(unit) or []
        if fingerprint is None or not before:
            continue
        if sorted(str(b[0]) for b in before) != sorted(e.expectation_id for e in expectations):
            continue  # expectations added, removed or renamed (the suite file moved too, but be sure)
        if any(b[1] == "error" or b[2] != fingerprint for b in before):
            continue
        if not results_file(docs_dir, unit).is_file():
            continue  # its Data Docs pages could not be listed: run it
        plan[unit] = latest
    return plan


def findings_of_unit(expectations) -> tuple[str, list]:
    """SQL condition (and its parameters) selecting a unit's rows of ``quality.findings`` within its suite: the
    rows of its set-based rules, and those of its column-level rules on its batch (several batches of one suite
    share a column-level rule id, e.g. INTEG_KEY_UNIQUE; such a finding names its batch in ``source_file``)."""
    by_rows = sorted({e.rule_id for e in expectations if e.type == "unexpected_rows"})
    by_column = sorted({e.rule_id for e in expectations if e.type != "unexpected_rows"})
    batch = expectations[0].batch
    parts, params = [], []
    if by_rows:
        parts.append(f"rule_id in ({', '.join('?' for _ in by_rows)})")
        params += by_rows
    if by_column:
        parts.append(f"(rule_id in ({', '.join('?' for _ in by_column)}) and source_file = ?)")
        params += [*by_column, batch]
    return "(" + " or ".join(parts or ["false"]) + ")", params


def copy_carried(con: duckdb.DuckDBPyConnection, run_id: str, plan: dict[str, str],
                 suites: list[Suite]) -> list[dict]:
    """Copy the carried units' check and finding rows under ``run_id``; returns the copied check rows.

    Publisher names, documents and group keys are left NULL here and filled with the run's own rows
    (``store.fill_publisher_names`` / ``fill_documents``), from today's marts — as a run that ran GX fills them.
    """
    units = validation_units(suites)
    copied: list[dict] = []
    for unit, source in sorted(plan.items()):
        suite, expectations = units[unit]
        condition, params = findings_of_unit(expectations)
        con.execute(
            "insert into quality.findings by name select * replace (?::varchar as run_id, "
            "cast(null as varchar) as publisher_name, cast(null as varchar) as document, "
            f"cast(null as varchar) as group_key) from quality.findings where run_id = ? and suite = ? and {condition}",
            [run_id, source, suite.name, *params])
        con.execute(
            "insert into quality.check_runs by name select * replace (?::varchar as run_id, "
            "coalesce(carried_from_run, run_id) as carried_from_run) "
            "from quality.check_runs where run_id = ? and suite = ? and batch = ?",
            [run_id, source, suite.name, expectations[0].batch])
        cur = con.execute("select * from quality.check_runs where run_id = ? and suite = ? and batch = ?",
                          [run_id, suite.name, expectations[0].batch])
        names = [d[0] for d in cur.description]
        copied += [dict(zip(names, r)) for r in cur.fetchall()]
    return copied


def carried_whole_suites(suites: list[Suite], plan: dict[str, str]) -> dict[str, str]:
    """suite -> run, for the suites every unit of which is carried from that run (the report names them)."""
    out = {}
    for suite in suites:
        sources = {plan.get(unit_name(suite.name, b)) for b in {e.batch for e in suite.expectations}}
        if len(sources) == 1 and None not in sources:
            out[suite.name] = sources.pop()
    return out


def outcome_of(expectation, row: dict):
    """The outcome a stored ``check_runs`` row records, for the asset checks and the report."""
    from dagster_project.quality.runner import CheckOutcome

    return CheckOutcome(
        expectation, status=row["status"], gx_success=bool(row["success"]), gx_observed=row["gx_observed"],
        evaluated=row["evaluated"], failed=int(row["failed"] or 0), offending_rows=int(row["offending_rows"] or 0),
        insufficient=row["insufficient"], detail=row["detail"] or "", started_at=row["started_at"],
        finished_at=row["finished_at"])


# ------------------------------------------------------------------ GX Data Docs of carried suites
# GX builds its Data Docs index from the validation results in its (ephemeral) store and deletes the pages of any
# other: a run that validates some suites would drop the pages of the suites it carries. So every suite's results
# are kept beside the pages, and a carried suite's results are put back into the store before the docs are built
# (its pages are not rendered again, only indexed).
RESULTS_FOLDER = ".suite_results"


def results_file(docs_dir: Path, suite_name: str) -> Path:
    return docs_dir / RESULTS_FOLDER / f"{suite_name}.json"


def save_gx_results(docs_dir: Path, suite_name: str, gx_suites: list, run_results: dict | None) -> None:
    """The GX suite and validation results of one validation unit (None: its checkpoint failed — forget them)."""
    import json

    path = results_file(docs_dir, suite_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    if run_results is None:
        path.unlink(missing_ok=True)
        return
    doc = {"suites": [s.to_json_dict() for s in gx_suites],
           "results": [{"key": list(k.to_tuple()), "result": v.to_json_dict()} for k, v in run_results.items()]}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False, default=str), encoding="utf-8")
    tmp.replace(path)


def restore_gx_results(context, docs_dir: Path, suite_names: list[str]) -> list[str]:
    """Put the kept results of carried suites back into the context's stores; returns the suites whose results
    were missing or unreadable (their Data Docs pages are then not listed)."""
    import json

    from dagster_project.quality.gx_duckdb import import_gx

    gx = import_gx()
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult
    from great_expectations.data_context.types.resource_identifiers import ValidationResultIdentifier

    missing = []
    for name in suite_names:
        try:
            doc = json.loads(results_file(docs_dir, name).read_text(encoding="utf-8"))
            for suite_json in doc["suites"]:
                context.suites.add(gx.ExpectationSuite(**suite_json))
            for item in doc["results"]:
                context.validation_results_store.set(ValidationResultIdentifier.from_tuple(tuple(item["key"])),
                                                     ExpectationSuiteValidationResult(**item["result"]))
        except Exception:  # noqa: BLE001 — unreadable kept results cost a page of the docs, never the run
            missing.append(name)
    return missing
