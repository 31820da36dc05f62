"""Dagster assets of the publish concern: OCDS packages, the open-data release, dashboards.

All three read the marts (the dbt assets' keys of the model names) and run in the ``duckdb`` pool with a
read-only connection closed before returning. Publication is blocked only by failing *blocking*
asset checks upstream (the integrity checks of ingest, dbt and quality): Dagster skips these assets
when one fails. Compliance findings never block: they are published as data.
"""

import dagster as dg
import duckdb

import inspect

from dagster_project import partitions, stage_state
from dagster_project.paths import carrying_disabled, settings
from dagster_project.publish import atomic
from dagster_project.publish.dashboards import (page_fingerprints, pages_to_keep, remember_rendering,
                                                rendered_unchanged, write_dashboards, written_files)
from dagster_project.publish.inputs import ocds_fingerprint
from dagster_project.publish.ocds import build_ocds
from dagster_project.publish.release import build_release
from dagster_project.resources import DUCKDB_POOL

GROUP = "publish"
MART_NAMES = ("fct_budget_lines", "fct_debt_positions", "fct_trading_bulletins", "fct_deals", "fct_disclosure_status",
              "dim_region")


def mart_key(model_name: str) -> dg.AssetKey:
    """The asset key dbt's assets give a model (``marts/<model>`` with the project's translator).

    Read from the dbt assets themselves so a change of key scheme there cannot silently cut lineage
    (publish would then run before the marts exist); without a dbt manifest, the current scheme.
    """
    try:
        from dagster_project.transform.assets import gongkai_dbt
    except (ImportError, FileNotFoundError):
        return dg.AssetKey(["marts", model_name])
    for key in gongkai_dbt.keys:
        if key.path[-1] == model_name:
            return key
    raise LookupError(f"dbt model {model_name} is not among the dbt assets")


MART_KEYS = {name: mart_key(name) for name in MART_NAMES}
FINDINGS_KEY = dg.AssetKey(["quality", "findings"])
OCDS_KEY = dg.AssetKey(["publish", "ocds"])
RELEASE_KEY = dg.AssetKey(["publish", "open_data_release"])
DASHBOARDS_KEY = dg.AssetKey(["publish", "dashboards"])


def publish_fingerprint(stage: str, reads_findings: bool = True, schema_setting: "str | None" = None) -> "str | None":
    """Fingerprint of what a publication would contain: the marts (dbt's recorded fingerprint), the
    latest quality findings (when the publication reads them), and the publishing code and data
    (``inputs.publish_code_digest``: the one digest every part, package and page is keyed by — ``publish/`` and
    ``dashboards/``, the modules publishing imports, the rule catalogue and the OCDS schema ``schema_setting`` names).
    None when unknown (then always publish): among others while any relation was written by a dbt build outside
    Dagster (``inputs._dbt_build``: the recorded dbt fingerprint no longer says what the marts hold). The storage
    marks of the relations the publication reads (``relations_read``; ``relation_fingerprint.StorageMarks``) are in
    it: a mart changed by hand in a DuckDB session (no dbt build, no generation moved) opens the gate, and the parts,
    packages and pages keyed by the marks too decide by what the marts hold."""
    from dagster_project.publish.inputs import DBT_STAGE, publish_code_digest
    from dagster_project.relation_fingerprint import StorageMarks
    from dagster_project.transform import generations

    s = settings()
    if not s.warehouse.exists() or carrying_disabled():
        return None
    con = duckdb.connect(str(s.warehouse), read_only=True)
    try:
        needed = [("raw", "stage_state")] + ([("quality", "findings"), ("quality", "runs")] if reads_findings else [])
        if not _tables_exist(con, *needed):
            return None  # never built by dbt through Dagster, or never checked: always publish
        state = generations.BuildState.read(con)
        dbt_build = state.dbt_build(DBT_STAGE)
        if dbt_build is None:
            return None
        stored = StorageMarks(con).of_all(relations_read(stage, state.generations))
        findings = con.execute(
            "SELECT coalesce(md5(string_agg(finding_key, ',' ORDER BY finding_key)), '') FROM quality.findings "
            "WHERE run_id = (SELECT run_id FROM quality.runs ORDER BY started_at DESC LIMIT 1)"
        ).fetchone()[0] if reads_findings else "findings not read"
    finally:
        con.close()
    code = publish_code_digest(schema_setting)
    # the OCDS identifiers and links are settings: a new prefix or base URI republishes
    return stage_state.fingerprint(dbt_build, stored, findings, code, stage, s.ocds_ocid_prefix, s.ocds_base_uri)


