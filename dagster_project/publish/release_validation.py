"""Checking a release before it is published: its SHA256SUMS, and every check publication depends on.

``validate_release`` verifies every file against SHA256SUMS, validates the data package (Frictionless),
checks every CSV row against its Table Schema and its Parquet copy and every key in DuckDB, validates the OCDS
packages (or carries that over from the OCDS build by checksum) and runs the privacy scan; it raises
``ReleaseValidationError`` naming what failed.

What runs where, at any size:

- DuckDB, every row of every CSV written (``check_table_schemas``): the header is the schema's field names in
  order, the file starts with the BOM its ``utf-8-sig`` encoding promises, every row has one cell per field,
  every cell of a typed field is in its Table Schema type's lexical form and a real value, required fields
  are present, no row is blank (an empty line counts: the file's line breaks = header + rows + line breaks
  inside cells), and the text of every text column is the Parquet copy's (``safe_cells`` guard aside);
  (``check_keys``) primary keys unique and complete, foreign keys found in the resource they point at;
- SHA256SUMS: every file's bytes, and the ``hash`` / ``bytes`` the descriptor gives each resource;
- Frictionless: the descriptor of every resource, and the rows of every CSV resource — all of them when the
  largest part has at most ``FRICTIONLESS_FULL_ROWS`` rows, else the first ``FRICTIONLESS_SAMPLE_ROWS`` of each
  (Frictionless parses rows in Python at a few thousand per second; the checks it makes on rows are the
  DuckDB checks above). The validation summary says which.

Apart from ``release.py``, which writes the release: these checks read only the files written, never
the warehouse, so they judge what the public downloads; and the checksums they rest on
(``sha256_file``, SHA256SUMS) are also what carrying unchanged parts is checked by (``parts.py``,
``ocds.py``).
"""
from __future__ import annotations

import csv
import hashlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import duckdb

from dagster_project.publish.masking import quote_ident
from dagster_project.publish import privacy_scan
from dagster_project.publish.privacy_scan import PrivacyHit, scan_tree
from dagster_project.publish.warehouse import open_scratch

# A new CSV is privacy-scanned in the read of its Table Schema check (one query, where the scan's own connection,
# sniffing and planning cost ~0.2 s a small file and a large one's second parse more: at 1 M a 244 MB bulletin part
# took 1.55 CPU-s to check and 1.40 to scan alone, 2.70 both in one read; a 49 MB deals part 0.97 → 0.80). None: every
# CSV; a size: only those up to it, a larger one scanned by a read of its own after the checks.
SCAN_WITH_TABLE_CHECK_BYTES: int | None = None
# Table Schema checks run on this many connections at once (each file's check reads on one thread).
TABLE_CHECK_WORKERS = 2
# Frictionless validates every row of a release whose largest part has at most this many rows; above, the
# first FRICTIONLESS_SAMPLE_ROWS of each CSV resource (every row of every file is checked in DuckDB).
FRICTIONLESS_FULL_ROWS = 20_000
FRICTIONLESS_SAMPLE_ROWS = 1_000
# Table Schema type -> DuckDB type a CSV cell must convert to, and the lexical form (the schema's default format,
# as Frictionless reads it) the cell must have.
_TABLE_SCHEMA_DUCKDB_TYPES = {"string": "VARCHAR", "number": "DOUBLE", "integer": "BIGINT", "boolean": "BOOLEAN",
                              "date": "DATE", "datetime": "TIMESTAMP", "time": "TIME"}
