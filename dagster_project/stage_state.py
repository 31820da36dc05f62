"""Skip a stage whose inputs have not changed since it last succeeded.

A stage's fingerprint combines what it reads — the current raw files (path and content hash, from
``raw.load_files``), the code and reference data that define it, the ``as_of`` date, and the
fingerprints of the stages it depends on — so an unchanged re-run costs a hash instead of a rebuild,
while any change to data, code, seeds or date rebuilds. Fingerprints live in ``raw.stage_state``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Callable, Iterable

import duckdb

STATE_DDL = """
CREATE SCHEMA IF NOT EXISTS raw;
CREATE TABLE IF NOT EXISTS raw.stage_state (
    stage        VARCHAR PRIMARY KEY,
    fingerprint  VARCHAR NOT NULL,
    completed_at TIMESTAMP NOT NULL
)
"""


def tree_digest(paths: Iterable[Path], suffixes: tuple[str, ...] = (),
                visit: "Callable[[Path, bytes], None] | None" = None) -> str:
    """Hash of every file (path and bytes) below the given files/folders, in a stable order. ``visit(path, data)``
    sees each file's bytes as they are hashed, for a caller that reads something else from the same files."""
    digest = hashlib.sha256()
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            if suffixes and path.suffix not in suffixes:
                continue
            data = path.read_bytes()
            digest.update(str(path.relative_to(root.parent)).encode("utf-8"))
            digest.update(data)
            if visit is not None:
                visit(path, data)
    return digest.hexdigest()


def raw_inputs_digest(con: duckdb.DuckDBPyConnection) -> str:
    """Hash of the files the warehouse currently holds (retired and rejected files count too), and of the loads that
    read them: the same bytes read again by changed readers (ingest/reread.py) are a new input to what follows."""
    rows = con.execute(
        "SELECT source_file, source_sha256, status, load_id FROM raw.load_files WHERE is_current ORDER BY source_file"
    ).fetchall()
    digest = hashlib.sha256()
    for row in rows:
        digest.update("\t".join(map(str, row)).encode("utf-8") + b"\n")
    return digest.hexdigest()


def fingerprint(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def stage_fingerprint(con: duckdb.DuckDBPyConnection, code_digest: str, as_of: dt.date,
                      upstream: Iterable[str] = ()) -> str:
    return fingerprint(raw_inputs_digest(con), code_digest, as_of.isoformat(), *upstream)


def last_fingerprint(con: duckdb.DuckDBPyConnection, stage: str) -> str | None:
    con.execute(STATE_DDL)
    row = con.execute("SELECT fingerprint FROM raw.stage_state WHERE stage = ?", [stage]).fetchone()
    return row[0] if row else None


def record(con: duckdb.DuckDBPyConnection, stage: str, value: str) -> None:
    con.execute(STATE_DDL)
    con.execute(
        "INSERT OR REPLACE INTO raw.stage_state VALUES (?, ?, ?)", [stage, value, dt.datetime.now()]
    )


def forget(con: duckdb.DuckDBPyConnection, stage: str) -> None:
    """Before a stage rewrites its outputs: a crash half-way must not leave a stale 'unchanged'."""
    con.execute(STATE_DDL)
    con.execute("DELETE FROM raw.stage_state WHERE stage = ?", [stage])
