"""Privacy scan of written files: the proof that masking worked, run before anything is published.

What is looked for, where (measured on the sample: amounts such as 14 700 000 000.00 元 and hex row
ids look like mobile numbers to a plain text scan, so the scan reads values by their role):

- checksum-valid ID numbers (GB 11643; a strong signal): in every text value of every file —
  free text, codes, keys, file names, JSON strings;
- mobile numbers (``1[3-9]`` + 9 digits; a weak signal): in free-text values only — not in numeric
  columns/JSON numbers, and not in identifier columns (``masking.identifier_columns``: hashes, keys,
  codes) or identifier JSON keys (ocid, id, url, hash …).

CSV files are read by DuckDB (every column as text, the column's Table Schema type taken from
``datapackage.json`` when present); Parquet by DuckDB (VARCHAR columns); in both only cells holding a
long digit run reach Python, so a 10 M-row file is never pulled into Python. JSON files are walked
value by value (package files written one item per line are read line by line). Other text files
(HTML, Markdown, SHA256SUMS) are scanned as text, ID numbers everywhere and mobiles outside
SHA256SUMS.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dagster_project import identifiers
from dagster_project.publish.warehouse import open_scratch

_CHUNK_CHARS = 4 * 1024 * 1024
_OVERLAP_CHARS = 64  # longer than any ID/mobile/card, so a match cut by a chunk edge is seen whole
_TEXT_SUFFIXES = {".html", ".htm", ".md", ".txt", ".js"}
_ID_CANDIDATE_SQL = "[0-9]{17}"
_ANY_CANDIDATE_SQL = "[0-9]{11}"
_CANDIDATE_CELLS_LIMIT = 10000
# JSON keys whose string values are identifiers, hashes, links or dates, not free text.
IDENTIFIER_JSON_KEYS = frozenset({
    "ocid", "id", "awardID", "url", "uri", "packages", "hash", "sha256", "source_sha256", "spdx:checksumValue",
    "path", "release_id", "run_id", "version", "git_commit", "@id", "dct:identifier", "dcat:downloadURL",
    "source_file", "date", "dateSigned", "startDate", "endDate", "publishedDate", "created", "issued",
    "modified", "dct:issued", "dct:modified", "loaded_at", "legalName_code", "scheme",
})
_SMALL_JSON_BYTES = 64 * 1024 * 1024
# Every ID number and mobile holds 11 consecutive digits: a line without them needs no parsing.
_DIGIT_RUN_11 = re.compile(r"[0-9]{11}")


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
    hits: list[PrivacyHit] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.hits

    def summary(self) -> str:
        kinds: dict[str, int] = {}
        for h in self.hits:
            kinds[h.kind] = kinds.get(h.kind, 0) + 1
        return f"{self.files_scanned} files, {self.bytes_scanned} bytes, hits {kinds or 0}"


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


def _scan_table(con: duckdb.DuckDBPyConnection, source_sql: str, columns: list[tuple[str, str]], rel: str,
                identifier_columns: frozenset[str]) -> list[PrivacyHit]:
    """``columns``: (name, role) with role ``free_text`` | ``identifier`` | ``number``."""
    hits: list[PrivacyHit] = []
    for name, role in columns:
        if role == "number":
            continue
        free = role == "free_text" and name not in identifier_columns
        q = '"' + name.replace('"', '""') + '"'
        pattern = _ANY_CANDIDATE_SQL if free else _ID_CANDIDATE_SQL
        cells = con.execute(
            f"SELECT DISTINCT CAST({q} AS VARCHAR) FROM {source_sql} "
            f"WHERE regexp_matches(CAST({q} AS VARCHAR), '{pattern}') LIMIT {_CANDIDATE_CELLS_LIMIT}"
        ).fetchall()
        for (cell,) in cells:
            hits += hits_in_text(cell, f"{rel}#{name}", free)
    return _dedupe(hits)


def scan_parquet_file(path: Path, rel: str, identifier_columns: frozenset[str] = frozenset()) -> list[PrivacyHit]:
    con = open_scratch()
    try:
        source = f"read_parquet('{path.as_posix()}')"
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
        source = f"read_csv('{path.as_posix()}', header = true, all_varchar = true, encoding = 'utf-8')"
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


def scan_json_file(path: Path, rel: str) -> list[PrivacyHit]:
    hits: list[PrivacyHit] = []
    if path.stat().st_size <= _SMALL_JSON_BYTES:
        _walk_json(json.loads(path.read_text(encoding="utf-8")), rel, None, hits)
        return _dedupe(hits)
    # big package files are written one item per line between an envelope line and "]}"
    with open(path, encoding="utf-8") as fh:
        head = fh.readline().rstrip()  # '{"uri": …, "publisher": {…}, "releases": ['
        _walk_json(json.loads(head[: head.rfind(', "')] + "}"), rel, None, hits)
        for line in fh:
            if not _DIGIT_RUN_11.search(line):
                continue
            line = line.rstrip("\n").rstrip(",")
            if line and line != "]}":
                _walk_json(json.loads(line), rel, None, hits)
    return _dedupe(hits)


def _datapackage_types(root: Path) -> dict[str, dict[str, str]]:
    dp = root / "datapackage.json"
    if not dp.exists():
        return {}
    package = json.loads(dp.read_text(encoding="utf-8"))
    return {
        r["path"]: {f["name"]: f.get("type", "string") for f in r.get("schema", {}).get("fields", [])}
        for r in package.get("resources", []) if isinstance(r.get("path"), str)
    }


def scan_tree(root: Path, identifier_columns: frozenset[str] | set[str] = frozenset()) -> PrivacyReport:
    """Scan every file below ``root``; binaries other than Parquet are counted but not read."""
    identifier_columns = frozenset(identifier_columns)
    types = _datapackage_types(root)
    report = PrivacyReport()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        report.files_scanned += 1
        report.bytes_scanned += path.stat().st_size
        suffix = path.suffix.lower()
        if suffix == ".parquet":
            report.hits += scan_parquet_file(path, rel, identifier_columns)
        elif suffix == ".csv":
            report.hits += scan_csv_file(path, rel, types.get(rel), identifier_columns)
        elif suffix in {".json", ".jsonld"}:
            report.hits += scan_json_file(path, rel)
        elif path.name == "SHA256SUMS":
            report.hits += scan_text_file(path, rel, free_text=False)
        elif suffix in _TEXT_SUFFIXES or suffix == ".jsonl":
            report.hits += scan_text_file(path, rel)
    return report