_TABLE_SCHEMA_LEXICAL = {
    "number": r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|NaN|[+-]?INF",
    "integer": r"[+-]?[0-9]+",
    "boolean": "true|True|TRUE|1|false|False|FALSE|0",
    "date": r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
    "datetime": r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}",
    "time": r"[0-9]{2}:[0-9]{2}:[0-9]{2}",
}
_CSV_READ_OPTIONS = ("header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
                     "strict_mode = true, null_padding = false")


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
    """Primary keys of every tabular resource unique and non-null, and its foreign keys found in the resource
    they point at, over all rows (DuckDB, any size). A resource with a Parquet copy is read from it (the
    copy holds the CSV's values: ``check_table_schemas``). ``skip``: paths of carried parts (checked when they
    were built, the same bytes by checksum)."""
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    by_name = {r["name"]: r for r in package["resources"]}
    problems = []
    con = open_scratch()
    try:
        for res in package["resources"]:
            schema = res.get("schema") or {}
            pk, fks = schema.get("primaryKey"), schema.get("foreignKeys") or []
            if (not pk and not fks) or res["path"] in skip:
                continue
            source = _table_source(folder, res)
            if pk:
                cols = ", ".join(quote_ident(c) for c in pk)
                nulls = " OR ".join(f"{quote_ident(c)} IS NULL" for c in pk)
                dupes, missing = con.execute(
                    f"SELECT (SELECT count(*) FROM (SELECT {cols} FROM {source} GROUP BY ALL HAVING count(*) > 1)), "
                    f"(SELECT count(*) FROM {source} WHERE {nulls})"
                ).fetchone()
                if dupes or missing:
                    problems.append(f"{res['name']}: primary key {pk}: {dupes} duplicated values, {missing} rows with nulls")
            for fk in fks:
                problems += _check_foreign_key(con, folder, res, source, fk, by_name)
    finally:
        con.close()
    return problems


def _table_source(folder: Path, res: dict) -> str:
    parquet = (folder / res["path"]).with_suffix(".parquet")
    return (f"read_parquet('{_sql_path(parquet)}')" if parquet.exists() else
            f"read_csv('{_sql_path(folder / res['path'])}', header = true, all_varchar = true)")


def _check_foreign_key(con: duckdb.DuckDBPyConnection, folder: Path, res: dict, source: str, fk: dict,
                       by_name: dict[str, dict]) -> list[str]:
    """Rows whose foreign key (unless every field of it is missing: Frictionless skips those) is not a key of the
    referenced resource, compared as text (as the CSV cells are)."""
    fields, ref = fk["fields"], fk["reference"]
    fields = [fields] if isinstance(fields, str) else fields
    ref_fields = [ref["fields"]] if isinstance(ref["fields"], str) else ref["fields"]
    target = by_name.get(ref.get("resource") or res["name"])
    if target is None:
        return [f"{res['name']}: foreign key {fields} points at a resource that is not in the package"]
    on = " AND ".join(f"CAST(s.{quote_ident(a)} AS VARCHAR) IS NOT DISTINCT FROM CAST(r.{quote_ident(b)} AS VARCHAR)"
                      for a, b in zip(fields, ref_fields))
    some_set = "NOT (" + " AND ".join(f"s.{quote_ident(a)} IS NULL" for a in fields) + ")"
    (missing,) = con.execute(
        f"SELECT count(*) FROM {source} AS s WHERE {some_set} AND NOT EXISTS "
        f"(SELECT 1 FROM {_table_source(folder, target)} AS r WHERE {on})").fetchone()
    return [f"{res['name']}: foreign key {fields}: {missing} rows whose value is not in {target['name']}"] if missing else []


def _value_invalid_sql(col: str, field_type: str | None) -> str | None:
    """SQL true when a (non-NULL) CSV text cell is not a value of the Table Schema type (None: any text is)."""
    lexical = _TABLE_SCHEMA_LEXICAL.get(field_type or "string")
    if lexical is None:
        return None
    if field_type == "date":
        value = f"try_strptime({col}, '%Y-%m-%d')"
    elif field_type == "datetime":
        value = f"try_strptime({col}, '%Y-%m-%dT%H:%M:%S')"
    else:
        value = f"TRY_CAST({col} AS {_TABLE_SCHEMA_DUCKDB_TYPES[field_type]})"
    return f"({col} IS NOT NULL AND (NOT regexp_full_match({col}, {_sql_str(lexical)}) OR {value} IS NULL))"


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def csv_header(path: Path) -> list[str]:
    """The first record of a CSV file as written (a BOM, if any, kept on the first name)."""
    with open(path, encoding="utf-8", newline="") as fh:
        return next(csv.reader(fh), [])


