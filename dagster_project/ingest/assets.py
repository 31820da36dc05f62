"""Dagster assets that bring each raw family into DuckDB, and the load manifest that accounts for them.

One asset per family (``raw/<family>``), all built by one factory from ``FAMILY_LOADERS``; a
``raw/load_manifest`` asset downstream of them reports what every file became, with blocking
checks on row accounting. A sensor on the raw root asks for a run when files change.
"""
import importlib
import json
from pathlib import Path
from typing import Callable

import dagster as dg
from dagster import AssetExecutionContext, SensorEvaluationContext

from dagster_project.ingest import framework
from dagster_project.paths import settings
from dagster_project.resources import DUCKDB_POOL, WarehouseResource

# family -> "module:function" of its loader (imported when the asset runs, so a slow or broken
# loader module cannot stop the code location from loading).
FAMILY_LOADERS: dict[str, str] = {
    "registry": "dagster_project.ingest.tabular:load_registry_file",
    "budget": "dagster_project.ingest.workbook:load_workbook_file",
    "debt": "dagster_project.ingest.workbook:load_workbook_file",
    "trading": "dagster_project.ingest.trading:load_trading_file",
    "portal": "dagster_project.ingest.tabular:load_portal_file",
}

# family -> "module:function(con) -> dict" adding family-specific facts to the asset metadata.
FAMILY_EXTRA_METADATA: dict[str, str] = {
    "trading": "dagster_project.ingest.trading:duplicate_report",
}

FAMILY_DESCRIPTIONS = {
    "registry": "登记册 Registry: regions, departments/units and approval dates — who must publish what.",
    "budget": "预决算 Budgets and final accounts (text PDFs, .xlsx/.xlsm, .xls): government four books, department "
              "tables and their required explanations.",
    "debt": "政府债务 Local-government debt tables 1-1…1-4 and the bond-use table (PDF, .xlsx, .xls; either layout).",
    "trading": "公共资源交易 Public-resource trading platform exports (CSV / JSON / JSON Lines).",
    "portal": "门户发布记录 Portal publication log: what was published, where, when.",
}

GROUP = "ingest"


def resolve_loader(spec: str):
    """Import "module:function" lazily."""
    module_name, _, function_name = spec.partition(":")
    return getattr(importlib.import_module(module_name), function_name)


def family_report_metadata(report: framework.FamilyLoadReport) -> dict[str, dg.MetadataValue]:
    """Asset metadata for a family load: counts plus the file lists a clerk would look at."""
    return {
        "load_id": dg.MetadataValue.text(report.load_id),
        "files_loaded": dg.MetadataValue.int(len(report.loaded)),
        "files_unchanged": dg.MetadataValue.int(len(report.unchanged)),
        "files_rejected": dg.MetadataValue.int(len(report.rejected)),
        "files_retired": dg.MetadataValue.int(len(report.retired)),
        "rows_in": dg.MetadataValue.int(report.rows_in),
        "rows_loaded": dg.MetadataValue.int(report.rows_loaded),
        "rows_rejected": dg.MetadataValue.int(report.rows_rejected),
        "rejected_files": dg.MetadataValue.json(report.rejected),
        "retired_files": dg.MetadataValue.json(report.retired),
    }


def family_accounting(con, family: str) -> dict:
    """Current state of a family in raw.load_files: per-file accounting and rejected files."""
    files = con.execute(
        """
        SELECT source_file, status, coalesce(reason, ''), rows_in, rows_loaded, rows_rejected
        FROM raw.load_files WHERE family = ? AND is_current AND status <> 'retired'
        ORDER BY source_file
        """,
        [family],
    ).fetchall()
    unbalanced = [f[0] for f in files if f[3] != f[4] + f[5]]
    rejected = [{"file": f[0], "reason": f[2]} for f in files if f[1] == "rejected"]
    with_row_rejects = [f[0] for f in files if f[1] == "loaded_with_rejects"]
    return {
        "files": len(files),
        "unbalanced": unbalanced,
        "rejected": rejected,
        "with_row_rejects": with_row_rejects,
    }


class IngestConfig(dg.Config):
    """Run configuration of a family load (launchpad / ``dagster job execute --config``)."""

    # Retire vanished files even if the family would lose every file or more than the allowed share of
    # its rows (GONGKAI_RETIRE_MAX_DROP). Same as GONGKAI_ALLOW_RETIRE=1 for this run.
    allow_retire: bool = False