DASHBOARDS_STAGE = "publish_dashboards"


def relations_read(stage: str, dbt_relations) -> set[str]:
    """The dbt relations (node names) a publication reads: the release's datasets (``datasets.yaml``: ``relation``,
    ``fiscal_year_from``), the dashboard pages' figures (``{relation}`` placeholders); ``dbt_relations`` (all of them)
    for any other stage. A mark costs a catalogue read per relation (≈ 0.03 CPU-s per 1 M-row table of 30 columns),
    so a gate marks what its publication reads only."""
    from dagster_project.publish.dashboards import _PLACEHOLDER, load_definitions
    from dagster_project.publish.release import load_spec

    if stage == "publish_release":
        return {r for ds in load_spec()["datasets"]
                for r in (ds.get("relation"), (ds.get("fiscal_year_from") or {}).get("relation")) if r}
    if stage == DASHBOARDS_STAGE:
        return {name for d in load_definitions() for f in d["figures"] for name in _PLACEHOLDER.findall(f["sql"])}
    return set(dbt_relations)


def dashboards_fingerprint() -> "str | None":
    """Fingerprint of what the dashboards would show: the publication fingerprint (marts, latest finding keys,
    publishing code and dashboard definitions), the latest quality run's inputs (catalogue, suites, as-of: the
    rows of ``{latest_findings}`` beyond their keys) and the plotly version (its script is copied beside the
    pages). None when any part is unknown: then always render."""
    import plotly

    base = publish_fingerprint(DASHBOARDS_STAGE)
    if base is None:
        return None
    con = duckdb.connect(str(settings().warehouse), read_only=True)
    try:
        columns = {r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'quality' AND table_name = 'runs'"
        ).fetchall()}
        if "inputs_fingerprint" not in columns:
            return None
        row = con.execute("SELECT inputs_fingerprint FROM quality.runs ORDER BY started_at DESC LIMIT 1").fetchone()
    finally:
        con.close()
    if not row or row[0] is None:
        return None
    return stage_state.fingerprint(base, row[0], plotly.__version__)


def _tables_exist(con, *tables: tuple[str, str]) -> bool:
    present = set(con.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall())
    return all(t in present for t in tables)


def unchanged_since_last_publication(stage: str, fingerprint: "str | None", current_dir) -> bool:
    if fingerprint is None or current_dir is None or not current_dir.exists():
        return False
    con = duckdb.connect(str(settings().warehouse), read_only=True)
    try:
        if not _tables_exist(con, ("raw", "stage_state")):
            return False
        row = con.execute("SELECT fingerprint FROM raw.stage_state WHERE stage = ?", [stage]).fetchone()
    finally:
        con.close()
    return bool(row) and row[0] == fingerprint


def remember_publication(stage: str, fingerprint: "str | None") -> None:
    if fingerprint is None:
        return
    con = duckdb.connect(str(settings().warehouse))
    try:
        stage_state.record(con, stage, fingerprint)
    finally:
        con.close()


def call_for_years(context: dg.AssetExecutionContext, publish, *args, **kwargs):
    """Call a publication function for the run's fiscal years (None: every year).

    Seam for publication by year (issue 16B): a function that takes ``fiscal_years`` rebuilds those years' parts
    and carries the others over; one that does not yet rebuilds everything, which is correct, only slower.
    """
    years = partitions.fiscal_years_of(context)
    if "fiscal_years" in inspect.signature(publish).parameters:
        return publish(*args, fiscal_years=years, **kwargs)
    if years is not None:
        context.log.info(f"{publish.__name__}: publication by year not available yet; every year is rebuilt "
                         f"(partition {sorted(years)})")
    return publish(*args, **kwargs)


