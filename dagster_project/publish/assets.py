"""Dagster assets of the publish concern: OCDS packages, the open-data release, dashboards.

All three read the marts (the dbt assets' keys of the model names) and run in the ``duckdb`` pool with a
read-only connection closed before returning. Publication is blocked only by failing *blocking*
asset checks upstream (the integrity checks of ingest, dbt and quality): Dagster skips these assets
when one fails. Compliance findings never block: they are published as data.
"""

import dagster as dg

from dagster_project.paths import settings
from dagster_project.publish import atomic
from dagster_project.publish.dashboards import write_dashboards
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


class OcdsConfig(dg.Config):
    # Folder of the OCDS 1.1.5 schemas; blank: <repo>/../shared/ocds-1.1.5, else the copy in the package.
    ocds_schema_dir: str = ""


@dg.asset(
    key=OCDS_KEY, group_name=GROUP, pool=DUCKDB_POOL, kinds={"duckdb", "json"},
    deps=[MART_KEYS["fct_trading_bulletins"], MART_KEYS["fct_deals"]],
    description="OCDS 1.1.5 开放合同数据：每条公告一个 release，每个交易一个 record（离线校验） "
                "OCDS release and record packages, validated offline against the 1.1.5 schema.",
)
def ocds(context: dg.AssetExecutionContext, config: OcdsConfig) -> dg.MaterializeResult:
    s = settings()
    result = build_ocds(s.warehouse, s.out_dir, schema_setting=config.ocds_schema_dir or None)
    context.log.info(f"OCDS: {result.releases} releases, {result.records} records in {result.path}")
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(result.path)),
        "releases": result.releases, "records": result.records,
        "files": dg.MetadataValue.json(result.files), "bytes": result.bytes,
        "validation": result.validation, "seconds": result.seconds,
    })


@dg.asset(
    key=RELEASE_KEY, group_name=GROUP, pool=DUCKDB_POOL, kinds={"duckdb", "parquet", "csv"},
    deps=[*[k for n, k in MART_KEYS.items() if n != "dim_region"], FINDINGS_KEY, OCDS_KEY],
    description="开放数据发布：CSV（UTF-8 BOM）+ Parquet、datapackage.json、manifest、DCAT、SHA256SUMS，"
                "校验通过后原子发布并更新 LATEST. Open-data release, validated, published atomically.",
)
def open_data_release(context: dg.AssetExecutionContext, config: OcdsConfig) -> dg.MaterializeResult:
    s = settings()
    result = build_release(s.warehouse, s.out_dir, run_id=context.run.run_id,
                           ocds_dir=atomic.current_release_dir(s.out_dir / "ocds"),
                           ocds_schema_dir=config.ocds_schema_dir or None)
    context.log.info(f"released {result.release_id} at {result.path}")
    return dg.MaterializeResult(metadata={
        "release_id": result.release_id,
        "path": dg.MetadataValue.path(str(result.path)),
        "rows": dg.MetadataValue.json({n: d.rows for n, d in result.datasets.items()}),
        "bytes": result.total_bytes,
        "file_bytes": dg.MetadataValue.json(
            {n: {"csv": d.csv_bytes, "parquet": d.parquet_bytes} for n, d in result.datasets.items()}),
        "skipped_datasets": dg.MetadataValue.json(result.skipped),
        "validation": dg.MetadataValue.json(result.validation),
        "seconds": result.seconds,
    })


@dg.asset(
    key=DASHBOARDS_KEY, group_name=GROUP, pool=DUCKDB_POOL, kinds={"plotly", "html"},
    deps=[*MART_KEYS.values(), FINDINGS_KEY],
    description="仪表板：公开合规热力图、及时性、支出构成、债务空间、交易竞争（离线 HTML） "
                "Dashboards (offline HTML): compliance heatmap, timeliness, budget composition, debt headroom, competition.",
)
def dashboards(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    s = settings()
    result = write_dashboards(s.warehouse, s.out_dir)
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(result.folder)),
        "pages": dg.MetadataValue.json({p.name: {"figures": p.figures, "bytes": p.bytes,
                                                 "empty_figures": p.empty_figures} for p in result.pages}),
        "plotly_js_bytes": result.plotly_js_bytes,
        "seconds": result.seconds,
    })


defs = dg.Definitions(assets=[ocds, open_data_release, dashboards])
