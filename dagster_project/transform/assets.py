"""The dbt project as Dagster assets: one ``@dbt_assets`` over seeds, staging, intermediate and marts.

Asset keys are the dbt node names (default); raw sources map onto the ingest assets through
``meta.dagster.asset_key`` in the sources YAML (``raw/budget``, ``raw/trading`` …), so lineage runs
ingest → dbt. dbt tests become asset checks. ``dbt build`` runs in the ``duckdb`` pool (one writer).

No partitions: the build goes by load. A whole-project build runs ``dbt build --select`` of only the models and tests
the raw families changed since the last successful build feed (and, when the evaluation date moved, what reads it):
``selection.plan_build``; nothing changed skips dbt. A subset (a UI selection) builds what dagster-dbt selects and moves only the generations of what it wrote: the families' digests stay those of the last whole build, so the next whole build still rebuilds what the subset left. The trading chain's models are incremental by load and rebuild
only the deal-year partitions new loads touched; everything is rebuilt with ``--full-refresh`` when asked or when
the dbt code changed (``needs_full_refresh``). Tests not re-run report their kept outcome as a carried check result
(``carried_checks``), so every blocking check has a result in every run. The marts mix years (a
deal's year is known once its bulletins are assembled) and a partitioned ``@dbt_assets`` would force every run to
name a partition (STACK_NOTES). After each build the years the marts hold are registered as the fiscal-year
partitions of the publication assets (``dagster_project/partitions.py``).
"""


import datetime as dt
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import dagster as dg
import duckdb
from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from dagster_project import parse_state, partitions, stage_state
from dagster_project.paths import DBT_PROJECT_DIR, dbt_unit_tests_in_whole_builds, settings
from dagster_project.resources import DUCKDB_POOL
from dagster_project.ingest.framework import FAMILY_TABLES
from dagster_project.transform import carried_checks, generations, invocation_folders, selection, spark_exchange
from dagster_project.transform.dbt_project import DBT_EXECUTABLE, gongkai_dbt_project, require_manifest
from dagster_project.transform.dbt_resource import GongkaiDbtCliResource, everything_selected_from_manifest

LAYER_GROUPS = ("staging", "intermediate", "marts")


def dbt_group_name(dbt_resource_props: Mapping[str, Any]) -> "str | None":
    """Group by the dbt folder: seeds → ``seeds``; models → ``staging`` / ``intermediate`` / ``marts``."""
    if dbt_resource_props.get("resource_type") == "seed":
        return "seeds"
    fqn = list(dbt_resource_props.get("fqn") or [])
    for part in fqn[1:-1]:
        if part in LAYER_GROUPS:
            return part
    return None


class GongkaiDbtTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        # Models and seeds: the bare node name (dagster-dbt would prefix the custom schema, e.g.
        # marts/fct_deals); quality and publish address them by name. Sources: meta.dagster.asset_key.
        if dbt_resource_props.get("resource_type") in ("model", "seed", "snapshot"):
            return dg.AssetKey([dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_group_name(dbt_resource_props) or super().get_group_name(dbt_resource_props)


@contextmanager
def subprocess_environment(env: Mapping[str, str]) -> Iterator[None]:
    """DbtCliResource hands dbt a copy of os.environ: put the settings' GONGKAI_* there for the call."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


DBT_STAGE = "dbt"
# The dbt code digest of the last successful whole-project build: incremental models (the trading chain, issue 16)
# keep their rows between builds and only rebuild what new loads touched, so a build under changed code, seeds or
# reference data must rebuild them whole (dbt build --full-refresh) or they would mix old and new logic.
DBT_CODE_STAGE = "dbt_code"
# Per raw family, the digest of its files in raw.load_files at the last successful build (selection.family_digests),
# and that build's evaluation date: a build rebuilds only what the families and the date that moved since feed.
FAMILY_STAGE_PREFIX = "dbt_source:"
AS_OF_STAGE = "dbt_as_of"
# the generation token of the last build that superseded relations written outside Dagster: part of the recorded
# dbt fingerprint from then on (a hand-edited raw table gives other marts from the same raw files: what quality and
# the publications are keyed by must move, and stay moved while the raw files do not)
SUPERSEDED_STAGE = "dbt_superseded_outside"


def dbt_inputs_fingerprint(code_digest: "str | None" = None) -> "str | None":
    """Fingerprint of what `dbt build` would read now, or None when there is nothing to compare. ``code_digest``: the
    dbt project's digest when the caller has it already (hashing the project's files costs ≈ 30 ms)."""
    current = settings()
    if not current.warehouse.exists():
        return None
    con = duckdb.connect(str(current.warehouse))
    try:
        return stage_state.stage_fingerprint(con, code_digest or parse_state.dbt_code_digest(), current.as_of)
    except duckdb.CatalogException:  # no raw.load_files yet: never ingested
        return None
    finally:
        con.close()


def needs_full_refresh(code_digest: str, stage: str = DBT_CODE_STAGE) -> bool:
    """A full refresh when asked (GONGKAI_DBT_FULL_REFRESH / cli run --full-refresh) or when the dbt code differs
    from that of the last successful build (a first build too: nothing to add partitions to). ``stage``: where the
    digest of that build is kept (one per Spark target: its tables live in Spark's catalog, not in this file)."""
    current = settings()
    if current.dbt_full_refresh or not current.warehouse.exists():
        return True
    con = duckdb.connect(str(current.warehouse))
    try:
        return stage_state.last_fingerprint(con, stage) != code_digest
    finally:
        con.close()


def _record_code_digest(stage: str, code_digest: str) -> None:
    con = duckdb.connect(str(settings().warehouse))
    try:
        stage_state.record(con, stage, code_digest)
    finally:
        con.close()


def topological(assets_def: dg.AssetsDefinition, keys) -> list:
    """Keys ordered parents first: a multi-asset must yield its outputs in dependency order."""
    from graphlib import TopologicalSorter

    selected = set(keys)
    graph = {key: set(assets_def.asset_deps.get(key, set())) & selected for key in selected}
    return list(TopologicalSorter(graph).static_order())


def keys_to_report_when_skipped(context: AssetExecutionContext) -> set:
    """The dbt assets a skipped build still reports: those a step outside dbt reads (Dagster skips a step whose
    upstream output was not yielded, so quality and publication need them) and the marts (what the Finance
    Department looks for in the UI). Every event costs a write to the instance's storage — about 2 per asset,
    most of a skipped build's time — and the others were not rebuilt, so they are not reported as if they were.
    """
    own = set(context.assets_def.keys)
    try:
        graph = context.job_def.asset_layer.asset_graph
        read_outside = {k for k in own if any(child not in own for child in graph.get(k).child_keys)}
    except (AttributeError, KeyError, dg.DagsterInvariantViolationError):  # no job graph: report every asset
        return own
    marts = {k for k in own if context.assets_def.group_names_by_key.get(k) == "marts"}
    return read_outside | marts


def _set_state(value: "str | None", record: bool, code_digest: "str | None" = None,
               families: "Mapping[str, str] | None" = None, as_of: "str | None" = None) -> None:
    """After a successful whole-project build: what it read (fingerprint, code digest, per-family digests of the
    raw files, evaluation date). Before a build: forget the fingerprint (the per-family digests and the date stay:
    until a build succeeds, the next one must again rebuild what they say changed). The fingerprint recorded is salted
    with the token of the last build that superseded relations written outside Dagster (``SUPERSEDED_STAGE``)."""
    con = duckdb.connect(str(settings().warehouse))
    try:
        _write_state(con, value, record, code_digest, families, as_of)
    finally:
        con.close()


def _write_state(con: duckdb.DuckDBPyConnection, value: "str | None", record: bool, code_digest: "str | None" = None,
                 families: "Mapping[str, str] | None" = None, as_of: "str | None" = None) -> None:
    """``_set_state`` on an open connection."""
    salt = stage_state.last_fingerprint(con, SUPERSEDED_STAGE) if record and value else None
    if salt:
        value = stage_state.fingerprint(value, salt)
    if record and value:
        stage_state.record(con, DBT_STAGE, value)
    else:
        stage_state.forget(con, DBT_STAGE)
    if record and code_digest:
        stage_state.record(con, DBT_CODE_STAGE, code_digest)
    if record and families is not None:
        for family, digest in families.items():
            stage_state.record(con, FAMILY_STAGE_PREFIX + family, digest)
    if record and as_of:
        stage_state.record(con, AS_OF_STAGE, as_of)


def gongkai_dbt(context: AssetExecutionContext, dbt: DbtCliResource):
    current = settings()
    if current.is_spark:
        yield from _build_on_spark(context, dbt, current)
        return
    code_digest = parse_state.dbt_code_digest()
    fingerprint = dbt_inputs_fingerprint(code_digest)
    # whole: every asset of the full definition selected. Not ``context.assets_def.keys``: in a subset run (the UI,
    # ``--select``) that is the subset itself, so a subset looked whole and recorded every family as built.
    whole_project = selects_every_dbt_asset(context)
    full_refresh = needs_full_refresh(code_digest)
    manifest = json.loads(Path(require_manifest()).read_text(encoding="utf-8"))
    test_ids = {key: uid for key, uid in carried_checks.spec_test_ids(context.assets_def.check_specs).items()
                if key in context.selected_asset_check_keys}
    # a hand dbt build since: its relations are not what the recorded state says (of the manifest's relations only:
    # the records of others are dropped — a scratch model built by hand would have made every build whole for good)
    state = read_build_state(generations.relation_names(manifest))
    previous_families, previous_as_of, outside = state.families, state.as_of, state.outside
    if outside:
        context.log.info(f"dbt build whole: {len(outside)} relations were written by a dbt build outside Dagster "
                         f"(e.g. {sorted(outside)[0]}) 有关系由 Dagster 之外的 dbt build 写入")
    if previous_families is None and fingerprint is not None and state.fingerprint == fingerprint:
        # built whole from exactly these inputs before the per-family record existed: that build read them
        previous_families, previous_as_of = state.current_families, current.as_of.isoformat()
    if whole_project:
        plan = selection.plan_build(
            manifest, FAMILY_TABLES, full_refresh=full_refresh or fingerprint is None or bool(outside),
            previous_families=previous_families, current_families=state.current_families,
            previous_as_of=previous_as_of, as_of=current.as_of.isoformat(),
            tests_to_run=carried_checks.checks_without_result(test_ids, state.outcomes))
    else:  # a subset from the UI: dagster-dbt selects it; the code rule still holds
        plan = selection.BuildPlan("full_refresh" if full_refresh else "subset", "a subset of the dbt assets")
    context.log.info(f"dbt build: {plan.mode} — {plan.reason}"
                     + (f"; {len(plan.select)} nodes selected" if plan.select else ""))
    evaluated: set[str] = set()
    if plan.mode == "skip":
        # Raw files, dbt code, seeds and as_of are exactly those of the last successful build.
        reported = keys_to_report_when_skipped(context)
        for key in topological(context.assets_def, context.selected_asset_keys):
            if key in reported:
                yield dg.MaterializeResult(
                    asset_key=key, metadata={"dbt_build": "skipped: inputs unchanged 输入未变化"})
        # the warehouse holds what these inputs give (a subset build since may have forgotten the fingerprint)
        _set_state(fingerprint, record=True, code_digest=code_digest, families=state.current_families,
                   as_of=current.as_of.isoformat())
    else:
        # what this build may change gets a new generation before dbt writes (generations.py)
        if whole_project:
            moved = generations.reached(
                manifest, FAMILY_TABLES, mode=plan.mode,
                previous_families=previous_families, current_families=state.current_families,
                previous_as_of=previous_as_of, as_of=current.as_of.isoformat())
        else:  # a subset writes only what it builds (and changes the views reading that)
            moved = generations.written_by_subset(manifest, {k.path[-1] for k in context.selected_asset_keys})
        _begin_build(moved, superseded=bool(outside))
        # no JSON artifacts: dbt would write manifest.json twice (≈ 2 MB, at parse and after the run), run_results.json
        # and graph.gpickle, ≈ 1 CPU-s a build whatever the data's size; nothing here reads them (the invocation id
        # comes with dbt's events: ``invocation_noted``). The partial-parse state and dbt.log are still written.
        args = ["build", "--no-write-json"]
        if plan.mode == "full_refresh":
            context.log.info("dbt build --full-refresh: asked for, or the dbt code changed since the last build "
                             "(incremental models are rebuilt whole)")
            args.append("--full-refresh")
        if plan.mode != "selected" and not dbt_unit_tests_in_whole_builds():
            args += ["--exclude", "resource_type:unit_test"]  # GONGKAI_DBT_UNIT_TESTS=0 (paths.py says when)
        not_rebuilt: set = set()
        if plan.mode == "selected":
            args += plan.exclude_args(manifest)
            built = {dg.AssetKey([manifest["nodes"][uid]["name"]]) for uid in plan.selection.nodes
                     if manifest["nodes"][uid]["resource_type"] in ("model", "seed")}
            not_rebuilt = keys_to_report_when_skipped(context) - built
        env = {**settings().env_for_subprocess(), **(selection.INDIRECT_SELECTION_ENV if plan.mode == "selected" else {})}
        noted: dict = {}
        with subprocess_environment(env), dbt_invocation(dbt, args, context) as invocation:
            _import_gx_meanwhile()  # once the environment is set for dbt (no os.environ change under the import)
            yield from _record_outcomes(context, report_not_rebuilt(
                context.assets_def, invocation_noted(invocation.stream(), noted), not_rebuilt), evaluated)
        # the code digest and the families' digests only after a whole build: a subset leaves the models it did
        # not select as they were (the next whole build must still rebuild what the families reach)
        _finish_build(noted.get("invocation_id", NO_NODE_RAN), dict(value=fingerprint, code_digest=code_digest, families=state.current_families,
                                          as_of=current.as_of.isoformat()) if whole_project else None)
    yield from carried_checks.carried_results(test_ids, state.outcomes, evaluated)
    _register_fiscal_years(context)


with everything_selected_from_manifest():  # dbt_resource says why
    gongkai_dbt = dbt_assets(
        manifest=require_manifest(),
        project=gongkai_dbt_project,
        # several raw tables of one family share the family's ingest asset (raw/budget = sheets + lines)
        dagster_dbt_translator=GongkaiDbtTranslator(
            settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_duplicate_source_asset_keys=True)
        ),
        name="gongkai_dbt",
        pool=DUCKDB_POOL,
    )(gongkai_dbt)

# Every asset of the full dbt definition, known here: a subset run's ``context.assets_def`` is the subset.
DBT_ASSET_KEYS = frozenset(gongkai_dbt.keys)


def selects_every_dbt_asset(context: AssetExecutionContext) -> bool:
    """Whether this run builds the whole dbt project (every asset of ``gongkai_dbt`` selected), not a subset."""
    return set(context.selected_asset_keys) >= DBT_ASSET_KEYS


@dataclass(frozen=True)
class BuildState:
    """What the last successful build read (per family, evaluation date) and the kept test outcomes."""
    families: "dict[str, str] | None"
    as_of: "str | None"
    current_families: dict[str, str]
    outcomes: dict
    fingerprint: "str | None" = None  # of the last successful whole build (stage dbt)
    outside: frozenset = frozenset()  # of the project's relations asked about: written by a dbt build outside Dagster


def read_build_state(project: "set | None" = None) -> BuildState:
    """The build state; with ``project`` (the manifest's relation names) also which of them a dbt build outside
    Dagster wrote (``generations.built_outside``), after dropping the records of relations outside it
    (``generations.forget_others``)."""
    warehouse = settings().warehouse
    if not warehouse.exists():
        return BuildState(None, None, {}, {})
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(stage_state.STATE_DDL)
        outside: frozenset = frozenset()
        if project is not None:
            generations.forget_others(con, project)
            outside = frozenset(generations.built_outside(con, project))
        rows = dict(con.execute("SELECT stage, fingerprint FROM raw.stage_state").fetchall())
        try:
            current = selection.family_digests(con, FAMILY_TABLES)
        except duckdb.CatalogException:  # never ingested
            current = {}
        previous = {stage[len(FAMILY_STAGE_PREFIX):]: value for stage, value in rows.items()
                    if stage.startswith(FAMILY_STAGE_PREFIX)}
        return BuildState(previous or None, rows.get(AS_OF_STAGE), current, carried_checks.load_outcomes(con),
                          rows.get(DBT_STAGE), outside)
    finally:
        con.close()


def record_whole_build() -> None:
    """Record the warehouse as built whole from its present raw files, code and date — what a successful
    whole-project build records — for a warehouse built by ``dbt build`` outside Dagster (tests, a hand build)."""
    state = read_build_state()
    # built outside the dbt asset: any relation may have changed (generations.py)
    _begin_build(generations.relation_names(json.loads(Path(require_manifest()).read_text(encoding="utf-8"))))
    # None as the invocation: every relation's
    code_digest = parse_state.dbt_code_digest()
    _finish_build(None, dict(value=dbt_inputs_fingerprint(code_digest), code_digest=code_digest,
                             families=state.current_families, as_of=settings().as_of.isoformat()))


def report_not_rebuilt(assets_def: dg.AssetsDefinition, events: Iterable, not_rebuilt: set) -> Iterator:
    """dbt's events, with a "not rebuilt" materialisation for each asset in ``not_rebuilt`` (assets a step outside
    dbt reads, and the marts: keys_to_report_when_skipped) placed where Dagster needs it: a multi-asset yields its
    outputs parents first, and dbt may rebuild a model below one it did not rebuild (int_privacy_hits below the
    untouched trading chain). Each pending asset goes out just before the first rebuilt asset that depends on it;
    the rest after dbt's last event."""
    if not not_rebuilt:
        yield from events
        return
    pending = topological(assets_def, not_rebuilt)
    ancestors = _ancestors(assets_def)
    for event in events:
        key = _output_key(assets_def, event)
        if key is not None:
            due = [k for k in pending if k in ancestors.get(key, set())]
            for k in due:
                pending.remove(k)
                yield _not_rebuilt(k)
        yield event
    for k in pending:
        yield _not_rebuilt(k)


def _not_rebuilt(key: dg.AssetKey) -> dg.MaterializeResult:
    return dg.MaterializeResult(asset_key=key, metadata={"dbt_build": "not rebuilt: inputs unchanged 输入未变化"})


def _output_key(assets_def: dg.AssetsDefinition, event) -> "dg.AssetKey | None":
    if isinstance(event, dg.Output):
        return assets_def.node_keys_by_output_name.get(event.output_name)
    if isinstance(event, dg.MaterializeResult):
        return event.asset_key
    return None


def _ancestors(assets_def: dg.AssetsDefinition) -> dict:
    """key -> every key of this multi-asset it depends on, directly or not."""
    own = set(assets_def.keys)
    parents = {key: set(assets_def.asset_deps.get(key, set())) & own for key in own}
    out: dict = {}
    for key in topological(assets_def, own):  # parents first
        out[key] = set(parents[key]).union(*(out[p] for p in parents[key]))
    return out


# what ``invocation_noted`` leaves when dbt reported no node: no relation of this build to adopt (never None, which
# would adopt every relation's record, a hand build's too)
NO_NODE_RAN = ""


def invocation_noted(events: Iterable, noted: dict) -> Iterator:
    """dbt's events passed on, noting dbt's invocation id (``noted["invocation_id"]``) from the first event that
    carries it: dagster-dbt puts it in the metadata of every node's materialisation and test result, which is
    what dbt's build marks name (``generations.adopt``)."""
    for event in events:
        if "invocation_id" not in noted:
            value = (getattr(event, "metadata", None) or {}).get("invocation_id")
            if value is not None:
                noted["invocation_id"] = str(getattr(value, "value", value))
        yield event


def _record_outcomes(context: AssetExecutionContext, events: Iterable, evaluated: set) -> Iterator:
    """Pass dbt's events on; keep the outcome of every test that ran (also when the build fails: it is still the
    latest outcome of that test on that table)."""
    outcomes = []
    now = dt.datetime.now()
    try:
        for event in events:
            if isinstance(event, dg.AssetCheckResult):
                outcome = carried_checks.outcome_of(event, context.run.run_id, now)
                if outcome is not None:
                    outcomes.append(outcome)
                    evaluated.add(outcome.test_unique_id)
            yield event
    except Exception:
        try:  # dbt failed (a test, a model): what did run is still the latest outcome of those tests
            _save_outcomes(outcomes)
        except duckdb.Error as exc:  # never hide why the build failed
            context.log.warning(f"test outcomes not kept: {exc}")
        raise
    _save_outcomes(outcomes)


def _import_gx_meanwhile() -> None:
    """Start importing Great Expectations in a thread while dbt builds in its own process: the quality step that
    follows a build judges with GX, whose import (≈ 3 s of Python) was the first thing on its critical path after
    a small change. The quality step's own ``import_gx`` waits for an import under way (Python's module lock)."""
    import threading

    from dagster_project.quality.gx_duckdb import import_gx

    threading.Thread(target=import_gx, name="import-gx-during-dbt", daemon=True).start()


def _begin_build(moved: set, superseded: bool = False) -> None:
    """Before dbt writes, in one connection: forget the fingerprint (a build that dies half-way must not look
    current), give ``moved`` a new generation, and when the build supersedes relations written outside Dagster record
    its token (``SUPERSEDED_STAGE``: the same raw files may give other marts now — a raw table edited by hand — so a
    fingerprint of its own from this build on, moved before dbt writes as the generations are)."""
    con = duckdb.connect(str(settings().warehouse))
    try:
        _write_state(con, None, record=False)
        token = generations.move(con, moved)
        if superseded:
            stage_state.record(con, SUPERSEDED_STAGE, token)
    finally:
        con.close()


def _finish_build(invocation_id: "str | None", whole: "dict | None") -> None:
    """After dbt, in one connection: adopt the build records of dbt invocation ``invocation_id`` (None: every
    relation's; ``generations.adopt``) and, after a whole build, record what it read (``whole``: ``_set_state``'s
    arguments)."""
    con = duckdb.connect(str(settings().warehouse))
    try:
        generations.adopt(con, invocation_id)
        if whole is not None:
            _write_state(con, record=True, **whole)
    finally:
        con.close()


def _save_outcomes(outcomes: list) -> None:
    con = duckdb.connect(str(settings().warehouse))
    try:
        carried_checks.save_outcomes(con, outcomes)
    finally:
        con.close()


@contextmanager
def dbt_invocation(dbt: DbtCliResource, args: list, context: "AssetExecutionContext | None") -> Iterator:
    """One dbt invocation parsed from this warehouse's kept partial-parse state (parse_state): its target folder
    (dagster-dbt's per-invocation name) is seeded with the state, and what dbt leaves there is kept for the next;
    older invocation folders beyond the newest few are removed (invocation_folders)."""
    target_path = dbt._get_unique_target_path(context=context)
    if not target_path.is_absolute():  # relative to the dbt project, where dbt runs (DbtCliResource.cli does the same)
        target_path = Path(dbt.project_dir) / target_path
    parse_state.seed(target_path)
    try:
        yield dbt.cli(args, context=context, target_path=target_path)
    finally:
        parse_state.keep(target_path)
        invocation_folders.prune(target_path.parent)


def _register_fiscal_years(context: AssetExecutionContext) -> None:
    """The years the marts hold become fiscal-year partitions of the publication assets (partitions.py)."""
    con = duckdb.connect(str(settings().warehouse), read_only=True)
    try:
        years = partitions.years_in_warehouse(con)
    finally:
        con.close()
    new = partitions.register(context.instance, years)
    if new:
        context.log.info(f"fiscal-year partitions added 新增财政年度分区: {', '.join(new)}")


def _build_on_spark(context: AssetExecutionContext, dbt: DbtCliResource, current) -> Iterator:
    """GONGKAI_DBT_TARGET=spark_ci|spark_local|spark: the same models on Spark. The raw tables go over as Parquet
    (spark_exchange); dbt builds in Spark's catalog, not in the DuckDB file (README "Scaling out")."""
    exported = spark_exchange.prepare_spark_dir(current)
    not_portable = spark_exchange.models_not_portable(json.loads(Path(require_manifest()).read_text(encoding="utf-8")))
    context.log.info(
        f"{len(exported)} raw tables exported as Parquet to {current.spark_exchange_dir} for target {current.dbt_target}; "
        f"not built on Spark (not portable yet): {', '.join(not_portable) or 'none'}")
    # spark_local / spark keep their tables between runs: the incremental models need the same full-refresh rule
    code_digest, code_stage = parse_state.dbt_code_digest(), f"{DBT_CODE_STAGE}:{current.dbt_target}"
    args = ["build", "--target", current.dbt_target]
    if needs_full_refresh(code_digest, code_stage):
        args.append("--full-refresh")
    if not_portable:
        args += ["--exclude", *not_portable]
    with subprocess_environment(current.env_for_subprocess()), dbt_invocation(dbt, args, context) as invocation:
        yield from invocation.stream()
    if selects_every_dbt_asset(context):
        _record_code_digest(code_stage, code_digest)


dbt_resource = GongkaiDbtCliResource(project_dir=gongkai_dbt_project, dbt_executable=DBT_EXECUTABLE)

defs = dg.Definitions(assets=[gongkai_dbt], resources={"dbt": dbt_resource})