def retire_policy(config_allows: bool = False) -> framework.RetirePolicy:
    s = settings()
    return framework.RetirePolicy(allow=config_allows or s.allow_retire, max_drop_share=s.retire_max_drop)


def _family_asset(family: str) -> dg.AssetsDefinition:
    key = dg.AssetKey(["raw", family])

    @dg.asset(
        key=key,
        group_name=GROUP,
        description=FAMILY_DESCRIPTIONS[family],
        pool=DUCKDB_POOL,
        kinds={"duckdb", "python"},
        check_specs=[
            dg.AssetCheckSpec(
                "row_accounting_balanced",
                asset=key,
                blocking=True,
                description="每个文件 读入行 = 入库行 + 拒收行 / per file rows in = rows loaded + rows rejected",
            ),
            dg.AssetCheckSpec(
                "no_rejected_files",
                asset=key,
                description="没有整份被拒收的文件 / no file was rejected whole (a warning: the run goes on)",
            ),
        ],
    )
    def _load(context: AssetExecutionContext, config: IngestConfig, warehouse: WarehouseResource):
        raw_dir = settings().raw_dir
        try:
            # before the warehouse is opened: a missing root touches nothing
            framework.check_raw_root(raw_dir)
        except framework.RawRootError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        loader = resolve_loader(FAMILY_LOADERS[family])
        with warehouse.connect() as con:
            try:
                report = framework.load_family(
                    con, raw_dir, family, loader, progress=context.log.info,
                    retire_policy=retire_policy(config.allow_retire),
                )
            except (framework.RawRootError, framework.RetireGuardTripped) as exc:
                raise dg.Failure(description=str(exc), allow_retries=False) from None
            state = family_accounting(con, family)
            metadata = family_report_metadata(report)
            if family in FAMILY_EXTRA_METADATA:
                extra = resolve_loader(FAMILY_EXTRA_METADATA[family])(con)
                metadata.update({key: dg.MetadataValue.json(value) if isinstance(value, (list, dict))
                                 else value for key, value in extra.items()})
        yield dg.MaterializeResult(metadata=metadata)
        yield dg.AssetCheckResult(
            check_name="row_accounting_balanced",
            passed=not state["unbalanced"],
            metadata={"unbalanced_files": dg.MetadataValue.json(state["unbalanced"])},
        )
        yield dg.AssetCheckResult(
            check_name="no_rejected_files",
            passed=not state["rejected"],
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "rejected_files": dg.MetadataValue.json(state["rejected"]),
                "files_with_row_rejects": dg.MetadataValue.json(state["with_row_rejects"]),
            },
        )

    return _load


family_assets = [_family_asset(family) for family in framework.FAMILIES]

LOAD_MANIFEST_KEY = dg.AssetKey(["raw", "load_manifest"])


def manifest_summary(con, raw_dir: Path) -> dict:
    """Compare what is on disk with raw.load_files: every file must be accounted for."""
    on_disk = {
        f.rel
        for family in framework.FAMILIES
        for f in _list_files(raw_dir, family)
    }
    current = dict(
        con.execute(
            "SELECT source_file, status FROM raw.load_files "
            "WHERE is_current AND status <> 'retired'"
        ).fetchall()
    )
    by_status = dict(
        con.execute(
            "SELECT status, count(*) FROM raw.load_files WHERE is_current GROUP BY 1"
        ).fetchall()
    )
    totals = con.execute(
        "SELECT coalesce(sum(rows_in),0), coalesce(sum(rows_loaded),0), "
        "coalesce(sum(rows_rejected),0) FROM raw.load_files WHERE is_current AND status <> 'retired'"
    ).fetchone()
    rejects = con.execute(
        "SELECT source_file, sheet, source_row, source_column, raw_value, reason "
        "FROM raw.load_rejects WHERE NOT is_retired ORDER BY source_file, sheet, source_row LIMIT 50"
    ).fetchall()
    return {
        "not_accounted": sorted(on_disk - set(current)),
        "accounted_but_absent": sorted(set(current) - on_disk),
        "by_status": by_status,
        "rows_in": int(totals[0]),
        "rows_loaded": int(totals[1]),
        "rows_rejected": int(totals[2]),
        "rejects_sample": [
            dict(zip(["file", "sheet", "row", "column", "raw_value", "reason"], r)) for r in rejects
        ],
    }