def _years_metadata(context: dg.AssetExecutionContext) -> dict:
    years = partitions.fiscal_years_of(context)
    return {"fiscal_years": dg.MetadataValue.text("all 全部" if years is None else ", ".join(map(str, sorted(years))))}


class OcdsConfig(dg.Config):
    # Folder of the OCDS 1.1.5 schemas; blank: <repo>/../shared/ocds-1.1.5, else the copy in the package.
    ocds_schema_dir: str = ""


@dg.asset(
    key=OCDS_KEY, group_name=GROUP, pool=DUCKDB_POOL, kinds={"duckdb", "json"},
    # Not a partitioned asset: the release depends on it, and Dagster refuses a partitioned → partitioned
    # dependency in a run without a partition (the all-years `make run`). In a one-year run it still builds
    # that year only: partitions.fiscal_years_of reads the run's partition.
    deps=[MART_KEYS["fct_trading_bulletins"], MART_KEYS["fct_deals"]],
    description="OCDS 1.1.5 开放合同数据：每条公告一个 release，每个交易一个 record（离线校验） "
                "OCDS release and record packages, validated offline against the 1.1.5 schema.",
)
def ocds(context: dg.AssetExecutionContext, config: OcdsConfig) -> dg.MaterializeResult:
    s = settings()
    # by input (publish/inputs.py): the trading marts it reads, by content, not the whole dbt build — a corrected
    # budget figure does not rebuild the packages. No findings: OCDS reads none, and may run before quality.
    fingerprint = ocds_fingerprint(s.warehouse, s.ocds_ocid_prefix, s.ocds_base_uri,
                                   schema_setting=config.ocds_schema_dir or None)
    current = atomic.current_release_dir(s.out_dir / "ocds")
    if unchanged_since_last_publication("publish_ocds", fingerprint, current):
        context.log.info(f"OCDS unchanged: {current} is still current")
        return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(current)),
                                              "skipped": "inputs unchanged 输入未变化"})
    result = call_for_years(context, build_ocds, s.warehouse, s.out_dir, schema_setting=config.ocds_schema_dir or None)
    context.log.info(f"OCDS: {result.releases} releases, {result.records} records in {result.path}")
    remember_publication("publish_ocds", fingerprint)
    return dg.MaterializeResult(metadata={
        **_years_metadata(context),
        "path": dg.MetadataValue.path(str(result.path)),
        "releases": result.releases, "records": result.records,
        "files": dg.MetadataValue.json(result.files), "bytes": result.bytes,
        "validation": result.validation, "seconds": result.seconds,
        "parts": dg.MetadataValue.json({k: v.get("status") for k, v in result.parts.items()}),
    })


