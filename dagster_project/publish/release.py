"""The open-data release: every dataset as CSV (UTF-8 with BOM) + Parquet, described and checksummed.

``build_release`` writes into a staging folder beside ``<out>/open-data``, validates it (Frictionless,
OCDS, privacy scan, SHA256SUMS: ``release_validation.py``) and only then renames it into place and flips
``LATEST`` (``atomic.py``). Rows never pass through Python: DuckDB masks (``masking.py``) and ``COPY``s each
dataset to Parquet, then the CSV is copied from the Parquet file, so masking runs once per dataset.

Release folder::

    data/<dataset>.csv, data/<dataset>.parquet   one pair per dataset in datasets.yaml
    code_lists/<name>.csv                        vocabularies the foreign keys point at
    ocds/…                                       the OCDS release and record packages (if built)
    datapackage.json  manifest.json  dcat.jsonld  SHA256SUMS
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import duckdb
import yaml

from dagster_project.paths import DBT_SEEDS_DIR, REPO_ROOT, carrying_disabled
from dagster_project.publish import atomic, parts
from dagster_project.publish.masking import MaskingPolicy, masked_select, quote_ident
from dagster_project.publish.ocds_config import package_files
from dagster_project.publish.ocds_validation import read_validation_record, validate_ocds_folder
from dagster_project.publish.release_validation import (
    ReleaseValidationError, sha256_file, validate_release, write_sha256sums,
)
from dagster_project.publish.safe_cells import neutralised_select
from dagster_project.publish.warehouse import describe, find_relation, open_read_only

SPEC_PATH = Path(__file__).with_name("datasets.yaml")
RULE_CATALOGUE_CSV = DBT_SEEDS_DIR / "ref_rule_catalogue.csv"
BOM = b"\xef\xbb\xbf"
# Stages at which a failure can be injected (tests and drills).
STAGES = ("after_data", "after_metadata", "after_validation", "before_pointer")


@dataclass
class PartOutput:
    """One fiscal-year part of a dataset (``parts.py``): written in this release or carried into it."""
    key: str
    rows: int
    files: dict[str, str]                 # csv / parquet (/ xlsx) -> path in the release
    year_from: int | None
    year_to: int | None
    fingerprint: str
    status: str = "new"                   # new | carried
    built_in: str = ""                    # the release that wrote (and validated) these bytes
    quarantined: int = 0
    reason: str | None = None             # why a part that could have been carried was rebuilt
    csv_bytes: int = 0
    parquet_bytes: int = 0


@dataclass
class DatasetOutput:
    name: str
    parts: dict[str, PartOutput] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(p.rows for p in self.parts.values())

    @property
    def quarantined(self) -> int:  # rows left out: their primary key is incomplete (kept in the warehouse)
        return sum(p.quarantined for p in self.parts.values())

    @property
    def csv_bytes(self) -> int:
        return sum(p.csv_bytes for p in self.parts.values())

    @property
    def parquet_bytes(self) -> int:
        return sum(p.parquet_bytes for p in self.parts.values())

    @property
    def year_from(self) -> int | None:
        return min((p.year_from for p in self.parts.values() if p.year_from is not None), default=None)

    @property
    def year_to(self) -> int | None:
        return max((p.year_to for p in self.parts.values() if p.year_to is not None), default=None)


@dataclass
class ReleaseResult:
    release_id: str
    path: Path
    datasets: dict[str, DatasetOutput] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    validation: dict[str, str] = field(default_factory=dict)
    total_bytes: int = 0
    seconds: float = 0.0
    pruned: list[str] = field(default_factory=list)

    def parts_with(self, status: str) -> list[str]:
        return [f"{n}/{k}" for n, d in self.datasets.items() for k, p in d.parts.items() if p.status == status]


def load_spec(path: Path = SPEC_PATH) -> dict:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def new_release_id(now: _dt.datetime | None = None) -> str:
    now = now or _dt.datetime.now(_dt.timezone.utc)
    return now.strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}Z"


def pipeline_version() -> dict[str, str | None]:
    try:
        version = metadata.version("gongkai")
    except metadata.PackageNotFoundError:
        version = None
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        ).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {"name": "gongkai", "version": version, "git_commit": commit}


# --------------------------------------------------------------------------------------------- writing

def _sql_path(path: Path) -> str:
    return path.as_posix().replace("'", "''")


def copy_csv_with_bom(con: duckdb.DuckDBPyConnection, select_sql: str, target: Path) -> None:
    """DuckDB writes CSV without a BOM (and has no option for it): write, then prefix while copying.

    The BOM is what makes Excel on a Chinese Windows read UTF-8 instead of GBK. Text cells a
    spreadsheet would run as a formula are neutralised on the way (``safe_cells``).
    """
    raw = target.with_name(target.name + ".nobom")
    safe_sql = neutralised_select(describe(con, f"({select_sql})"), f"({select_sql})")
    con.execute(
        f"COPY ({safe_sql}) TO '{_sql_path(raw)}' "
        "(FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"', "
        "TIMESTAMPFORMAT '%Y-%m-%dT%H:%M:%S', DATEFORMAT '%Y-%m-%d')"
    )
    with open(target, "wb") as out, open(raw, "rb") as src:
        out.write(BOM)
        shutil.copyfileobj(src, out, 16 << 20)
    raw.unlink()


def _frictionless_type(duckdb_type: str) -> str:
    t = duckdb_type.upper()
    if t.startswith(("DECIMAL", "NUMERIC", "DOUBLE", "FLOAT", "REAL")):
        return "number"
    if t in {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}:
        return "integer"
    if t == "BOOLEAN":
        return "boolean"
    if t == "DATE":
        return "date"
    if t.startswith("TIMESTAMP"):
        return "datetime"
    if t == "TIME":
        return "time"
    return "string"


def _field_descriptor(name: str, duckdb_type: str, titles: dict[str, str], required: bool) -> dict:
    fd: dict = {"name": name, "type": _frictionless_type(duckdb_type)}
    if name in titles:
        fd["title"] = titles[name]
    if required:
        fd["constraints"] = {"required": True}
    return fd


def _year_range(con: duckdb.DuckDBPyConnection, parquet: Path, column: str | None, types: dict[str, str]):
    if not column or column not in types:
        return None, None
    col = quote_ident(column)
    expr = f"year({col})" if types[column].upper().startswith(("TIMESTAMP", "DATE")) else f"CAST({col} AS INTEGER)"
    lo, hi = con.execute(f"SELECT min({expr}), max({expr}) FROM read_parquet('{_sql_path(parquet)}')").fetchone()
    return lo, hi


def write_dataset(
    con: duckdb.DuckDBPyConnection, ds: dict, relation_sql: str, staging: Path, policy: MaskingPolicy,
    value_maps: dict, titles: dict[str, str], key: str = parts.ALL,
) -> tuple[PartOutput, dict, dict]:
    """Mask + COPY one part of a dataset (``key``: a fiscal year, ``unknown`` or ``all``, ``parts.py``);
    return its output record and its two datapackage resources."""
    available = dict(describe(con, relation_sql))
    missing = [c for c in ds["columns"] if c not in available]
    if missing:
        raise ReleaseValidationError(
            f"数据集 {ds['name']} 缺少列 dataset {ds['name']}: relation {relation_sql} lacks columns {missing}"
        )
    relation_sql = f"(SELECT * FROM {relation_sql} AS whole WHERE {parts.part_filter(key)})"
    columns = [(c, available[c]) for c in ds["columns"] if c not in policy.dropped_columns]
    pk = list(ds.get("primary_key") or [])
    keyed_sql, incomplete_sql = _complete_key_filters(relation_sql, pk)
    quarantined = con.execute(f"SELECT count(*) FROM {relation_sql} AS src WHERE {incomplete_sql}").fetchone()[0] \
        if pk else 0
    select_sql = masked_select(keyed_sql, columns, policy, value_maps)
    stem = parts.part_stem(ds["name"], key)
    (staging / stem).parent.mkdir(parents=True, exist_ok=True)
    parquet = staging / f"{stem}.parquet"
    csv = staging / f"{stem}.csv"
    rows = con.execute(f"COPY ({select_sql}) TO '{_sql_path(parquet)}' (FORMAT parquet, COMPRESSION zstd)").fetchone()[0]
    copy_csv_with_bom(con, f"SELECT * FROM read_parquet('{_sql_path(parquet)}')", csv)
    published_types = dict(describe(con, f"read_parquet('{_sql_path(parquet)}')"))
    year_from, year_to = _year_range(con, parquet, ds.get("year_column"), published_types)
    schema: dict = {
        "fields": [_field_descriptor(n, published_types[n], titles, n in pk) for n, _ in columns],
        "missingValues": [""],
    }
    if pk:
        schema["primaryKey"] = pk
    fks = [
        {"fields": fk["fields"], "reference": {"resource": fk["resource"], "fields": fk["reference_fields"]}}
        for fk in ds.get("foreign_keys") or []
    ]
    if fks:
        schema["foreignKeys"] = fks
    description = f"{ds['description_zh']}\n\n{ds['description_en']}"
    if ds.get("fiscal_data_package"):
        description += (
            "\n\n财政数据包词汇 Fiscal Data Package vocabulary: phase ∈ proposed/approved/adjusted/executed, "
            "direction ∈ revenue/expenditure."
        )
    part_title = {parts.ALL: "", parts.UNKNOWN: " （年度未知 year unknown）"}.get(key, f" {key}年度 fiscal year {key}")
    common = {"title": f"{ds['title_zh']} {ds['title_en']}{part_title}", "description": description}
    if year_from is not None:
        common["temporal"] = {"start": f"{year_from}-01-01", "end": f"{year_to}-12-31"}
    name = parts.resource_name(ds["name"], key)
    csv_resource = {
        "name": name, "path": f"{stem}.csv", "type": "table", "scheme": "file",
        "format": "csv", "mediatype": "text/csv", "encoding": "utf-8-sig",
        "dialect": {"csv": {"delimiter": ",", "quoteChar": '"'}},
        **common, "schema": schema,
    }
    if ds.get("fiscal_data_package"):
        # Fiscal Data Package (OpenSpending) column roles, as a custom property Frictionless ignores.
        csv_resource["fiscalDataPackage"] = {
            "phase": "phase", "direction": "direction", "amount": "amount_yuan", "currency": "CNY",
            "fiscalPeriod": "fiscal_year", "functionalClassification": "code" if "code" in ds["columns"] else None,
        }
    parquet_resource = {
        "name": f"{name}_parquet", "path": f"{stem}.parquet", "type": "file", "scheme": "file",
        "format": "parquet", "mediatype": "application/vnd.apache.parquet",
        **common, "description": description + f"\n\nParquet copy of {csv.name} (same rows, typed).",
    }
    out = PartOutput(key, rows, {"csv": csv_resource["path"], "parquet": parquet_resource["path"]},
                     year_from, year_to, fingerprint="", quarantined=quarantined,
                     csv_bytes=csv.stat().st_size, parquet_bytes=parquet.stat().st_size)
    return out, csv_resource, parquet_resource


def with_fiscal_year(con: duckdb.DuckDBPyConnection, ds: dict, relation_sql: str) -> str:
    """The dataset's relation with ``fiscal_year``: its own column, or (``fiscal_year_from``) the year of
    the row it belongs to in another mart (a bulletin's year is its deal's, CONTRACTS §3)."""
    source = ds.get("fiscal_year_from")
    if not source:
        return relation_sql
    other = find_relation(con, source["relation"])
    k = quote_ident(source["key"])
    if other is None:
        return f"(SELECT src.*, CAST(NULL AS INTEGER) AS fiscal_year FROM {relation_sql} AS src)"
    return (f"(SELECT src.*, y.fiscal_year FROM {relation_sql} AS src LEFT JOIN "
            f"(SELECT {k}, CAST(max(fiscal_year) AS INTEGER) AS fiscal_year FROM {other} GROUP BY {k}) AS y USING ({k}))")


def _complete_key_filters(relation_sql: str, pk: list[str]) -> tuple[str, str]:
    """(relation of the rows whose primary key is complete, condition of the others).

    A row whose key has a NULL or blank part cannot stand in a Table Schema with that primary key
    (Frictionless: "required"); it is left out of the files, counted in the manifest, and kept in the
    warehouse. The marts give every key a value (unregistered publishers a derived key), so this is
    the last guard, not the rule.
    """
    if not pk:
        return relation_sql, "false"
    incomplete = " OR ".join(f"{quote_ident(c)} IS NULL OR trim(CAST({quote_ident(c)} AS VARCHAR)) = ''" for c in pk)
    return f"(SELECT * FROM {relation_sql} AS src WHERE NOT ({incomplete}))", incomplete


def write_code_lists(con: duckdb.DuckDBPyConnection, spec: dict, staging: Path, datasets: list[dict]) -> list[dict]:
    """Each code list = its vocabulary + any value a dataset holds (published without a label)."""
    folder = staging / "code_lists"
    folder.mkdir(exist_ok=True)
    resources = []
    for name, cl in (spec.get("code_lists") or {}).items():
        rows = {code: labels for code, labels in (cl.get("codes") or {}).items()}
        for ds in datasets:
            for fk in ds.get("foreign_keys") or []:
                if fk["resource"] != name:
                    continue
                parquets = sorted((staging / "data" / ds["name"]).glob("*.parquet"))
                if not parquets:
                    continue
                col = quote_ident(fk["fields"][0])
                files = "[" + ", ".join(f"'{_sql_path(p)}'" for p in parquets) + "]"
                for (value,) in con.execute(
                    f"SELECT DISTINCT {col} FROM read_parquet({files}) WHERE {col} IS NOT NULL"
                ).fetchall():
                    rows.setdefault(str(value), [None, None])
        con.execute("CREATE OR REPLACE TEMP TABLE _code_list (code VARCHAR, label_zh VARCHAR, label_en VARCHAR)")
        con.executemany("INSERT INTO _code_list VALUES (?, ?, ?)", [[c, l[0], l[1]] for c, l in sorted(rows.items())])
        copy_csv_with_bom(con, "SELECT * FROM _code_list ORDER BY code", folder / f"{name}.csv")
        resources.append({
            "name": name, "path": f"code_lists/{name}.csv", "type": "table", "scheme": "file", "format": "csv",
            "mediatype": "text/csv", "encoding": "utf-8-sig", "title": f"{cl['title_zh']} {cl['title_en']}",
            "schema": {"fields": [
                {"name": "code", "type": "string", "title": "代码 Code", "constraints": {"required": True}},
                {"name": "label_zh", "type": "string", "title": "中文名称 Label (Chinese)"},
                {"name": "label_en", "type": "string", "title": "英文名称 Label (English)"},
            ], "primaryKey": ["code"], "missingValues": [""]},
        })
    return resources


def write_excel_copies(con: duckdb.DuckDBPyConnection, staging: Path, resources: list[dict],
                       max_rows: int) -> tuple[list[dict], dict[str, str]]:
    """An ``.xlsx`` beside every CSV resource that fits (``excel.py``): codes kept as text, dates as dates.

    Datasets are read from their Parquet copy (typed), code lists from their CSV (text). Returns the new
    file resources and, per CSV without a workbook, why.
    """
    from dagster_project.publish import excel

    added, skipped = [], {}
    for res in [r for r in resources if r.get("format") == "csv"]:
        csv_path = staging / res["path"]
        parquet = csv_path.with_suffix(".parquet")
        source = (f"read_parquet('{_sql_path(parquet)}')" if parquet.exists() else
                  f"read_csv('{_sql_path(csv_path)}', header = true, all_varchar = true)")
        rows = con.execute(f"SELECT count(*) FROM {source}").fetchone()[0]
        if rows > min(max_rows, excel.EXCEL_MAX_ROWS):
            skipped[res["path"]] = (f"{rows} 行，超过工作簿上限 {min(max_rows, excel.EXCEL_MAX_ROWS)} 行 rows, more than the "
                                    f"workbook limit of {min(max_rows, excel.EXCEL_MAX_ROWS)}: open the Parquet file, or "
                                    "import the CSV into Excel with its columns as text (docs/OPEN_DATA.md)")
            continue
        target = csv_path.with_suffix(".xlsx")
        excel.write_xlsx(con, source, target, res["name"])
        added.append({
            "name": f"{res['name']}_xlsx", "path": target.relative_to(staging).as_posix(), "type": "file",
            "scheme": "file", "format": "xlsx", "mediatype": excel.MEDIATYPE,
            "title": res.get("title", res["name"]),
            "description": f"Excel 工作簿：与 {csv_path.name} 同样的行，代码为文本（不丢位数），日期为日期。 "
                           f"Excel copy of {csv_path.name}: same rows, codes stored as text (every digit kept), "
                           "dates as dates.",
        })
    return added, skipped


def source_files(con: duckdb.DuckDBPyConnection) -> list[dict]:
    rel = find_relation(con, "load_files", schema="raw")
    if rel is None:
        return []
    rows = con.execute(
        f"SELECT source_file, family, source_sha256, bytes, status, CAST(loaded_at AS VARCHAR) "
        f"FROM {rel} WHERE is_current ORDER BY source_file"
    ).fetchall()
    keys = ("source_file", "family", "sha256", "bytes", "status", "loaded_at")
    return [dict(zip(keys, r)) for r in rows]


def _add_hash_and_bytes(staging: Path, resources: list[dict], known: dict[str, str] | None = None) -> dict[str, str]:
    """Hash and size of every resource; returns the sha256 by relative path for SHA256SUMS.
    ``known``: digests already verified in this build (carried parts), not read again."""
    hashes = {}
    for res in resources:
        path = staging / res["path"]
        if known and res["path"] in known:
            hashes[res["path"]] = known[res["path"]]
            res["hash"] = "sha256:" + known[res["path"]]
            res["bytes"] = path.stat().st_size
            continue
        hashes[res["path"]] = sha256_file(path)
        res["hash"] = "sha256:" + hashes[res["path"]]
        res["bytes"] = path.stat().st_size
    return hashes


def _dcat(spec: dict, release_id: str, issued: str, modified: str, resources: list[dict], years) -> dict:
    rel = spec["release"]
    doc = {
        "@context": {"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/",
                     "foaf": "http://xmlns.com/foaf/0.1/", "spdx": "http://spdx.org/rdf/terms#"},
        "@type": "dcat:Dataset",
        "@id": f"{rel['name']}/{release_id}",
        "dct:identifier": f"{rel['name']}/{release_id}",
        "dct:title": [{"@language": "zh", "@value": rel["title_zh"]}, {"@language": "en", "@value": rel["title_en"]}],
        "dct:description": [{"@language": "zh", "@value": rel["description_zh"]},
                            {"@language": "en", "@value": rel["description_en"]}],
        "dct:issued": issued,
        "dct:modified": modified,
        "dct:publisher": {"@type": "foaf:Agent", "foaf:name": rel["publisher"]["name"],
                          "foaf:homepage": rel["publisher"].get("url")},
        "dct:license": rel["licence"]["path"],
        "dct:language": rel.get("language", []),
        "dcat:keyword": rel.get("keywords", []),
        "dcat:distribution": [
            {"@type": "dcat:Distribution", "dct:title": r.get("title", r["name"]), "dcat:downloadURL": r["path"],
             "dcat:mediaType": r.get("mediatype"), "dcat:byteSize": r["bytes"], "dct:license": rel["licence"]["path"],
             "spdx:checksum": {"spdx:algorithm": "spdx:checksumAlgorithm_sha256",
                               "spdx:checksumValue": r["hash"].split(":", 1)[1]}}
            for r in resources
        ],
    }
    if years[0] is not None:
        doc["dct:temporal"] = {"@type": "dct:PeriodOfTime", "dcat:startDate": f"{years[0]}-01-01",
                               "dcat:endDate": f"{years[1]}-12-31"}
    return doc


# --------------------------------------------------------------------------------------------- release

def _pause_or_fail(stage: str, fail_at: str | None, pause_file: Path | None, pause_at: str | None) -> None:
    if pause_at == stage and pause_file is not None:
        pause_file.write_text(stage, encoding="utf-8")  # tells a watching test where we are
        time.sleep(3600)
    if fail_at == stage:
        raise atomic.InjectedFailure(f"injected failure at {stage}")


def build_release(
    warehouse: Path,
    out_dir: Path,
    *,
    run_id: str | None = None,
    release_id: str | None = None,
    ocds_dir: Path | None = None,
    spec: dict | None = None,
    fail_at: str | None = None,
    pause_at: str | None = None,
    pause_file: Path | None = None,
    ocds_schema_dir: str | Path | None = None,
    fiscal_years: set[int] | None = None,
    keep: int | None = None,
) -> ReleaseResult:
    """Build, validate and atomically publish a release under ``<out_dir>/open-data``.

    Datasets are published by fiscal year (``parts.py``). ``fiscal_years``: None = every year, each part
    rebuilt only when its fingerprint changed (else carried from the previous release); a set = those
    years' parts decided the same way, every other year's part carried from the previous release as it is
    (``unknown`` and ``all`` parts are decided by fingerprint in both cases). ``keep``: releases kept after
    publication (default ``parts.keep_releases``); older ones are pruned.
    ``ocds_dir``: a folder of validated OCDS packages to include (hard-linked when possible).
    ``fail_at`` / ``pause_at``: one of ``STAGES``, to prove a failure or kill there changes nothing.
    ``ocds_schema_dir``: the OCDS schema folder setting (see ``ocds_validation.schema_dir``).
    """
    started = time.monotonic()
    spec = spec or load_spec()
    root = out_dir / "open-data"
    root.mkdir(parents=True, exist_ok=True)
    atomic.remove_stale_staging(root)
    release_id = release_id or new_release_id()
    staging = atomic.new_staging_dir(root, release_id)
    result = ReleaseResult(release_id=release_id, path=root / release_id)
    try:
        policy = MaskingPolicy.from_spec(spec.get("masking") or {})
        titles = spec.get("field_titles") or {}
        value_maps = spec.get("value_maps") or {}
        resources: list[dict] = []
        new_resources: list[dict] = []  # written in this release: validated, scanned, given workbooks
        written: list[dict] = []
        carried: dict[str, str] = {}  # files of carried parts -> verified digest
        xlsx_skipped: dict[str, str] = {}
        previous = parts.PreviousRelease.read(root, atomic.read_pointer(root))
        code_fp = parts.code_fingerprint()
        spec_fp = parts.spec_digest(spec)  # the spec as given (a caller may pass one that is not the file)
        con = open_read_only(warehouse)
        try:
            for ds in spec["datasets"]:
                if "sql" in ds:
                    findings_rel = find_relation(con, "findings", schema="quality")
                    if findings_rel is None:
                        result.skipped.append(ds["name"])
                        continue
                    runs_rel = find_relation(con, "runs", schema="quality")
                    # the latest run by its start time when the run log exists (run ids are not ordered)
                    latest_run_sql = (f"SELECT run_id FROM {runs_rel} ORDER BY started_at DESC LIMIT 1" if runs_rel
                                      else f"SELECT max(run_id) FROM {findings_rel}")
                    relation_sql = "(" + ds["sql"].format(
                        quality_findings=findings_rel, rule_catalogue_csv=_sql_path(RULE_CATALOGUE_CSV),
                        latest_run_sql=latest_run_sql,
                    ) + ")"
                else:
                    relation_sql = find_relation(con, ds["relation"])
                    if relation_sql is None:
                        if ds.get("optional"):
                            result.skipped.append(ds["name"])
                            continue
                        raise ReleaseValidationError(f"找不到数据表 mart {ds['relation']} not found in {warehouse}")
                relation_sql = with_fiscal_year(con, ds, relation_sql)
                out = DatasetOutput(ds["name"])
                result.datasets[ds["name"]] = out
                for res, is_new in _publish_parts(con, ds, relation_sql, staging, policy, value_maps, titles, out,
                                                  previous, fiscal_years, code_fp, carried, xlsx_skipped,
                                                  release_id, spec_fp):
                    resources.append(res)
                    if is_new:
                        new_resources.append(res)
                written.append(ds)
            code_lists = write_code_lists(con, spec, staging, written)
            resources += code_lists
            xlsx_resources, new_skipped = write_excel_copies(
                con, staging, new_resources + code_lists, int(spec["release"].get("xlsx_max_rows", 200_000)))
            xlsx_skipped.update(new_skipped)
            resources += xlsx_resources
            for d in result.datasets.values():  # the workbooks just written belong to their parts
                for part in d.parts.values():
                    xlsx = part.files["csv"][:-4] + ".xlsx"
                    if part.status == "new" and part.files["csv"] not in xlsx_skipped:
                        part.files["xlsx"] = xlsx
            sources = source_files(con)
        finally:
            con.close()
        _pause_or_fail("after_data", fail_at, pause_file, pause_at)

        if ocds_dir is not None and ocds_dir.exists():
            target = staging / "ocds"
            target.mkdir()
            for path in package_files(ocds_dir):
                if path.is_file():
                    try:
                        os.link(path, target / path.name)
                    except OSError:
                        shutil.copy2(path, target / path.name)
                    gzipped = path.name.endswith(".gz")
                    resources.append({
                        "name": "ocds_" + path.name.split(".")[0].replace("-", "_"), "path": f"ocds/{path.name}",
                        "type": "file", "scheme": "file", "format": "json",
                        "mediatype": "application/gzip" if gzipped else "application/json",
                        **({"compression": "gz"} if gzipped else {}),
                        "title": "OCDS 1.1.5 开放合同数据 Open Contracting Data Standard package",
                    })

        ocds_quarantine = (read_validation_record(ocds_dir) or {}).get("quarantined") \
            if ocds_dir is not None and (staging / "ocds").exists() else None
        hashes = _add_hash_and_bytes(staging, resources, carried)
        now = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        years = [y for d in result.datasets.values() for y in (d.year_from, d.year_to) if y is not None]
        coverage = (min(years), max(years)) if years else (None, None)
        issued = (previous.manifest.get("issued") if previous else None) or now
        rel = spec["release"]
        package = {
            "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
            "name": rel["name"], "id": f"{rel['name']}/{release_id}", "version": release_id,
            "title": f"{rel['title_zh']} {rel['title_en']}",
            "description": f"{rel['description_zh']}\n\n{rel['description_en']}",
            "licenses": [rel["licence"]], "sources": rel.get("sources", []), "keywords": rel.get("keywords", []),
            "contributors": [{"title": rel["publisher"]["name"], "path": rel["publisher"].get("url"), "roles": ["publisher"]}],
            "created": now, "temporal": {"start": f"{coverage[0]}-01-01", "end": f"{coverage[1]}-12-31"} if years else None,
            "resources": resources,
        }
        package = {k: v for k, v in package.items() if v is not None}
        (staging / "datapackage.json").write_text(json.dumps(package, ensure_ascii=False, indent=2), encoding="utf-8")
        manifest = {
            "release_id": release_id, "run_id": run_id, "issued": issued, "modified": now,
            "pipeline": pipeline_version(),
            "coverage_years": {"from": coverage[0], "to": coverage[1]},
            # publication by fiscal year (parts.py): which parts this release wrote and which it carried
            "fiscal_years_requested": sorted(fiscal_years) if fiscal_years is not None else None,
            "previous_release": previous.release_id if previous else None,
            "parts": {"new": result.parts_with("new"), "carried": result.parts_with("carried")},
            "datasets": {
                name: {"rows": d.rows, "coverage_years": {"from": d.year_from, "to": d.year_to},
                       "parts": {k: _part_record(p) for k, p in sorted(d.parts.items())}}
                for name, d in result.datasets.items()
            },
            "skipped_datasets": result.skipped,
            "xlsx_not_written": xlsx_skipped,
            # rows kept in the warehouse but left out of a dataset or package they would break
            "quarantined": {
                **{name: {"rows": d.quarantined, "reason": "主键不完整 primary key incomplete"}
                   for name, d in result.datasets.items() if d.quarantined},
                **({"ocds": ocds_quarantine} if ocds_quarantine else {}),
            },
            "ocds": sorted(p.name for p in (staging / "ocds").iterdir()) if (staging / "ocds").exists() else [],
            # the OCDS build's fiscal-year parts: new in that build or carried into it (ocds.build_ocds)
            "ocds_parts": {k: {"status": v.get("status"), "built_in": v.get("built_in"), "files": v.get("files")}
                           for k, v in ((read_validation_record(ocds_dir) or {}).get("parts") or {}).items()}
            if ocds_dir is not None and (staging / "ocds").exists() else {},
            "source_files": sources,
            "masking": "PM_CODE 前6后4 first 6 + last 4; 文本中身份证号/银行卡号 前6后4, 手机号 前3后4 "
                       "ID/card numbers in text first 6 + last 4, mobiles first 3 + last 4",
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2, default=str),
                                               encoding="utf-8")
        (staging / "dcat.jsonld").write_text(
            json.dumps(_dcat(spec, release_id, issued, now, resources, coverage), ensure_ascii=False, indent=2),
            encoding="utf-8")
        write_sha256sums(staging, hashes)
        _pause_or_fail("after_metadata", fail_at, pause_file, pause_at)

        total_rows = max((p.rows for d in result.datasets.values() for p in d.parts.values() if p.status == "new"),
                         default=0)
        result.validation = validate_release(staging, total_rows,
                                             lambda folder: validate_ocds_folder(folder, ocds_schema_dir),
                                             policy.identifier_columns,
                                             read_validation_record(ocds_dir) if ocds_dir else None,
                                             carried)
        _pause_or_fail("after_validation", fail_at, pause_file, pause_at)
        result.total_bytes = sum(p.stat().st_size for p in staging.rglob("*") if p.is_file())

        atomic.promote(staging, root, release_id, before_pointer=lambda: _pause_or_fail(
            "before_pointer", fail_at, pause_file, pause_at))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    result.pruned = parts.prune_releases(root, keep or parts.keep_releases(spec["release"].get("keep_releases")))
    result.seconds = round(time.monotonic() - started, 2)
    return result


def _part_record(p: PartOutput) -> dict:
    record = {"status": p.status, "built_in": p.built_in, "rows": p.rows, "fingerprint": p.fingerprint,
              "coverage_years": {"from": p.year_from, "to": p.year_to}, "files": p.files}
    if p.quarantined:
        record["quarantined"] = p.quarantined
    if p.reason:
        record["rebuilt_because"] = p.reason
    return record


def _publish_parts(con, ds: dict, relation_sql: str, staging: Path, policy: MaskingPolicy, value_maps: dict,
                   titles: dict, out: DatasetOutput, previous: "parts.PreviousRelease | None",
                   fiscal_years: set[int] | None, code_fp: str, carried: dict[str, str],
                   xlsx_skipped: dict[str, str], release_id: str, spec_fp: str = ""):
    """Write or carry every part of one dataset; yields (resource, written in this release)."""
    yearly = parts.PART_COLUMN in dict(describe(con, relation_sql))
    columns = [c for c in ds["columns"] if c in dict(describe(con, relation_sql))]
    fingerprints = parts.part_fingerprints(con, relation_sql, columns, yearly,
                                           salt=f"{code_fp}\n{spec_fp}\n{parts.spec_digest(ds)}")
    if not fingerprints:  # an empty dataset is still published: one part, its header only
        fingerprints = {parts.ALL: parts.spec_digest({"empty": ds["name"], "salt": code_fp})}
    requested = None if fiscal_years is None else {str(int(y)) for y in fiscal_years}
    keys = set(fingerprints)
    if previous is not None and requested is not None:  # years left alone keep their part, even if gone
        keys |= {k for k in ((previous.manifest.get("datasets") or {}).get(ds["name"]) or {}).get("parts", {})
                 if k not in requested and k not in (parts.ALL, parts.UNKNOWN)}
    for key in sorted(keys):
        fingerprint = fingerprints.get(key, "")
        before = previous.part(ds["name"], key) if previous and not carrying_disabled() else None
        reason = None
        in_scope = requested is None or key in requested or key in (parts.ALL, parts.UNKNOWN)
        if before and (not in_scope or before.get("fingerprint") == fingerprint):
            files = list(before["files"].values())
            reason = previous.verify(files)
            if reason is None:
                for rel in files:
                    parts.link_or_copy(previous.folder / rel, staging / rel)
                    carried[rel] = previous.checked[rel]
                cov = before.get("coverage_years") or {}
                out.parts[key] = PartOutput(
                    key, before["rows"], dict(before["files"]), cov.get("from"), cov.get("to"),
                    before.get("fingerprint", ""), "carried", before.get("built_in") or previous.release_id,
                    before.get("quarantined", 0),
                    csv_bytes=(staging / before["files"]["csv"]).stat().st_size,
                    parquet_bytes=(staging / before["files"]["parquet"]).stat().st_size)
                skipped = (previous.manifest.get("xlsx_not_written") or {}).get(before["files"]["csv"])
                if skipped:
                    xlsx_skipped[before["files"]["csv"]] = skipped
                for rel in files:
                    if rel in previous.resources:
                        yield dict(previous.resources[rel]), False
                continue
        if key not in fingerprints:
            continue  # a year outside the request whose carried copy failed its checksum: nothing to rebuild from
        part, csv_res, pq_res = write_dataset(con, ds, relation_sql, staging, policy, value_maps, titles, key)
        part.fingerprint, part.built_in, part.reason = fingerprint, release_id, reason
        out.parts[key] = part
        yield csv_res, True
        yield pq_res, True