def count_line_breaks(path: Path) -> int:
    count = 0
    with open(path, "rb") as fh:
        while block := fh.read(16 << 20):
            count += block.count(b"\n")
    return count


def check_table_schemas(folder: Path, skip: frozenset[str] = frozenset(),
                        privacy_hits: dict[str, list[PrivacyHit]] | None = None,
                        identifier_columns: frozenset[str] = frozenset()) -> list[str]:
    """Every row of every CSV resource against its Table Schema and its Parquet copy, in DuckDB (one read of
    each file): header = BOM + field names in order, one cell per field in every row (the read fails
    otherwise), every typed cell in its type's lexical form and a real value, required fields present, no
    blank row (all cells empty, or an empty line: the file's line breaks must be the header's, one per row
    and those inside cells), and every text column equal to the Parquet copy's (its text through the
    spreadsheet guard, ``safe_cells``), row for row. One problem per resource, naming what failed.

    ``privacy_hits``: when given, the same read of each CSV (up to ``SCAN_WITH_TABLE_CHECK_BYTES`` if set) also
    gathers the cells the privacy scan confirms
    (``privacy_scan.candidate_cells_aggregate``: the scan ``scan_tree`` makes of a CSV, ``identifier_columns``
    as there), and the hits of each CSV so scanned are put there by its path (``scan_tree(scanned=…)``)."""
    from dagster_project.publish.safe_cells import neutralise_sql

    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    todo = [(res, res["schema"]["fields"]) for res in package["resources"]
            if res.get("format") == "csv" and (res.get("schema") or {}).get("fields") and res["path"] not in skip]
    # largest first, on TABLE_CHECK_WORKERS connections: the positional join with the Parquet copy runs each file's
    # read on one thread, so two files at once keep two cores busy (results in resource order either way)
    order = sorted(range(len(todo)), key=lambda i: -(folder / todo[i][0]["path"]).stat().st_size)
    found: dict[int, list[str]] = {}
    lock = threading.Lock()
    # one in-memory database, a cursor per worker: the workers share its one memory limit (two databases would
    # each take the memory cap of duckdb_memory, twice the publication's budget)
    scratch = open_scratch()

    def worker() -> None:
        con = scratch.cursor()
        try:
            while True:
                with lock:
                    if not order:
                        return
                    i = order.pop(0)
                res, fields = todo[i]
                found[i] = _check_table(con, folder, res, fields, neutralise_sql, privacy_hits, identifier_columns)
        finally:
            con.close()

    try:
        with ThreadPoolExecutor(max_workers=max(1, min(TABLE_CHECK_WORKERS, len(todo)))) as pool:
            for done in [pool.submit(worker) for _ in range(min(TABLE_CHECK_WORKERS, len(todo)))]:
                done.result()  # a check that failed to run fails the release
    finally:
        scratch.close()
    return [f"{todo[i][0]['name']}: " + "; ".join(found[i]) for i in range(len(todo)) if found.get(i)]