@dg.asset(
    key=RELEASE_KEY, group_name=GROUP, pool=DUCKDB_POOL, kinds={"duckdb", "parquet", "csv"},
    partitions_def=partitions.fiscal_year_partitions, backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[*[k for n, k in MART_KEYS.items() if n != "dim_region"], FINDINGS_KEY, OCDS_KEY],
    description="开放数据发布：CSV（UTF-8 BOM）+ Parquet、datapackage.json、manifest、DCAT、SHA256SUMS，"
                "校验通过后原子发布并更新 LATEST. Open-data release, validated, published atomically.",
)
def open_data_release(context: dg.AssetExecutionContext, config: OcdsConfig) -> dg.MaterializeResult:
    s = settings()
    fingerprint = publish_fingerprint("publish_release", schema_setting=config.ocds_schema_dir or None)
    current = atomic.current_release_dir(s.out_dir / "open-data")
    if unchanged_since_last_publication("publish_release", fingerprint, current):
        # Nothing the release would contain has changed: no new release, LATEST stays.
        context.log.info(f"release unchanged: {current.name} is still current")
        return dg.MaterializeResult(metadata={"release_id": current.name,
                                              "path": dg.MetadataValue.path(str(current)),
                                              "skipped": "inputs unchanged 输入未变化"})
    result = call_for_years(context, build_release, s.warehouse, s.out_dir, run_id=context.run.run_id,
                           ocds_dir=atomic.current_release_dir(s.out_dir / "ocds"),
                           ocds_schema_dir=config.ocds_schema_dir or None, skip_identical=True)
    remember_publication("publish_release", fingerprint)
    if result.unchanged:
        # the inputs moved (a re-read by changed readers, a re-saved file) but not what the release says
        context.log.info(f"release content unchanged: {result.release_id} is still current 发布内容未变化")
        return dg.MaterializeResult(metadata={"release_id": result.release_id,
                                              "path": dg.MetadataValue.path(str(result.path)),
                                              "skipped": "content identical 发布内容未变化", "seconds": result.seconds})
    context.log.info(f"released {result.release_id} at {result.path}")
    return dg.MaterializeResult(metadata={
        **_years_metadata(context),
        "release_id": result.release_id,
        "path": dg.MetadataValue.path(str(result.path)),
        "rows": dg.MetadataValue.json({n: d.rows for n, d in result.datasets.items()}),
        "bytes": result.total_bytes,
        "file_bytes": dg.MetadataValue.json(
            {n: {"csv": d.csv_bytes, "parquet": d.parquet_bytes} for n, d in result.datasets.items()}),
        "skipped_datasets": dg.MetadataValue.json(result.skipped),
        # publication by fiscal year: parts written in this release, parts carried unchanged (hard links)
        "parts_new": dg.MetadataValue.json(result.parts_with("new")),
        "parts_carried": dg.MetadataValue.json(result.parts_with("carried")),
        "pruned_releases": dg.MetadataValue.json(result.pruned),
        "validation": dg.MetadataValue.json(result.validation),
        "seconds": result.seconds,
    })


@dg.asset(
    key=DASHBOARDS_KEY, group_name=GROUP, pool=DUCKDB_POOL, kinds={"plotly", "html"},
    # the procurement dashboard reads dbt's per-deal rule rows (the rows the quality report counts)
    deps=[*MART_KEYS.values(), mart_key("int_deal_timelines_evaluated"), FINDINGS_KEY],
    description="仪表板：公开合规热力图、及时性、支出构成、债务空间、交易竞争（离线 HTML） "
                "Dashboards (offline HTML): compliance heatmap, timeliness, budget composition, debt headroom, competition.",
)
def dashboards(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    s = settings()
    fingerprint = dashboards_fingerprint()
    folder = s.out_dir / "dashboards"
    kept = rendered_unchanged(folder, fingerprint)
    if kept is not None:
        context.log.info(f"dashboards unchanged: the pages in {folder} are still current 仪表板输入未变化")
        return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(folder)),
                                              "skipped": "inputs unchanged 输入未变化",
                                              "pages": dg.MetadataValue.json(sorted(kept["files"]))})
    # by page (publish/inputs.py): a page whose relations and findings rows are unchanged is kept as it is
    pages = page_fingerprints(s.warehouse)
    result = write_dashboards(s.warehouse, s.out_dir, fingerprints=pages, keep=pages_to_keep(folder, pages))
    remember_rendering(result.folder, fingerprint, written_files(result), result.pages)
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(result.folder)),
        "pages": dg.MetadataValue.json({p.name: {"figures": p.figures, "bytes": p.bytes,
                                                 "empty_figures": p.empty_figures} for p in result.pages}),
        "pages_kept": dg.MetadataValue.json(sorted(p.name for p in result.pages if p.kept)),
        "pages_drawn": dg.MetadataValue.json(sorted(p.name for p in result.pages if not p.kept)),
        "plotly_js_bytes": result.plotly_js_bytes,
        "seconds": result.seconds,
    })


defs = dg.Definitions(assets=[ocds, open_data_release, dashboards])
