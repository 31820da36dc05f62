"""Privacy scan of written files: the proof that masking worked, run before anything is published.

What is looked for, where (measured on the sample: amounts such as 14 700 000 000.00 元 and hex row
ids look like mobile numbers to a plain text scan, so the scan reads values by their role):

- checksum-valid ID numbers (GB 11643; a strong signal): in every text value of every file —
  free text, codes, keys, file names, JSON strings;
- mobile numbers (``1[3-9]`` + 9 digits; a weak signal): in free-text values only — not in numeric
  columns/JSON numbers, and not in identifier columns (``masking.identifier_columns``: hashes, keys,
  codes) or identifier JSON keys (ocid, id, url, hash …).

Values never reach Python in bulk: DuckDB finds candidates (cells or JSON strings holding an
11-digit run), splits them into maximal digit runs and confirms them in SQL (an ID number: known
province, real birth date, ISO 7064 MOD 11-2 check, as ``identifiers.id_number_is_valid``; a mobile:
``1[3-9]`` + 9 digits in free text); only the masked hits come back. CSV files are read with every
column as text, the column's Table Schema type taken from ``datapackage.json`` when present; Parquet
by its VARCHAR columns; each file in one pass. JSON files above ``_SMALL_JSON_BYTES`` (the OCDS
packages, one item per line) are read line by line by DuckDB and their string values taken with
``json_tree``, the role coming from the key; smaller JSON files (metadata) are walked in Python.
Other text files (HTML, Markdown, SHA256SUMS) are scanned as text in Python, ID numbers everywhere
and mobiles outside SHA256SUMS.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dagster_project import identifiers
from dagster_project.publish.warehouse import open_scratch

_CHUNK_CHARS = 4 * 1024 * 1024
_OVERLAP_CHARS = 64  # longer than any ID/mobile/card, so a match cut by a chunk edge is seen whole
_TEXT_SUFFIXES = {".html", ".htm", ".md", ".txt", ".js"}
_ANY_CANDIDATE_SQL = "[0-9]{11}"
_HITS_LIMIT = 1000  # per file: one is enough to stop a release; the report stays readable
# JSON keys whose string values are identifiers, hashes, links or dates, not free text.
IDENTIFIER_JSON_KEYS = frozenset({
    "ocid", "id", "awardID", "url", "uri", "packages", "hash", "sha256", "source_sha256", "spdx:checksumValue",
    "path", "release_id", "run_id", "version", "git_commit", "@id", "dct:identifier", "dcat:downloadURL",
    "source_file", "date", "dateSigned", "startDate", "endDate", "publishedDate", "created", "issued",
    "modified", "dct:issued", "dct:modified", "loaded_at", "legalName_code", "scheme",
})
# JSON files up to this size are walked in Python (metadata files); larger ones (OCDS packages) are
# scanned by DuckDB line by line.
_SMALL_JSON_BYTES = 8 * 1024 * 1024


@dataclass
class PrivacyHit:
    path: str
    kind: str  # id_number | mobile
    masked: str  # never the value itself: reports are public too

    def __str__(self) -> str:
        return f"{self.path}: {self.kind} {self.masked}"


@dataclass
class PrivacyReport:
    files_scanned: int = 0
    bytes_scanned: int = 0
    files_carried_over: int = 0  # scanned when they were built, proven identical by checksum
    hits: list[PrivacyHit] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.hits

    def summary(self) -> str:
        kinds: dict[str, int] = {}
        for h in self.hits:
            kinds[h.kind] = kinds.get(h.kind, 0) + 1
        carried = f", {self.files_carried_over} files scanned when built" if self.files_carried_over else ""
        return f"{self.files_scanned} files, {self.bytes_scanned} bytes{carried}, hits {kinds or 0}"


def hits_in_text(text: str, where: str, free_text: bool = True) -> list[PrivacyHit]:
    hits = [PrivacyHit(where, "id_number", identifiers.mask_id_number(s)) for s in identifiers.find_id_numbers(text)]
    if free_text:
        hits += [PrivacyHit(where, "mobile", identifiers.mask_mobile(s)) for s in identifiers.find_mobiles(text)]
    return hits


def _dedupe(hits: list[PrivacyHit]) -> list[PrivacyHit]:
    seen: dict[tuple[str, str, str], PrivacyHit] = {}
    for h in hits:
        seen.setdefault((h.path, h.kind, h.masked), h)
    return list(seen.values())


def scan_text_file(path: Path, rel: str, free_text: bool = True) -> list[PrivacyHit]:
    hits: list[PrivacyHit] = []
    carry = ""
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        while True:
            chunk = fh.read(_CHUNK_CHARS)
            if not chunk:
                break
            text = carry + chunk
            hits += hits_in_text(text, rel, free_text)
            carry = text[-_OVERLAP_CHARS:]
    return _dedupe(hits)


def _id_number_is_valid_sql(s: str) -> str:
    """SQL twin of ``identifiers.id_number_is_valid`` for an upper-cased 18-character candidate ``s``."""
    provinces = ", ".join(f"'{p}'" for p in sorted(identifiers._ID_PROVINCES))
    weights = ", ".join(str(w) for w in identifiers._ID_WEIGHTS)
    return (
        f"(regexp_full_match({s}, '[0-9]{{17}}[0-9X]') AND substr({s}, 1, 2) IN ({provinces}) "
        f"AND substr({s}, 3, 4) <> '0000' "
        f"AND try_strptime(substr({s}, 7, 8), '%Y%m%d') BETWEEN TIMESTAMP '1900-01-01' AND TIMESTAMP '2100-12-31' "
        f"AND substr('{identifiers._ID_CHECK}', CAST(list_sum(list_transform([{weights}], "
        f"lambda w, i: CAST(substr({s}, i, 1) AS INTEGER) * w)) % 11 AS INTEGER) + 1, 1) = substr({s}, 18, 1))"
    )


def _hits_sql(cells_sql: str) -> str:
    """Hits (loc, kind, masked) among cells (loc, txt, free): candidates by regex, confirmed in SQL.

    A maximal digit run (optionally ending in X) is never part of a longer run, which is the
    finders' "not inside a longer digit run" without look-around (RE2 has none; the leftmost match
    of ``[0-9]{11,}`` starts where its run starts and is greedy, so it is the whole run): an 18-character
    run is an ID candidate (checksum, province and birth date confirm it), an 11-digit run of the
    mobile shape is a mobile when the cell is free text.
    """
    return f"""
        WITH cells AS ({cells_sql}),
        runs AS (  -- distinct: the same code recurs on many rows; it is confirmed once
            SELECT DISTINCT loc, free, run, rtrim(run, 'Xx') AS digits
            FROM (SELECT loc, free, unnest(regexp_extract_all(txt, '[0-9]{{11,}}[Xx]?')) AS run FROM cells)
        ), ids AS (
            SELECT loc, upper(CASE WHEN length(digits) = 18 THEN digits ELSE run END) AS s
            FROM runs WHERE length(digits) = 18 OR (length(digits) = 17 AND length(run) = 18)
        )
        SELECT DISTINCT loc, kind, masked FROM (
            SELECT loc, 'id_number' AS kind, left(s, 6) || '********' || right(s, 4) AS masked
            FROM ids WHERE {_id_number_is_valid_sql('s')}
            UNION ALL
            SELECT loc, 'mobile', left(digits, 3) || '****' || right(digits, 4)
            FROM runs WHERE free AND regexp_full_match(digits, '1[3-9][0-9]{{9}}')
        ) ORDER BY ALL LIMIT {_HITS_LIMIT}"""


def _run_hits(con: duckdb.DuckDBPyConnection, cells_sql: str) -> list[PrivacyHit]:
    return [PrivacyHit(loc, kind, masked) for loc, kind, masked in con.execute(_hits_sql(cells_sql)).fetchall()]


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _scan_table(con: duckdb.DuckDBPyConnection, source_sql: str, columns: list[tuple[str, str]], rel: str,
                identifier_columns: frozenset[str]) -> list[PrivacyHit]:
    """``columns``: (name, role) with role ``free_text`` | ``identifier`` | ``number``; one pass over the file.

    Rows without an 11-digit run in any text column are dropped before their cells are unnested.
    """
    text = [(name, role == "free_text" and name not in identifier_columns) for name, role in columns if role != "number"]
    if not text:
        return []
    cast = lambda name: f"CAST({chr(34) + name.replace(chr(34), chr(34) * 2) + chr(34)} AS VARCHAR)"  # noqa: E731
    cells = ", ".join(f"{{'loc': {_sql_str(rel + '#' + name)}, 'txt': {cast(name)}, 'free': {str(free).lower()}}}"
                      for name, free in text)
    any_run = " OR ".join(f"regexp_matches({cast(name)}, '{_ANY_CANDIDATE_SQL}')" for name, _ in text)
    cells_sql = (f"SELECT c.loc, c.txt, c.free FROM (SELECT unnest([{cells}]) AS c FROM {source_sql} "
                 f"WHERE {any_run})")
    return _run_hits(con, cells_sql)


def scan_parquet_file(path: Path, rel: str, identifier_columns: frozenset[str] = frozenset()) -> list[PrivacyHit]:
    con = open_scratch()
    try:
        source = f"read_parquet({_sql_str(path.as_posix())})"
        cols = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
        roles = [(c[0], "free_text" if str(c[1]).upper().startswith("VARCHAR") else "number") for c in cols]
        return _scan_table(con, source, roles, rel, identifier_columns)
    finally:
        con.close()


def scan_csv_file(path: Path, rel: str, field_types: dict[str, str] | None,
                  identifier_columns: frozenset[str] = frozenset()) -> list[PrivacyHit]:
    """``field_types``: Table Schema types by column (from datapackage.json); unknown columns are text."""
    con = open_scratch()
    try:
        source = f"read_csv({_sql_str(path.as_posix())}, header = true, all_varchar = true, encoding = 'utf-8')"
        cols = [c[0].lstrip("\ufeff") for c in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
        types = field_types or {}
        roles = [(c, "number" if types.get(c) in {"number", "integer", "boolean"} else "free_text") for c in cols]
        return _scan_table(con, source, roles, rel, identifier_columns)
    finally:
        con.close()


def _walk_json(value, where: str, key: str | None, hits: list[PrivacyHit]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _walk_json(v, where, k, hits)
    elif isinstance(value, list):
        for v in value:
            _walk_json(v, where, key, hits)
    elif isinstance(value, str):
        hits += hits_in_text(value, where, free_text=key not in IDENTIFIER_JSON_KEYS)


def _scan_json_lines(path: Path, rel: str) -> list[PrivacyHit]:
    """A JSON file read line by line by DuckDB (package files hold one item per line).

    Each line is scanned once for runs of 11+ digits. Every run is a cell for ID numbers (they count
    anywhere). Mobiles count in free text only: a line holding a mobile-shaped run that is JSON
    (after its trailing comma), or a package's envelope line (JSON once its list is closed), is
    parsed with ``json_tree``, its string values being free text unless their key — for array
    elements, the array's key — is an identifier key; any other such line (a fragment of a
    pretty-printed file) is free text whole. The steps are separate statements so that DuckDB
    parses only the (few) mobile-shaped lines, not every line.
    """
    keys = ", ".join(_sql_str(k) for k in sorted(IDENTIFIER_JSON_KEYS))
    loc = _sql_str(rel)
    con = open_scratch()
    try:
        con.execute(f"""
            CREATE TEMP TABLE json_runs AS
            SELECT runs, CASE WHEN list_bool_or(list_transform(runs, lambda r: length(rtrim(r, 'Xx')) = 11
                                  AND substr(r, 1, 1) = '1' AND substr(r, 2, 1) BETWEEN '3' AND '9'))
                              THEN rtrim(line, ',') END AS mobile_line  -- string tests: no regex per element
            FROM (SELECT line, regexp_extract_all(line, '[0-9]{{11,}}[Xx]?') AS runs
                  FROM read_csv({_sql_str(path.as_posix())}, columns = {{'line': 'VARCHAR'}}, header = false,
                                delim = '\x01', quote = '', escape = '', auto_detect = false,
                                max_line_size = 67108864))
            WHERE len(runs) > 0""")
        hits = _run_hits(con, f"SELECT {loc} AS loc, unnest(runs) AS txt, false AS free FROM json_runs")
        con.execute(f"""
            CREATE TEMP TABLE json_mobile_lines AS
            SELECT mobile_line AS line, CASE WHEN json_valid(mobile_line) THEN mobile_line
                       WHEN json_valid(mobile_line || ']}}') THEN mobile_line || ']}}' END AS doc
            FROM json_runs WHERE mobile_line IS NOT NULL""")
        if con.execute("SELECT count(*) FROM json_mobile_lines").fetchone()[0]:
            hits += _run_hits(con, f"""
                SELECT {loc} AS loc, line AS txt, true AS free FROM json_mobile_lines WHERE doc IS NULL
                UNION ALL
                SELECT {loc}, json_extract_string(t.value, '$'),
                       CASE WHEN t.fullkey LIKE '%]'
                            THEN trim(regexp_extract(t.path, '([^.\\[]+|"[^"]*")(\\[[0-9]+\\])*$', 1), '"')
                            ELSE t.key END NOT IN ({keys})
                FROM (SELECT doc FROM json_mobile_lines WHERE doc IS NOT NULL) AS d, json_tree(d.doc) AS t
                WHERE t.type = 'VARCHAR'""")
        return _dedupe(hits)
    finally:
        con.close()


def scan_json_file(path: Path, rel: str) -> list[PrivacyHit]:
    hits: list[PrivacyHit] = []
    if path.stat().st_size <= _SMALL_JSON_BYTES and not path.name.endswith(".gz"):
        _walk_json(json.loads(path.read_text(encoding="utf-8")), rel, None, hits)
        return _dedupe(hits)
    return _scan_json_lines(path, rel)


def _datapackage_types(root: Path) -> dict[str, dict[str, str]]:
    dp = root / "datapackage.json"
    if not dp.exists():
        return {}
    package = json.loads(dp.read_text(encoding="utf-8"))
    return {
        r["path"]: {f["name"]: f.get("type", "string") for f in r.get("schema", {}).get("fields", [])}
        for r in package.get("resources", []) if isinstance(r.get("path"), str)
    }


def scan_tree(root: Path, identifier_columns: frozenset[str] | set[str] = frozenset(),
              skip: frozenset[str] = frozenset()) -> PrivacyReport:
    """Scan every file below ``root``; binaries other than Parquet are counted but not read.

    ``skip``: relative paths already scanned elsewhere, byte for byte (the caller proves it by checksum).
    """
    identifier_columns = frozenset(identifier_columns)
    types = _datapackage_types(root)
    report = PrivacyReport()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel in skip:
            report.files_carried_over += 1
            continue
        report.files_scanned += 1
        report.bytes_scanned += path.stat().st_size
        suffix = path.suffix.lower()
        if suffix == ".parquet":
            report.hits += scan_parquet_file(path, rel, identifier_columns)
        elif suffix == ".csv":
            report.hits += scan_csv_file(path, rel, types.get(rel), identifier_columns)
        elif suffix in {".json", ".jsonld"} or path.name.endswith((".json.gz", ".jsonl.gz")):
            report.hits += scan_json_file(path, rel)
        elif path.name == "SHA256SUMS":
            report.hits += scan_text_file(path, rel, free_text=False)
        elif suffix in _TEXT_SUFFIXES or suffix == ".jsonl":
            report.hits += scan_text_file(path, rel)
    return report
