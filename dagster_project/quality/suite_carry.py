"""GX per suite: a suite whose inputs did not change carries its previous results; the others run.

``carry.py`` carries a whole run when nothing at all changed. When something did — one budget figure in a
re-published workbook — most suites still read exactly what they read last time (the trading suites read no
budget relation). A suite's **fingerprint** is: the relations it reads (every ``schema.table`` its expectations
name as batch, ``requires`` or inside their SQL), each by content (``relation_fingerprint``: columns, row count,
order-independent hash aggregate); the suite file's bytes; the quality code (``dagster_project/quality`` and the
helpers the report uses, not the other suite files); and the evaluation (as-of) date. It is stored on every
``quality.check_runs`` row of the suite (``inputs_fingerprint``).

A suite is **carried** when the latest run judged it with the same fingerprint, with today's expectations (by
``expectation_id``) and none of them errored. Its ``check_runs`` and ``findings`` rows are copied under the new
run id (``check_runs.carried_from_run`` = the run whose GX evaluation they are; ``started_at`` kept), and the
findings' publisher names and documents are filled again as a run fills its own, so a carried suite's rows equal
those a run with carrying disabled (``GONGKAI_NO_CARRY=1``) writes. The run itself is appended as usual: every
reader of "the latest run" sees one complete run, and a carried integrity failure still blocks.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from dagster_project import stage_state
from dagster_project.paths import EXPECTATIONS_DIR, carrying_disabled
from dagster_project.quality import store
from dagster_project.quality.suites import Suite
from dagster_project.relation_fingerprint import RelationFingerprints


def _suite_code_digest() -> str:
    from dagster_project.quality.carry import CODE_SUFFIXES, QUALITY_CODE_PATHS

    return stage_state.tree_digest([p for p in QUALITY_CODE_PATHS if p.exists() and p != EXPECTATIONS_DIR],
                                   suffixes=CODE_SUFFIXES)


def suite_relations(suite: Suite, relations: RelationFingerprints) -> set[str]:
    """Every relation the suite's expectations read: declared (batch, requires) and named in their SQL."""
    names: set[str] = set()
    for e in suite.expectations:
        names |= set(e.tables())
        for text in (e.query, e.evaluated_query, e.insufficient_query):
            names |= relations.names_in(text)
    return names


def suite_fingerprints(warehouse: Path, suites: list[Suite], as_of: dt.date) -> dict[str, str | None]:
    """Fingerprint of each suite's inputs now (None: unknown — a relation is missing — so the suite runs)."""
    if not warehouse.exists():
        return {s.name: None for s in suites}
    code = _suite_code_digest()
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        relations = RelationFingerprints(con)
        out: dict[str, str | None] = {}
        for suite in suites:
            data = relations.of_all(suite_relations(suite, relations))
            out[suite.name] = None if data is None else stage_state.fingerprint(
                "suite", suite.name, stage_state.tree_digest([suite.path]), code, as_of.isoformat(), data)
        return out
    finally:
        con.close()


def plan_carry(con: duckdb.DuckDBPyConnection, suites: list[Suite], fingerprints: dict[str, str | None],
               docs_dir: Path) -> dict[str, str]:
    """suite name -> the run whose results it carries (the latest run), for every suite that may be carried:
    same fingerprint, same expectations, none errored, and its GX results kept for the Data Docs."""
    if carrying_disabled() or "quality.runs" not in store.existing_tables(con):
        return {}
    store.ensure_quality_schema(con)
    latest = con.execute("select run_id from quality.runs order by started_at desc limit 1").fetchone()
    if latest is None:
        return {}
    rows = con.execute(
        "select suite, expectation_id, status, inputs_fingerprint from quality.check_runs where run_id = ?",
        [latest[0]]).fetchall()
    by_suite: dict[str, list[tuple]] = {}
    for suite, eid, status, fingerprint in rows:
        by_suite.setdefault(suite, []).append((eid, status, fingerprint))
    plan = {}
    for suite in suites:
        fingerprint = fingerprints.get(suite.name)
        before = by_suite.get(suite.name) or []
        if fingerprint is None or not before:
            continue
        if sorted(str(b[0]) for b in before) != sorted(e.expectation_id for e in suite.expectations):
            continue  # expectations added, removed or renamed (the suite file moved too, but be sure)
        if any(b[1] == "error" or b[2] != fingerprint for b in before):
            continue
        if not results_file(docs_dir, suite.name).is_file():
            continue  # its Data Docs pages could not be listed: run it
        plan[suite.name] = latest[0]
    return plan


def copy_carried(con: duckdb.DuckDBPyConnection, run_id: str, plan: dict[str, str]) -> list[dict]:
    """Copy the carried suites' check and finding rows under ``run_id``; returns the copied check rows.

    Publisher names, documents and group keys are left NULL here and filled with the run's own rows
    (``store.fill_publisher_names`` / ``fill_documents``), from today's marts — as a run that ran GX fills them.
    """
    copied: list[dict] = []
    for suite, source in sorted(plan.items()):
        con.execute(
            "insert into quality.findings by name select * replace (?::varchar as run_id, "
            "cast(null as varchar) as publisher_name, cast(null as varchar) as document, "
            "cast(null as varchar) as group_key) from quality.findings where run_id = ? and suite = ?",
            [run_id, source, suite])
        con.execute(
            "insert into quality.check_runs by name select * replace (?::varchar as run_id, "
            "coalesce(carried_from_run, run_id) as carried_from_run) "
            "from quality.check_runs where run_id = ? and suite = ?", [run_id, source, suite])
        cur = con.execute("select * from quality.check_runs where run_id = ? and suite = ?", [run_id, suite])
        names = [d[0] for d in cur.description]
        copied += [dict(zip(names, r)) for r in cur.fetchall()]
    return copied


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
    """The GX suites and validation results of one gongkai suite (None: its checkpoint failed — forget them)."""
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

    import great_expectations as gx
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