def _check_table(con: duckdb.DuckDBPyConnection, folder: Path, res: dict, fields: list[dict], neutralise_sql,
                 privacy_hits: dict[str, list[PrivacyHit]] | None = None,
                 identifier_columns: frozenset[str] = frozenset()) -> list[str]:
    csv_path = folder / res["path"]
    names = [f["name"] for f in fields]
    header = csv_header(csv_path)
    if not header or not header[0].startswith("\ufeff"):
        return ["the file does not start with a UTF-8 BOM (encoding utf-8-sig)"]
    header[0] = header[0][1:]
    if header != names:
        return [f"header {header} is not the schema's fields {names}"]
    columns = "{" + ", ".join(f"{_sql_str(n)}: 'VARCHAR'" for n in names) + "}"
    source = f"read_csv('{_sql_path(csv_path)}', columns = {columns}, {_CSV_READ_OPTIONS})"
    parquet = csv_path.with_suffix(".parquet")
    twin = describe_parquet(con, parquet) if parquet.exists() else None
    q = quote_ident
    checks: list[tuple[str, str]] = [("rows", "count(*)")]
    for f in fields:
        invalid = _value_invalid_sql(f"c.{q(f['name'])}", f.get("type"))
        if invalid:
            checks.append((f"values of {f['name']} that are not {f.get('type')}s", f"count(*) FILTER (WHERE {invalid})"))
    required = [n for n, f in zip(names, fields) if (f.get("constraints") or {}).get("required")]
    if required:
        checks.append(("required values missing",
                       " + ".join(f"count(*) FILTER (WHERE c.{q(n)} IS NULL)" for n in required)))
    checks.append(("blank rows", "count(*) FILTER (WHERE " + " AND ".join(f"c.{q(n)} IS NULL" for n in names) + ")"))
    # a cell of a typed field holds no line break (its lexical form has none: counted there if it does)
    checks.append(("line breaks inside cells", "coalesce(sum(0 + " + " + ".join(
        f"CASE WHEN contains(c.{q(n)}, chr(10)) THEN length(c.{q(n)}) - length(replace(c.{q(n)}, chr(10), '')) "
        "ELSE 0 END" for n, f in zip(names, fields) if f.get("type", "string") not in _TABLE_SCHEMA_LEXICAL) + "), 0)"))
    row_flag = "false"
    # the privacy scan of the file in this read (a read of its own would parse every cell again; this query runs on
    # one thread, the positional join, and check_table_schemas runs TABLE_CHECK_WORKERS of them at once)
    scanned = privacy_scan.text_roles([(n, f.get("type")) for n, f in zip(names, fields)], identifier_columns) \
        if privacy_hits is not None and (SCAN_WITH_TABLE_CHECK_BYTES is None
                                         or csv_path.stat().st_size <= SCAN_WITH_TABLE_CHECK_BYTES) else []
    if scanned:  # the privacy scan's candidate cells of the text columns, gathered by this same read
        row_flag = privacy_scan.row_may_hold_sql(scanned, ref=q)
        checks.append(("privacy candidates",
                       privacy_scan.candidate_cells_aggregate(scanned, lambda n: f"c.{q(n)}", "c._may_hold")))
    relation = f"(SELECT true AS _in_csv, *, {row_flag} AS _may_hold FROM {source}) AS c"
    if twin is not None:
        if [n for n, _ in twin] != names:
            return [f"its Parquet copy's columns {[n for n, _ in twin]} are not the schema's fields {names}"]
        text = [n for n, t in twin if t.upper().startswith("VARCHAR")]
        checks.append(("rows in only one of the CSV and its Parquet copy",
                       "count(*) FILTER (WHERE c._in_csv IS NULL OR p._in_parquet IS NULL)"))
        for n in text:
            checks.append((f"cells of {n} that differ from the Parquet copy",
                           f"count(*) FILTER (WHERE c.{q(n)} IS DISTINCT FROM nullif({neutralise_sql(f'p.{q(n)}')}, ''))"))
        relation += (f" POSITIONAL JOIN (SELECT true AS _in_parquet, {', '.join(q(n) for n in text) or '1 AS _none'} "
                     f"FROM read_parquet('{_sql_path(parquet)}')) AS p")
    try:
        counts = con.execute(f"SELECT {', '.join(sql for _, sql in checks)} FROM {relation}").fetchone()
    except duckdb.Error as exc:  # a row with more or fewer cells than fields, a broken quote, bad UTF-8
        return [f"the CSV does not read as {len(names)} fields a row: {str(exc)[:300]}"]
    values = dict(zip((what for what, _ in checks), counts))
    candidates = privacy_scan.candidate_cells_by_column(scanned, values.pop("privacy candidates")) if scanned else []
    if scanned:
        privacy_hits[res["path"]] = privacy_scan.hits_of_candidate_cells(con, res["path"], candidates)
    rows, inside = values.pop("rows"), values.pop("line breaks inside cells")
    found = [f"{n} {what}" for what, n in values.items() if n]
    breaks = count_line_breaks(csv_path)
    if breaks != 1 + rows + inside:
        found.append(f"{breaks} line breaks for a header, {rows} rows and {inside} line breaks inside cells: "
                     "a blank line or a row without its line break")
    return found


