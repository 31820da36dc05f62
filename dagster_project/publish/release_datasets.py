"""Writing the files of one dataset part: CSV (UTF-8 with BOM) + Parquet, their Table Schema resources,
the code lists the foreign keys point at, and the Excel copies of the parts that fit a workbook.

``write_dataset`` masks (``masking.py``) and ``COPY``s one fiscal-year part (``parts.py``) to Parquet, then the
CSV from the Parquet file, so masking runs once per part; rows never pass through Python. What a release is
made of, carried or new, and its metadata are ``release.py`` / ``release_metadata.py``.
"""
from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dagster_project.row_inserts import insert_rows
from dagster_project.publish import parts
from dagster_project.publish.masking import MaskingPolicy, masked_select_probed, quote_ident
from dagster_project.publish.release_validation import ReleaseValidationError
from dagster_project.publish.safe_cells import neutralised_select
from dagster_project.publish.warehouse import describe, find_relation

BOM = b"\xef\xbb\xbf"


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
    content_fingerprint: str = ""         # content less content_ignores columns (release._content_of_parts)


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


def sql_path(path: Path) -> str:
    return path.as_posix().replace("'", "''")


def copy_csv_with_bom(con: duckdb.DuckDBPyConnection, select_sql: str, target: Path) -> None:
    """``COPY`` the rows to a CSV file that starts with a UTF-8 BOM; text cells a spreadsheet would run as a
    formula are neutralised on the way (``safe_cells``).

    The BOM is what makes Excel on a Chinese Windows read UTF-8 instead of GBK. DuckDB has no option for
    it, so the first column is named with the BOM in front: DuckDB writes a header name unquoted unless it
    holds the delimiter, the quote or a line break, so the file is byte for byte the BOM + the CSV DuckDB
    writes without it, and nothing is copied again. A first name that needs quoting (never in
    ``datasets.yaml``) would be quoted after the BOM: that file is written without a BOM and then copied
    behind one.
    """
    columns = describe(con, f"({select_sql})")
    first = columns[0][0] if columns else ""
    options = ("(FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"', "
               "TIMESTAMPFORMAT '%Y-%m-%dT%H:%M:%S', DATEFORMAT '%Y-%m-%d')")
    if first and not any(ch in first for ch in ',"\n\r'):
        safe_sql = neutralised_select(columns, f"({select_sql})", aliases={first: BOM.decode("utf-8") + first})
        con.execute(f"COPY ({safe_sql}) TO '{sql_path(target)}' {options}")
        return
    safe_sql = neutralised_select(columns, f"({select_sql})")
    raw = target.with_name(target.name + ".nobom")
    con.execute(f"COPY ({safe_sql}) TO '{sql_path(raw)}' {options}")
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
    lo, hi = con.execute(f"SELECT min({expr}), max({expr}) FROM read_parquet('{sql_path(parquet)}')").fetchone()
    return lo, hi


# the part a row belongs to, in the one masked file of several parts (``write_dataset_parts``)
_PART = "_gongkai_part"


def write_dataset(
    con: duckdb.DuckDBPyConnection, ds: dict, relation_sql: str, staging: Path, policy: MaskingPolicy,
    value_maps: dict, titles: dict[str, str], key: str = parts.ALL,
) -> tuple[PartOutput, dict, dict]:
    """Mask + COPY one part of a dataset (``key``: a fiscal year, ``unknown`` or ``all``, ``parts.py``);
    return its output record and its two datapackage resources."""
    return write_dataset_parts(con, ds, relation_sql, staging, policy, value_maps, titles, [key])[key]


