"""Quality as a Dagster asset: run every GX suite on the warehouse, write the quality tables and reports.

One asset check per suite. Compliance suites report findings as WARN (the run goes on: findings about
publishers are the product, not a pipeline failure); the integrity suite is blocking with ERROR, so a
wrong pipeline stops publication.
"""

import time

import dagster as dg
import duckdb
from dagster import AssetExecutionContext

from dagster_project.duckdb_memory import capped
from dagster_project.paths import settings
from dagster_project.quality.suites import Suite, load_suites
from dagster_project.resources import DUCKDB_POOL

FINDINGS_KEY = dg.AssetKey(["quality", "findings"])
# Tables outside dbt: the load manifest is the ingest step's asset.
NON_DBT_TABLE_ASSETS = {"raw.load_files": dg.AssetKey(["raw", "load_manifest"])}


def table_asset_key(table: str) -> dg.AssetKey:
    """`schema.name` read by a suite -> the asset that writes it (dbt node name for dbt relations)."""
    if table in NON_DBT_TABLE_ASSETS:
        return NON_DBT_TABLE_ASSETS[table]
    return dg.AssetKey(table.split(".", 1)[1])


def suite_deps(suites: list[Suite]) -> list[dg.AssetKey]:
    tables = sorted({t for s in suites for e in s.expectations for t in e.tables()})
    return sorted({table_asset_key(t) for t in tables}, key=lambda k: k.to_user_string())


def check_name(suite: Suite) -> str:
    return f"suite_{suite.name}"


def suite_check_result(suite: Suite, outcomes: list, report_path: str | None,
                       extra_metadata: dict | None = None) -> dg.AssetCheckResult:
    """Metadata per suite: evaluated, failed, failure rate, top offenders, errors, report path."""
    evaluated = sum(o.evaluated or 0 for o in outcomes)
    failed = sum(o.failed for o in outcomes)
    errors = [f"{o.expectation.rule_id}: {o.detail}" for o in outcomes if o.status == "error"]
    top = sorted((o for o in outcomes if o.failed), key=lambda o: -o.failed)[:5]
    metadata = {
        "evaluated": dg.MetadataValue.int(evaluated),
        "failed": dg.MetadataValue.int(failed),
        "failure_rate": dg.MetadataValue.float(failed / evaluated if evaluated else 0.0),
        "insufficient_data": dg.MetadataValue.int(sum(o.insufficient or 0 for o in outcomes)),
        "top_offenders": dg.MetadataValue.md(
            "\n".join(f"- `{o.expectation.rule_id}` {o.failed} / {o.evaluated}" for o in top) or "none"
        ),
        "errors": dg.MetadataValue.json(errors),
    }
    if report_path:
        metadata["report"] = dg.MetadataValue.path(report_path)
    metadata.update(extra_metadata or {})
    if suite.kind == "integrity":
        return dg.AssetCheckResult(
            check_name=check_name(suite), passed=failed == 0 and not errors,
            severity=dg.AssetCheckSeverity.ERROR, metadata=metadata,
        )
    return dg.AssetCheckResult(
        check_name=check_name(suite), passed=failed == 0 and not errors,
        severity=dg.AssetCheckSeverity.WARN, metadata=metadata,
    )


