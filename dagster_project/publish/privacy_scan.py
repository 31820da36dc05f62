"""Privacy scan of written files: the proof that masking worked, run before anything is published.

Text files (CSV, JSON, HTML, Markdown, SHA256SUMS…) are streamed in chunks through the finders of
``dagster_project.identifiers``; Parquet files are scanned by DuckDB, which only hands Python the few
cells that hold a long digit run, so a 10 M-row file is never pulled into Python.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dagster_project import identifiers

_CHUNK_CHARS = 4 * 1024 * 1024
_OVERLAP_CHARS = 64  # longer than any ID/mobile/card, so a match cut by a chunk edge is seen whole
_TEXT_SUFFIXES = {".csv", ".json", ".jsonld", ".jsonl", ".html", ".htm", ".md", ".txt", ".js", ".geojson", ""}
# Candidate cells in Parquet: 11+ consecutive digits (every mobile and ID number has them).
_PARQUET_CANDIDATE = "[0-9]{11}"


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


def _hits_in_text(text: str, rel: str) -> list[PrivacyHit]:
    hits = [PrivacyHit(rel, "id_number", identifiers.mask_id_number(s)) for s in identifiers.find_id_numbers(text)]
    hits += [PrivacyHit(rel, "mobile", identifiers.mask_mobile(s)) for s in identifiers.find_mobiles(text)]
    return hits


def scan_text_file(path: Path, rel: str) -> list[PrivacyHit]:
    seen: dict[tuple[str, str], PrivacyHit] = {}
    carry = ""
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        while True:
            chunk = fh.read(_CHUNK_CHARS)
            if not chunk:
                break
            text = carry + chunk
            for hit in _hits_in_text(text, rel):
                seen.setdefault((hit.kind, hit.masked), hit)
            carry = text[-_OVERLAP_CHARS:]
    return list(seen.values())


def scan_parquet_file(path: Path, rel: str) -> list[PrivacyHit]:
    con = duckdb.connect()
    try:
        cols = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path.as_posix()}')").fetchall()
        text_cols = [c[0] for c in cols if str(c[1]).upper().startswith("VARCHAR")]
        hits: list[PrivacyHit] = []
        for col in text_cols:
            q = '"' + col.replace('"', '""') + '"'
            cells = con.execute(
                f"SELECT DISTINCT {q} FROM read_parquet('{path.as_posix()}') "
                f"WHERE regexp_matches({q}, '{_PARQUET_CANDIDATE}') LIMIT 10000"
            ).fetchall()
            for (cell,) in cells:
                hits += _hits_in_text(cell, f"{rel}#{col}")
        return hits
    finally:
        con.close()


def scan_tree(root: Path) -> PrivacyReport:
    """Scan every file below ``root`` (text and Parquet); other binaries are counted but not read."""
    report = PrivacyReport()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        report.files_scanned += 1
        report.bytes_scanned += path.stat().st_size
        suffix = path.suffix.lower()
        if suffix == ".parquet":
            report.hits += scan_parquet_file(path, rel)
        elif suffix in _TEXT_SUFFIXES or path.name == "SHA256SUMS":
            report.hits += scan_text_file(path, rel)
    return report