def describe_parquet(con: duckdb.DuckDBPyConnection, path: Path) -> list[tuple[str, str]]:
    return [(r[0], str(r[1])) for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{_sql_path(path)}')").fetchall()]


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


def check_descriptor_digests(folder: Path) -> list[str]:
    """Every resource's ``hash`` and ``bytes`` in datapackage.json = its SHA256SUMS line and its size (the
    files themselves are read against SHA256SUMS by ``verify_sha256sums``)."""
    listed = listed_sha256(folder)
    problems = []
    for res in json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))["resources"]:
        path = folder / res["path"]
        if res.get("hash") != "sha256:" + (listed.get(res["path"]) or ""):
            problems.append(f"{res['name']}: hash {res.get('hash')} is not the SHA256SUMS line of {res['path']}")
        elif not path.exists() or res.get("bytes") != path.stat().st_size:
            problems.append(f"{res['name']}: bytes {res.get('bytes')} is not the size of {res['path']}")
    return problems


def validate_with_frictionless(folder: Path, total_rows: int, skip: frozenset[str] = frozenset()) -> str:
    """Frictionless on the resources written in this build (``skip``: carried parts, validated when built, the
    same bytes and descriptor): all their rows when the largest part has at most
    ``FRICTIONLESS_FULL_ROWS`` rows; else the descriptor of each and the first
    ``FRICTIONLESS_SAMPLE_ROWS`` rows of each CSV resource written in this build (its row checks run in DuckDB
    over every row, and every file's hash and size through SHA256SUMS). Returns the summary line."""
    from frictionless import FrictionlessException, Package

    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    written = [r for r in descriptor["resources"] if r["path"] not in skip]
    # and the resources their foreign keys point at (a code list carried unchanged): Frictionless resolves them
    referenced = {(fk.get("reference") or {}).get("resource") for r in written
                  for fk in (r.get("schema") or {}).get("foreignKeys") or []}
    checked = [r for r in descriptor["resources"] if r["path"] not in skip or r.get("name") in referenced]
    # what Frictionless checks across resources (names unique) over every resource, carried ones too: the
    # package below holds only the resources written in this build
    names = [r.get("name") for r in descriptor["resources"]]
    if len(names) != len(set(names)):
        raise ReleaseValidationError("Frictionless 校验失败 datapackage invalid: names of the resources are not unique "
                                     f"{sorted({n for n in names if names.count(n) > 1})[:10]}")
    if total_rows <= FRICTIONLESS_FULL_ROWS:
        report = Package({**descriptor, "resources": checked}, basepath=str(folder)).validate()
        summary = "valid"
    else:
        try:  # a carried resource's descriptor is the one validated in the release that built its files
            Package({**descriptor, "resources": checked}, basepath=str(folder)).to_descriptor(validate=True)
        except FrictionlessException as exc:
            raise ReleaseValidationError(f"Frictionless 校验失败 datapackage invalid: {str(exc)[:1000]}") from exc
        tables = [r for r in checked if r.get("type") == "table"]
        report = Package({**descriptor, "resources": tables}, basepath=str(folder)).validate(
            limit_rows=FRICTIONLESS_SAMPLE_ROWS)
        summary = (f"valid: descriptor of every resource written in this build (carried ones: as validated when "
                   f"built); rows: the first {FRICTIONLESS_SAMPLE_ROWS} of each CSV resource written in this build "
                   "(every row: table_schemas, primary_keys, foreign_keys; every file: sha256sums)")
    if not report.valid:
        raise ReleaseValidationError(f"Frictionless 校验失败 datapackage invalid: {report.flatten(['type', 'note'])[:10]}")
    return summary