def write_dataset_parts(
    con: duckdb.DuckDBPyConnection, ds: dict, relation_sql: str, staging: Path, policy: MaskingPolicy,
    value_maps: dict, titles: dict[str, str], keys: list[str],
) -> dict[str, tuple[PartOutput, dict, dict]]:
    """Mask + COPY the given parts of a dataset; per part its output record and its two datapackage resources.

    Rows are masked by one query whatever the number of parts: DuckDB plans the masking expressions (regular
    expressions and lambdas over every text column, ~150 kB of SQL) in ~1 s, more than it takes to run them on
    a year of most datasets; and only the columns whose values may need it get them (``masked_select_probed``).
    The parts are masked into one Parquet file (ordered by part, then key) and each part's Parquet file copied
    out of it."""
    available = dict(describe(con, relation_sql))
    missing = [c for c in ds["columns"] if c not in available]
    if missing:
        raise ReleaseValidationError(
            f"数据集 {ds['name']} 缺少列 dataset {ds['name']}: relation {relation_sql} lacks columns {missing}"
        )
    chosen = " OR ".join(f"({parts.part_filter(k)})" for k in keys)
    relation_sql = f"(SELECT * FROM {relation_sql} AS whole WHERE {chosen})"
    columns = [(c, available[c]) for c in ds["columns"] if c not in policy.dropped_columns]
    pk = list(ds.get("primary_key") or [])
    keyed_sql, incomplete_sql = _complete_key_filters(relation_sql, pk)
    yearly = keys != [parts.ALL]
    quarantined = {parts.part_key(year, yearly): n for year, n in con.execute(
        f"SELECT {quote_ident(parts.PART_COLUMN) if yearly else 'NULL'}, count(*) FROM {relation_sql} AS src "
        f"WHERE {incomplete_sql} GROUP BY ALL").fetchall()} if pk else {}
    # rows in the order of their key (every column when there is none): the same rows give the same bytes, however
    # the warehouse stores them (a hash join, a GROUP BY, an incremental model's appends)
    order = ", ".join(quote_ident(c) for c in (pk or [n for n, _ in columns]))
    stems = {k: parts.part_stem(ds["name"], k) for k in keys}
    for stem in stems.values():
        (staging / stem).parent.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    # Always through one masked file, even for one part: a part's Parquet bytes then do not depend on how many
    # parts were built with it (DuckDB's writer pages a sorted stream and a file read differently).
    masked = staging / f"{stems[keys[0]]}.masked.parquet"
    part_of = f"src.{quote_ident(parts.PART_COLUMN)}" if yearly else "CAST(NULL AS INTEGER)"
    select_sql = masked_select_probed(con, keyed_sql, columns, policy, value_maps, leading=(f"{part_of} AS {_PART}",))
    try:
        con.execute(f"COPY ({select_sql} ORDER BY {_PART}, {order}) TO '{sql_path(masked)}' "
                    "(FORMAT parquet, COMPRESSION lz4_raw)")
        for k in keys:  # read in file order: each part's rows stay in key order
            written[k] = con.execute(
                f"COPY (SELECT * EXCLUDE ({_PART}) FROM read_parquet('{sql_path(masked)}') "
                f"WHERE {parts.part_filter(k, _PART)}) TO '{sql_path(staging / stems[k])}.parquet' "
                "(FORMAT parquet, COMPRESSION zstd)").fetchone()[0]
    finally:
        masked.unlink(missing_ok=True)
    return {k: _part_files(con, ds, staging, stems[k], k, written[k], quarantined.get(k, 0), columns, pk, titles)
            for k in keys}


def _part_files(con: duckdb.DuckDBPyConnection, ds: dict, staging: Path, stem: str, key: str, rows: int,
                quarantined: int, columns: list[tuple[str, str]], pk: list[str], titles: dict[str, str],
                ) -> tuple[PartOutput, dict, dict]:
    """The CSV of a part's masked Parquet file, and the part's output record and resources."""
    parquet = staging / f"{stem}.parquet"
    csv = staging / f"{stem}.csv"
    copy_csv_with_bom(con, f"SELECT * FROM read_parquet('{sql_path(parquet)}')", csv)
    published_types = dict(describe(con, f"read_parquet('{sql_path(parquet)}')"))
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
                files = "[" + ", ".join(f"'{sql_path(p)}'" for p in parquets) + "]"
                for (value,) in con.execute(
                    f"SELECT DISTINCT {col} FROM read_parquet({files}) WHERE {col} IS NOT NULL"
                ).fetchall():
                    rows.setdefault(str(value), [None, None])
        con.execute("CREATE OR REPLACE TEMP TABLE _code_list (code VARCHAR, label_zh VARCHAR, label_en VARCHAR)")
        insert_rows(con, "_code_list", [[c, l[0], l[1]] for c, l in sorted(rows.items())])
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
    # DuckDB writes a sheet's rows while the previous one is zipped in a thread (zlib releases the GIL)
    with ThreadPoolExecutor(max_workers=1) as zipper:
        zipping = []
        for res in [r for r in resources if r.get("format") == "csv"]:
            csv_path = staging / res["path"]
            parquet = csv_path.with_suffix(".parquet")
            source = (f"read_parquet('{sql_path(parquet)}')" if parquet.exists() else
                      f"read_csv('{sql_path(csv_path)}', header = true, all_varchar = true)")
            rows = con.execute(f"SELECT count(*) FROM {source}").fetchone()[0]
            if rows > min(max_rows, excel.EXCEL_MAX_ROWS):
                skipped[res["path"]] = (f"{rows} 行，超过工作簿上限 {min(max_rows, excel.EXCEL_MAX_ROWS)} 行 rows, more than the "
                                        f"workbook limit of {min(max_rows, excel.EXCEL_MAX_ROWS)}: open the Parquet file, or "
                                        "import the CSV into Excel with its columns as text (docs/OPEN_DATA.md)")
                continue
            target = csv_path.with_suffix(".xlsx")
            zipping.append(zipper.submit(excel.write_sheet_rows(
                con, source, target, res["name"], parquet_file=parquet if parquet.exists() else None)))
            added.append({
                "name": f"{res['name']}_xlsx", "path": target.relative_to(staging).as_posix(), "type": "file",
                "scheme": "file", "format": "xlsx", "mediatype": excel.MEDIATYPE,
                "title": res.get("title", res["name"]),
                "description": f"Excel 工作簿：与 {csv_path.name} 同样的行，代码为文本（不丢位数），日期为日期。 "
                               f"Excel copy of {csv_path.name}: same rows, codes stored as text (every digit kept), "
                               "dates as dates.",
            })
        for done in zipping:
            done.result()  # a workbook that failed fails the release
    return added, skipped
