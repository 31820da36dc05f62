"""Generic ingest machinery shared by every raw family.

A family loader only knows how to read one file into its raw tables. This module decides *which*
files need loading (by content hash), keeps history in ``raw.load_files``, replaces the rows of
changed files, retires the rows of vanished files, and enforces the row accounting invariant
``rows_in = rows_loaded + rows_rejected``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import duckdb

from dagster_project.paths import REPO_ROOT

log = logging.getLogger(__name__)

SCHEMA_SQL = Path(__file__).with_name("schema.sql")

# family -> raw tables holding that family's rows (all carry source_file and is_retired)
FAMILY_TABLES: dict[str, tuple[str, ...]] = {
    "registry": ("raw.registry_regions", "raw.registry_entities", "raw.registry_approvals"),
    "budget": ("raw.budget_sheets", "raw.budget_lines", "raw.budget_sections", "raw.budget_statements"),
    "debt": ("raw.debt_sheets", "raw.debt_lines"),
    "trading": ("raw.trading_bulletins",),
    "portal": ("raw.portal_publications",),
}
FAMILIES = tuple(FAMILY_TABLES)

# What a family folder may hold; anything else is recorded as rejected (nothing is silently ignored).
FAMILY_SUFFIXES: dict[str, tuple[str, ...]] = {
    "registry": (".csv",),
    "budget": (".pdf", ".xlsx", ".xlsm", ".xls"),
    "debt": (".pdf", ".xlsx", ".xlsm", ".xls"),
    "trading": (".csv", ".json", ".jsonl", ".ndjson"),
    "portal": (".csv",),
}


class FileRejected(Exception):
    """Raised by a loader when the whole file cannot be loaded; the message is shown to a clerk."""


@dataclass(frozen=True)
class RawFile:
    path: Path
    rel: str  # posix path relative to the raw root, e.g. 'budget/2018/教育厅.xlsx'
    sha256: str
    bytes: int
    family: str


@dataclass
class FileOutcome:
    status: str  # loaded | loaded_with_rejects | rejected
    reason: str | None = None
    rows_in: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    file_format: str | None = None
    encoding: str | None = None
    detected_kind: str | None = None

    def check_accounting(self, rel: str) -> None:
        if self.rows_in != self.rows_loaded + self.rows_rejected:
            raise AssertionError(
                f"{rel}: row accounting broken: in={self.rows_in} "
                f"loaded={self.rows_loaded} rejected={self.rows_rejected}"
            )


Loader = Callable[[duckdb.DuckDBPyConnection, RawFile, str], FileOutcome]


@dataclass
class FamilyLoadReport:
    family: str
    load_id: str
    loaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    rows_in: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SCHEMA_SQL.read_text(encoding="utf-8"))


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def discover(raw_dir: Path, family: str) -> list[RawFile]:
    """Every regular file below ``<raw_dir>/<family>/``, sorted for a stable load order."""
    root = raw_dir / family
    if not root.is_dir():
        return []
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.name.startswith((".", "~$")):  # editor lock files, hidden files
            continue
        found.append(
            RawFile(
                path=path,
                rel=path.relative_to(raw_dir).as_posix(),
                sha256=sha256_of(path),
                bytes=path.stat().st_size,
                family=family,
            )
        )
    return found


def new_load_id() -> str:
    return dt.datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


def _current_files(con: duckdb.DuckDBPyConnection, family: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT source_file, source_sha256 FROM raw.load_files "
        "WHERE family = ? AND is_current AND status <> 'retired'",
        [family],
    ).fetchall()
    return dict(rows)


def _files_ever_loaded(con: duckdb.DuckDBPyConnection, family: str) -> set[str]:
    rows = con.execute(
        "SELECT DISTINCT source_file FROM raw.load_files WHERE family = ?", [family]
    ).fetchall()
    return {r[0] for r in rows}


def _delete_file_rows(con: duckdb.DuckDBPyConnection, family: str, rel: str) -> None:
    for table in FAMILY_TABLES[family]:
        con.execute(f"DELETE FROM {table} WHERE source_file = ?", [rel])
    con.execute("DELETE FROM raw.load_rejects WHERE source_file = ?", [rel])


def _record(con, load_id: str, f: RawFile, outcome: FileOutcome) -> None:
    con.execute(
        "UPDATE raw.load_files SET is_current = false WHERE source_file = ? AND is_current",
        [f.rel],
    )
    con.execute(
        "INSERT INTO raw.load_files VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,true,NULL)",
        [
            load_id, f.rel, f.sha256, f.bytes, f.family, outcome.file_format, outcome.encoding,
            outcome.detected_kind, outcome.status, outcome.reason, outcome.rows_in,
            outcome.rows_loaded, outcome.rows_rejected, dt.datetime.now(),
        ],
    )


def _format_of(path: Path) -> str:
    return path.suffix.lower().lstrip(".") or "unknown"


def load_family(
    con: duckdb.DuckDBPyConnection,
    raw_dir: Path,
    family: str,
    loader: Loader,
    load_id: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> FamilyLoadReport:
    """Bring the raw tables of one family in line with the files under ``raw_dir/family``."""
    ensure_schema(con)
    load_id = load_id or new_load_id()
    report = FamilyLoadReport(family=family, load_id=load_id)
    files = discover(raw_dir, family)
    current = _current_files(con, family)
    # Only files the warehouse has seen can have rows to replace: skipping the DELETEs for new
    # files keeps a first load linear (each DELETE scans the family's tables).
    seen_before = _files_ever_loaded(con, family)
    present = {f.rel for f in files}
    say = progress or log.info
    prefetch = getattr(loader, "prefetch", None)  # a loader may parse the changed files ahead, in parallel
    if prefetch is not None:
        prefetch([f for f in files if current.get(f.rel) != f.sha256
                  and f.path.suffix.lower() in FAMILY_SUFFIXES[family]])

    for index, f in enumerate(files, start=1):
        if current.get(f.rel) == f.sha256:
            report.unchanged.append(f.rel)
            continue
        say(f"[{family}] {index}/{len(files)} loading {f.rel} ({f.bytes:,} bytes)")
        con.execute("BEGIN TRANSACTION")
        try:
            if f.rel in seen_before:
                _delete_file_rows(con, family, f.rel)
            if f.path.suffix.lower() not in FAMILY_SUFFIXES[family]:
                raise FileRejected(_unsupported_reason(family, f))
            outcome = loader(con, f, load_id)
            outcome.check_accounting(f.rel)
            con.execute("COMMIT")
        except FileRejected as exc:
            con.execute("ROLLBACK")
            outcome = _reject_whole_file(con, load_id, f, str(exc))
        except Exception as exc:  # a loader bug must not stop the other files; it is recorded
            con.execute("ROLLBACK")
            log.exception("loader failed on %s", f.rel)
            outcome = _reject_whole_file(
                con, load_id, f, f"读取失败 (could not read the file): {type(exc).__name__}: {exc}"
            )
        _record(con, load_id, f, outcome)
        (report.rejected if outcome.status == "rejected" else report.loaded).append(f.rel)
        report.rows_in += outcome.rows_in
        report.rows_loaded += outcome.rows_loaded
        report.rows_rejected += outcome.rows_rejected

    for rel in sorted(set(current) - present):
        retire_file(con, family, rel)
        report.retired.append(rel)
    return report


def _unsupported_reason(family: str, f: RawFile) -> str:
    if family in ("budget", "debt"):  # Word/WPS files: say exactly what they are and what to send instead
        from dagster_project.ingest.readers import refused_suffix_reason

        exact = refused_suffix_reason(f.rel, f.path.suffix)
        if exact:
            return exact
    return (f"文件类型 {f.path.suffix or '(无扩展名)'} 不属于 {family}/ 目录可读取的格式 "
            f"{', '.join(FAMILY_SUFFIXES[family])} (unsupported file type for this folder)")


def _reject_whole_file(con, load_id: str, f: RawFile, reason: str) -> FileOutcome:
    # the loader's partial work was rolled back; rows of an earlier version of the file go too
    con.execute("BEGIN TRANSACTION")
    _delete_file_rows(con, f.family, f.rel)
    con.execute("COMMIT")
    con.execute(
        "INSERT INTO raw.load_rejects VALUES (?,?,?,?,NULL,NULL,NULL,NULL,?,false)",
        [load_id, f.family, f.rel, f.sha256, reason],
    )
    return FileOutcome(status="rejected", reason=reason, file_format=_format_of(f.path))


def retire_file(con: duckdb.DuckDBPyConnection, family: str, rel: str) -> None:
    """A file vanished from the raw root: keep its rows for history, flagged, never deleted."""
    now = dt.datetime.now()
    con.execute("BEGIN TRANSACTION")
    for table in FAMILY_TABLES[family]:
        con.execute(f"UPDATE {table} SET is_retired = true WHERE source_file = ?", [rel])
    con.execute("UPDATE raw.load_rejects SET is_retired = true WHERE source_file = ?", [rel])
    con.execute(
        "UPDATE raw.load_files SET status = 'retired', retired_at = ? "
        "WHERE source_file = ? AND is_current",
        [now, rel],
    )
    con.execute("COMMIT")


def insert_rejects(
    con: duckdb.DuckDBPyConnection,
    f: RawFile,
    load_id: str,
    rejects: Iterable[tuple[str | None, int | None, str | None, str | None, str]],
) -> int:
    """Insert row rejects given as (sheet, source_row, source_column, raw_value, reason)."""
    rows = [
        (load_id, f.family, f.rel, f.sha256, sheet, row, column, value, reason, False)
        for sheet, row, column, value, reason in rejects
    ]
    if rows:
        con.executemany("INSERT INTO raw.load_rejects VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
    return len(rows)


__all__ = [
    "FAMILIES", "FAMILY_TABLES", "FileOutcome", "FileRejected", "FamilyLoadReport", "RawFile",
    "discover", "ensure_schema", "insert_rejects", "load_family", "new_load_id", "retire_file",
    "sha256_of", "REPO_ROOT",
]