def validate_release(folder: Path, total_rows: int, ocds_validator: Callable[[Path], list[str]] | None,
                     identifier_columns: frozenset[str] = frozenset(), ocds_record: dict | None = None,
                     carried: dict[str, str] | None = None,
                     known_digests: dict[str, str] | None = None) -> dict[str, str]:
    """Every check publication depends on; raises ReleaseValidationError naming what failed.

    ``ocds_record``: what the OCDS build validated and scanned (``ocds_validation.read_validation_record``); when
    every OCDS file of the release matches it by checksum, schema validation and privacy scan of those
    files are not repeated (at 10 M bulletins they are tens of GB).
    ``carried``: the files of parts carried from the previous release (``parts.py``), by their digest,
    verified when linked: Frictionless, Table Schema, key and privacy checks skip them.
    ``known_digests``: other files whose digest this build already holds (OCDS packages whose file status is
    unchanged since a release published them, ``parts.DIGEST_CACHE``): compared with SHA256SUMS, not read again.
    """
    carried = carried or {}
    skip = frozenset(carried)
    results: dict[str, str] = {}
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    csv_privacy: dict[str, list[PrivacyHit]] = {}  # the privacy scan of each CSV, made by the same read
    # Three independent reads at once, their verdicts taken in this order: the checksums (hashlib, which releases
    # the GIL) and Frictionless (Python) in threads while DuckDB checks every CSV row against its Table Schema — that
    # check reads each file on one thread, so on two cores the other two mostly ran on an idle core.
    with ThreadPoolExecutor(max_workers=2) as side:
        sums = side.submit(verify_sha256sums, folder, {**(known_digests or {}), **carried})
        frictionless = side.submit(validate_with_frictionless, folder, total_rows, skip)
        try:
            table_problems = check_table_schemas(folder, skip, csv_privacy, frozenset(identifier_columns))
        except BaseException as exc:  # reported after the checks before it, as when they ran one by one
            table_problems = exc
        problems = sums.result()
        if problems:
            raise ReleaseValidationError(f"SHA256SUMS 校验失败 verification failed: {problems[:10]}")
        results["sha256sums"] = "verified"

        problems = check_descriptor_digests(folder)
        if problems:
            raise ReleaseValidationError(f"datapackage.json 与 SHA256SUMS 不符 hash/bytes differ: {problems[:10]}")
        results["frictionless"] = frictionless.result()
    if carried:
        results["carried_parts"] = (f"{len(carried)} files of unchanged parts (and code lists) carried by checksum "
                                    "(validated and privacy-scanned in the release that built them)")
    if isinstance(table_problems, BaseException):
        raise table_problems
    problems = table_problems
    if problems:
        raise ReleaseValidationError(f"表结构校验失败 Table Schema check failed: {problems[:10]}")
    results["table_schemas"] = ("header, BOM, one cell per field, types (lexical form and value), required fields, "
                                "no blank rows, text columns = the Parquet copy's (all rows)")
    problems = check_keys(folder, skip)
    if problems:
        raise ReleaseValidationError(f"主键/外键校验失败 primary or foreign keys invalid: {problems}")
    results["primary_keys"] = "unique and complete (all rows)"
    results["foreign_keys"] = "every value found in the resource it points at (all rows)"

    ocds_carried = ocds_carried_over(folder, ocds_record)
    if ocds_carried:
        results["ocds"] = (f"valid: {len(ocds_carried)} files identical (SHA-256) to OCDS build "
                           f"{ocds_record.get('build_id')}, validated and privacy-scanned when built")
    elif ocds_validator is not None and (folder / "ocds").exists():
        problems = ocds_validator(folder / "ocds")
        if problems:
            raise ReleaseValidationError(f"OCDS 校验失败 OCDS invalid: {problems[:10]}")
        results["ocds"] = "valid"

    # a Parquet copy whose every text value check_table_schemas found in its scanned CSV is not scanned again
    twins = frozenset(r["path"][:-4] + ".parquet" for r in descriptor["resources"]
                      if r.get("format") == "csv" and r["path"] not in skip
                      and (folder / r["path"]).with_suffix(".parquet").exists())
    privacy = scan_tree(folder, identifier_columns, skip=frozenset(ocds_carried) | skip, same_values_as_csv=twins,
                        scanned=csv_privacy)
    if not privacy.clean:
        raise ReleaseValidationError(
            f"隐私扫描发现个人信息 privacy scan found personal data: {[str(h) for h in privacy.hits[:10]]}"
        )
    results["privacy_scan"] = f"clean ({privacy.summary()})"
    return results
