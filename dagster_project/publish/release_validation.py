"""Checking a release before it is published: its SHA256SUMS, and every check publication depends on.

``validate_release`` verifies every file against SHA256SUMS, validates the data package (Frictionless),
checks every CSV row against its Table Schema and every primary key in DuckDB, validates the OCDS
packages (or carries that over from the OCDS build by checksum) and runs the privacy scan; it raises
``ReleaseValidationError`` naming what failed.

Apart from ``release.py``, which writes the release: these checks read only the files written, never
the warehouse, so they judge what the public downloads; and the checksums they rest on
(``sha256_file``, SHA256SUMS) are also what carrying unchanged parts is checked by (``parts.py``,
``ocds.py``).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable

import duckdb

from dagster_project.publish.masking import quote_ident
from dagster_project.publish.privacy_scan import scan_tree
from dagster_project.publish.warehouse import open_scratch

# Frictionless parses rows in Python (measured ~5 k rows/s per resource with our schemas, 2 cores):
# above this many rows in the largest dataset it checks the first rows of each resource only. The
# whole data is still covered by DuckDB over every row: each CSV parses with its Table Schema types
# and header, required fields are present (``check_table_schemas``), primary keys are unique and
# non-null (``check_keys``); hashes and bytes of every file through SHA256SUMS.
FRICTIONLESS_FULL_ROWS = 20_000
# Table Schema type -> DuckDB type a CSV cell must parse as.
_TABLE_SCHEMA_DUCKDB_TYPES = {"string": "VARCHAR", "number": "DOUBLE", "integer": "BIGINT", "boolean": "BOOLEAN",
                              "date": "DATE", "datetime": "TIMESTAMP", "time": "TIME"}


class ReleaseValidationError(RuntimeError):
    pass


def _sql_path(path: Path) -> str:
    return path.as_posix().replace("'", "''")


# ------------------------------------------------------------------------------------------- checksums

def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_sha256sums(staging: Path, known: dict[str, str] | None = None) -> int:
    """``known``: sha256 by relative path already computed in this build (not read twice)."""
    known = known or {}
    lines = []
    for path in sorted(p for p in staging.rglob("*") if p.is_file() and p.name != "SHA256SUMS"):
        rel = path.relative_to(staging).as_posix()
        lines.append(f"{known.get(rel) or sha256_file(path)}  {rel}\n")
    (staging / "SHA256SUMS").write_text("".join(lines), encoding="utf-8")
    return len(lines)


def verify_sha256sums(folder: Path, checked: dict[str, str] | None = None) -> list[str]:
    """Problems found re-reading every file against SHA256SUMS (empty list = verified).

    ``checked``: digests of files this build already read (carried parts, hashed before they were linked):
    compared, not read again."""
    checked = checked or {}
    problems = []
    listed = set()
    for line in (folder / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, rel = line.split("  ", 1)
        listed.add(rel)
        path = folder / rel
        if not path.exists():
            problems.append(f"missing {rel}")
        elif (checked.get(rel) or sha256_file(path)) != digest:
            problems.append(f"checksum mismatch {rel}")
    for path in folder.rglob("*"):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and rel != "SHA256SUMS" and rel not in listed:
            problems.append(f"not listed {rel}")
    return problems


# ------------------------------------------------------------------------------------------ validation

def check_keys(folder: Path, skip: frozenset[str] = frozenset()) -> list[str]:
    """Primary keys of every tabular resource, unique and non-null over all rows (DuckDB, any size).
    ``skip``: paths of carried parts (checked when they were built, the same bytes by checksum)."""
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    problems = []
    con = open_scratch()
    try:
        for res in package["resources"]:
            pk = (res.get("schema") or {}).get("primaryKey")
            if not pk:
                continue
            if res["path"] in skip:
                continue
            parquet = (folder / res["path"]).with_suffix(".parquet")
            source = (f"read_parquet('{_sql_path(parquet)}')" if parquet.exists() else
                      f"read_csv('{_sql_path(folder / res['path'])}', header = true, all_varchar = true)")
            cols = ", ".join(quote_ident(c) for c in pk)
            nulls = " OR ".join(f"{quote_ident(c)} IS NULL" for c in pk)
            dupes, missing = con.execute(
                f"SELECT (SELECT count(*) FROM (SELECT {cols} FROM {source} GROUP BY ALL HAVING count(*) > 1)), "
                f"(SELECT count(*) FROM {source} WHERE {nulls})"
            ).fetchone()
            if dupes or missing:
                problems.append(f"{res['name']}: primary key {pk}: {dupes} duplicated values, {missing} rows with nulls")
    finally:
        con.close()
    return problems


def check_table_schemas(folder: Path, skip: frozenset[str] = frozenset()) -> list[str]:
    """Every row of every CSV resource against its Table Schema, in DuckDB: header = field names in
    order, every cell parses as its field's type (a cell that does not makes the read fail), required
    fields present."""
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    problems = []
    con = open_scratch()
    try:
        for res in package["resources"]:
            fields = (res.get("schema") or {}).get("fields")
            if res.get("format") != "csv" or not fields or res["path"] in skip:
                continue
            path = _sql_path(folder / res["path"])
            header = [c[0].lstrip("\ufeff") for c in con.execute(
                f"DESCRIBE SELECT * FROM read_csv('{path}', header = true, all_varchar = true)").fetchall()]
            names = [f["name"] for f in fields]
            if header != names:
                problems.append(f"{res['name']}: header {header} is not the schema's fields {names}")
                continue
            columns = "{" + ", ".join(
                f"'{n.replace(chr(39), chr(39) * 2)}': '{_TABLE_SCHEMA_DUCKDB_TYPES.get(f.get('type'), 'VARCHAR')}'"
                for n, f in zip(names, fields)) + "}"
            required = [f["name"] for f in fields if (f.get("constraints") or {}).get("required")]
            missing = " + ".join(f"count(*) FILTER (WHERE {quote_ident(n)} IS NULL)" for n in required) or "0"
            # every column referenced, or DuckDB would not convert (and so not check) it
            every = ", ".join(f"count({quote_ident(n)})" for n in names)
            try:
                n_missing = con.execute(
                    f"SELECT {missing}, {every} FROM read_csv('{path}', header = true, columns = {columns}, "
                    "auto_detect = false, timestampformat = '%Y-%m-%dT%H:%M:%S', dateformat = '%Y-%m-%d')"
                ).fetchone()[0]
            except duckdb.Error as exc:
                problems.append(f"{res['name']}: a value does not parse as its Table Schema type: {str(exc)[:300]}")
                continue
            if n_missing:
                problems.append(f"{res['name']}: {n_missing} required values missing")
    finally:
        con.close()
    return problems


def listed_sha256(folder: Path) -> dict[str, str]:
    out = {}
    for line in (folder / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, rel = line.split("  ", 1)
        out[rel] = digest
    return out


def ocds_carried_over(folder: Path, ocds_record: dict | None) -> list[str]:
    """OCDS files of the release that are byte for byte (by the verified SHA256SUMS) the files the OCDS
    build validated and privacy-scanned: their checks are carried over instead of run again."""
    if not ocds_record:
        return []
    listed = listed_sha256(folder)
    validated = ocds_record.get("files") or {}
    rels = [p.relative_to(folder).as_posix() for p in sorted((folder / "ocds").glob("*"))] \
        if (folder / "ocds").exists() else []
    if not rels or any(listed.get(rel) != (validated.get(rel.split("/", 1)[1]) or {}).get("sha256") for rel in rels):
        return []
    return rels


def validate_release(folder: Path, total_rows: int, ocds_validator: Callable[[Path], list[str]] | None,
                     identifier_columns: frozenset[str] = frozenset(), ocds_record: dict | None = None,
                     carried: dict[str, str] | None = None) -> dict[str, str]:
    """Every check publication depends on; raises ReleaseValidationError naming what failed.

    ``ocds_record``: what the OCDS build validated and scanned (``ocds_validation.read_validation_record``); when
    every OCDS file of the release matches it by checksum, schema validation and privacy scan of those
    files are not repeated (at 10 M bulletins they are tens of GB).
    ``carried``: the files of parts carried from the previous release (``parts.py``), by their digest,
    verified when linked: Frictionless, Table Schema, key and privacy checks skip them.
    """
    from frictionless import Package

    carried = carried or {}
    skip = frozenset(carried)
    results: dict[str, str] = {}
    problems = verify_sha256sums(folder, carried)
    if problems:
        raise ReleaseValidationError(f"SHA256SUMS 校验失败 verification failed: {problems[:10]}")
    results["sha256sums"] = "verified"

    limit = None if total_rows <= FRICTIONLESS_FULL_ROWS else FRICTIONLESS_FULL_ROWS
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["resources"] = [r for r in descriptor["resources"] if r["path"] not in skip]
    report = Package(descriptor, basepath=str(folder)).validate(limit_rows=limit)
    if not report.valid:
        errors = report.flatten(["type", "note"])[:10]
        raise ReleaseValidationError(f"Frictionless 校验失败 datapackage invalid: {errors}")
    results["frictionless"] = "valid" if limit is None else f"valid (first {limit} rows per resource)"
    if carried:
        results["carried_parts"] = (f"{len(carried)} files of unchanged parts carried by checksum "
                                    "(validated and privacy-scanned in the release that built them)")
    problems = check_table_schemas(folder, skip)
    if problems:
        raise ReleaseValidationError(f"表结构校验失败 Table Schema check failed: {problems[:10]}")
    results["table_schemas"] = "types, header and required fields (all rows)"
    problems = check_keys(folder, skip)
    if problems:
        raise ReleaseValidationError(f"主键校验失败 primary keys invalid: {problems}")
    results["primary_keys"] = "unique and complete (all rows)"

    ocds_carried = ocds_carried_over(folder, ocds_record)
    if ocds_carried:
        results["ocds"] = (f"valid: {len(ocds_carried)} files identical (SHA-256) to OCDS build "
                           f"{ocds_record.get('build_id')}, validated and privacy-scanned when built")
    elif ocds_validator is not None and (folder / "ocds").exists():
        problems = ocds_validator(folder / "ocds")
        if problems:
            raise ReleaseValidationError(f"OCDS 校验失败 OCDS invalid: {problems[:10]}")
        results["ocds"] = "valid"

    privacy = scan_tree(folder, identifier_columns, skip=frozenset(ocds_carried) | skip)
    if not privacy.clean:
        raise ReleaseValidationError(
            f"隐私扫描发现个人信息 privacy scan found personal data: {[str(h) for h in privacy.hits[:10]]}"
        )
    results["privacy_scan"] = f"clean ({privacy.summary()})"
    return results