def _list_files(raw_dir: Path, family: str) -> list[framework.Candidate]:
    # Same file selection as framework.discover (rejected-unread links included), without hashing.
    return framework.list_family_files(raw_dir, family)


def _rejects_markdown(rejects: list[dict]) -> str:
    if not rejects:
        return "无拒收 No rejects."
    lines = ["| 文件 file | 工作表 sheet | 行 row | 列 column | 值 value | 原因 reason |", "|---|---|---|---|---|---|"]
    for r in rejects:
        cells = [str(r[k] if r[k] is not None else "") .replace("|", "/") for k in ("file", "sheet", "row", "column", "raw_value", "reason")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


@dg.asset(
    key=LOAD_MANIFEST_KEY,
    group_name=GROUP,
    deps=[a.key for a in family_assets],
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    description="装载清单 Load manifest: raw.load_files and raw.load_rejects — what became of every raw file.",
    check_specs=[
        dg.AssetCheckSpec(
            "every_file_accounted",
            asset=LOAD_MANIFEST_KEY,
            blocking=True,
            description="原始目录中的每个文件都有装载记录 / every file under the raw root has a load record",
        ),
        dg.AssetCheckSpec(
            "rows_in_equal_loaded_plus_rejected",
            asset=LOAD_MANIFEST_KEY,
            blocking=True,
            description="合计 读入行 = 入库行 + 拒收行 / in total rows in = loaded + rejected",
        ),
    ],
)
def load_manifest(context: AssetExecutionContext, warehouse: WarehouseResource):
    with warehouse.connect() as con:
        framework.ensure_schema(con)
        summary = manifest_summary(con, settings().raw_dir)
    context.log.info(json.dumps({k: v for k, v in summary.items() if k != "rejects_sample"}, ensure_ascii=False))
    yield dg.MaterializeResult(
        metadata={
            "files_by_status": dg.MetadataValue.json(summary["by_status"]),
            "rows_in": dg.MetadataValue.int(summary["rows_in"]),
            "rows_loaded": dg.MetadataValue.int(summary["rows_loaded"]),
            "rows_rejected": dg.MetadataValue.int(summary["rows_rejected"]),
            "rejects": dg.MetadataValue.md(_rejects_markdown(summary["rejects_sample"])),
        }
    )
    yield dg.AssetCheckResult(
        check_name="every_file_accounted",
        passed=not summary["not_accounted"] and not summary["accounted_but_absent"],
        metadata={
            "not_accounted": dg.MetadataValue.json(summary["not_accounted"]),
            "accounted_but_absent": dg.MetadataValue.json(summary["accounted_but_absent"]),
        },
    )
    yield dg.AssetCheckResult(
        check_name="rows_in_equal_loaded_plus_rejected",
        passed=summary["rows_in"] == summary["rows_loaded"] + summary["rows_rejected"],
        metadata={
            "rows_in": summary["rows_in"],
            "rows_loaded": summary["rows_loaded"],
            "rows_rejected": summary["rows_rejected"],
        },
    )


def raw_root_fingerprint(raw_dir: Path) -> str:
    """Cheap fingerprint of the raw root (paths, sizes, mtimes) for the sensor's cursor."""
    entries = []
    for family in framework.FAMILIES:
        for f in _list_files(raw_dir, family):
            # a link that is not read (outside the root, dangling) is not followed, not even to stat it
            stat = f.path.stat() if f.problem is None else f.path.lstat()
            entries.append(f"{f.rel}\t{stat.st_size}\t{stat.st_mtime_ns}")
    import hashlib

    return hashlib.sha256("\n".join(entries).encode("utf-8")).hexdigest()


def build_raw_root_sensor(job_name: str) -> dg.SensorDefinition:
    @dg.sensor(
        name="raw_root_changed",
        job_name=job_name,
        minimum_interval_seconds=60,
        description="原始目录有变化时请求运行 / requests a run when files under the raw root change",
        default_status=dg.DefaultSensorStatus.STOPPED,
    )
    def raw_root_changed(context: SensorEvaluationContext):
        fingerprint = raw_root_fingerprint(settings().raw_dir)
        if fingerprint == context.cursor:
            return dg.SkipReason("原始目录无变化 raw root unchanged")
        context.update_cursor(fingerprint)
        return dg.RunRequest(run_key=fingerprint)

    return raw_root_changed


ingest_assets: list[Callable] = [*family_assets, load_manifest]