def build_quality_asset(suites: list[Suite] | None = None) -> dg.AssetsDefinition:
    suites = suites if suites is not None else load_suites()

    @dg.asset(
        key=FINDINGS_KEY,
        group_name="quality",
        deps=suite_deps(suites),
        pool=DUCKDB_POOL,
        kinds={"duckdb", "great_expectations"},
        description="质量检查结果 Findings of every GX suite (compliance) and the pipeline's integrity checks; "
                    "quality report under the output root.",
        check_specs=[
            dg.AssetCheckSpec(
                check_name(s), asset=FINDINGS_KEY, blocking=s.kind == "integrity",
                description=f"{s.title_zh} {s.title_en}"
                            + (" (阻断发布 blocks publication)" if s.kind == "integrity" else " (警告 warn)"),
            )
            for s in suites
        ],
    )
    def quality_findings(context: AssetExecutionContext):
        from dagster_project.quality.carry import carry_previous_run, fingerprint_and_marks
        from dagster_project.quality.runner import run_quality
        from dagster_project.quality.suite_carry import (
            latest_check_rows,
            plan_carry,
            plan_key_slices,
            plan_slices,
            unit_inputs,
            validation_units,
        )

        cfg = settings()
        current_suites = load_suites()
        fingerprint, marks = fingerprint_and_marks(cfg.warehouse, cfg.as_of)
        # inputs unchanged since the last run: its results are this run's (carry.py says why they are appended)
        run = carry_previous_run(cfg.warehouse, cfg.out_dir, current_suites, fingerprint)
        if run is not None:
            context.log.info(f"quality: inputs unchanged, results carried from run {run.carried_from_run} "
                             f"输入未变化，沿用上次结果")
        else:
            # GX per validation unit: the units whose relations, file, code and date are unchanged carry their results.
            import threading

            from dagster_project.quality.gx_duckdb import import_gx

            started = time.perf_counter()
            fingerprints, slices_now = unit_inputs(cfg.warehouse, current_suites, cfg.as_of, marks)
            con = capped(duckdb.connect(str(cfg.warehouse)))
            try:
                latest = latest_check_rows(con)  # the latest run's check rows, read once for the three plans
                plan = plan_carry(con, current_suites, fingerprints, cfg.out_dir / "quality" / "gx_data_docs", latest)
                if len(plan) < len(fingerprints):  # a unit runs: GX's import (≈ 2.5 CPU-s) beside the slice plans;
                    # when every unit carries (a fingerprint that moved in no unit's inputs), GX is never imported
                    threading.Thread(target=import_gx, name="import-gx", daemon=True).start()
                sliced = plan_slices(con, current_suites, fingerprints, slices_now, plan, latest)
                keyed = plan_key_slices(con, current_suites, fingerprints, slices_now, plan, latest)
            finally:
                con.close()
            fingerprint_seconds = time.perf_counter() - started
            context.log.info(f"quality: {len(plan)} of {len(fingerprints)} validation units carried (inputs unchanged), "
                             f"fingerprints in {fingerprint_seconds:.2f} s: run {sorted(set(fingerprints) - set(plan))}")
            run = run_quality(cfg.warehouse, cfg.out_dir, suites=current_suites, inputs_fingerprint=fingerprint,
                              suite_fingerprints=fingerprints, carry=plan, slices=sliced, unit_slices_now=slices_now,
                              key_slices=keyed)
        report = str(run.report_path) if run.report_path else None
        by_suite = run.by_suite()
        compliance = [o for o in run.outcomes if o.expectation.kind == "compliance"]
        carried = {"quality_carried_from_run": dg.MetadataValue.text(run.carried_from_run)} if run.carried_from_run else {}
        per_suite = {}
        if not run.carried_from_run:
            units = validation_units(current_suites)
            per_suite = {"suites_carried": dg.MetadataValue.json(dict(sorted(run.carried_suites.items()))),
                         "suites_run": dg.MetadataValue.json(sorted({s.name for s in suites} - set(run.carried_suites))),
                         "units_carried": dg.MetadataValue.json(dict(sorted(run.carried_units.items()))),
                         "units_run": dg.MetadataValue.json(sorted(set(units) - set(run.carried_units))),
                         "units_sliced": dg.MetadataValue.json(dict(sorted(run.sliced_units.items()))),
                         "suite_fingerprint_seconds": dg.MetadataValue.float(round(fingerprint_seconds, 3))}
        yield dg.MaterializeResult(metadata={
            **carried, **per_suite,
            "run_id": run.run_id,
            "findings": dg.MetadataValue.int(sum(o.failed for o in compliance)),
            "rules_with_findings": dg.MetadataValue.int(sum(1 for o in compliance if o.failed)),
            "integrity_ok": dg.MetadataValue.bool(run.integrity_ok),
            "gx_seconds": dg.MetadataValue.float(round(run.gx_seconds, 2)),
            "gx_engine": dg.MetadataValue.text(run.gx_engine),
            "total_seconds": dg.MetadataValue.float(round(run.total_seconds, 2)),
            "report": dg.MetadataValue.path(report or ""),
            "data_docs": dg.MetadataValue.path(str(run.data_docs_index or "")),
        })
        for suite in suites:
            # a carried result is the same evidence as the run it repeats: the check says which run that was
            source = run.carried_suites.get(suite.name)
            yield suite_check_result(suite, by_suite.get(suite.name, []), report, extra_metadata=carried or (
                {"quality_carried_from_run": dg.MetadataValue.text(source)} if source else {}))

    return quality_findings


quality_findings = build_quality_asset()
defs = dg.Definitions(assets=[quality_findings])
