"""What a relation holds, as one hash: the work after dbt is redone only where its input relations changed.

Quality (a GX suite) and publication (an OCDS build, a dashboard page) read a handful of the warehouse's relations.
The dbt stage's fingerprint says that *something* changed; this says *what*: a relation's fingerprint is its
columns and types, its row count, and the sum and the xor of DuckDB's ``hash()`` of every row (order-independent,
so a rebuild that writes the same rows in another order is unchanged — the same aggregate ``publish/parts.py``
uses per fiscal-year part). One pass over the relation, no sort: at scale 125 (≈100 k trading rows) every
relation the suites read together costs well under a second (benchmarks: see the issue-16 report).

Quality passes ``kept`` (``quality/kept_hashes.py``): a hashing query over a relation whose dbt generation did not move
is answered with the rows it returned then.

``None`` means unknown (the relation does not exist, or cannot be read): a consumer then does the work.
``GONGKAI_NO_CARRY=1`` (``paths.carrying_disabled``) makes every consumer do the work whatever the fingerprints say.
"""
from __future__ import annotations

import hashlib
import logging
import re
from typing import Iterable

import duckdb

from dagster_project.file_status import identity, status

# `schema.table` as suites and page definitions write them (dbt's schema names: raw, staging, intermediate, …)
QUALIFIED_NAME = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)\b")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class RelationFingerprints:
    """Fingerprints of relations on one open connection, each computed once (a stage asks for many)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, kept=None):
        self.con = con
        self.kept = kept  # quality/kept_hashes.KeptHashes: hashing queries answered by dbt generation (None: run)
        self._memo: dict[str, str | None] = {}
        self._tables = {f"{s}.{t}": (s, t) for s, t in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database()").fetchall()}

    def exists(self, name: str) -> bool:
        return name in self._tables

    def names_in(self, sql: str | None) -> set[str]:
        """The warehouse relations a query text names as ``schema.table``."""
        if not sql:
            return set()
        return {f"{s}.{t}" for s, t in QUALIFIED_NAME.findall(sql) if f"{s}.{t}" in self._tables}

    def fetch(self, sql: str, name: str) -> list[tuple]:
        """The rows of ``sql``, a hashing query that reads relation ``name`` only (kept by its dbt generation when
        ``kept`` is given: the same rows the query returns)."""
        if self.kept is None:
            return self.con.execute(sql).fetchall()
        return self.kept.fetch(self.con, sql, name)

    def of(self, name: str) -> str | None:
        """Fingerprint of ``schema.table`` (a table or a view); None when it does not exist or cannot be read."""
        if name not in self._memo:
            self._memo[name] = self._compute(name)
        return self._memo[name]

    def of_all(self, names: Iterable[str]) -> str | None:
        """One fingerprint for several relations (None when any is unknown)."""
        parts = []
        for name in sorted(set(names)):
            value = self.of(name)
            if value is None:
                return None
            parts.append(f"{name}={value}")
        return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()

    def of_columns(self, name: str, columns: list[str]) -> str | None:
        """Fingerprint of ``schema.table`` projected on ``columns`` (their names and types, the row count, the hash
        aggregate of the projected rows); None when it does not exist or cannot be read. Not memoised."""
        return self._compute(name, columns)

    def _compute(self, name: str, projected: list[str] | None = None) -> str | None:
        if name not in self._tables:
            return None
        schema, table = self._tables[name]
        relation = f"{_quote(schema)}.{_quote(table)}"
        if projected:
            relation = f"(SELECT {', '.join(_quote(c) for c in projected)} FROM {relation})"
        try:
            columns = self.con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
            # the row as one struct: every column hashed, whatever its type
            n, total, xor = self.fetch(
                f"SELECT count(*), CAST(sum(CAST(hash(r) AS HUGEINT)) AS VARCHAR), CAST(bit_xor(hash(r)) AS VARCHAR) "
                f"FROM {relation} AS r", name)[0]
        except duckdb.Error:
            return None
        return self.whole_fingerprint(name, columns, n, total, xor)

    @staticmethod
    def whole_fingerprint(name: str, columns: list[tuple], n: int, total: str | None, xor: str | None) -> str:
        """The fingerprint of a relation from its columns (DESCRIBE rows), row count and hash sum and xor (text,
        None when empty): also what ``quality/slices.py`` derives from a relation's per-slice aggregates."""
        shape = ";".join(f"{c[0]}:{c[1]}" for c in columns)
        return hashlib.sha256(f"{name}\n{shape}\n{n}\n{total}\n{xor}".encode("utf-8")).hexdigest()


def query_fingerprint(con: duckdb.DuckDBPyConnection, sql: str, exclude: Iterable[str] = ()) -> str:
    """Fingerprint of the rows a query returns (order-independent), leaving out the ``exclude`` columns."""
    columns = [c[0] for c in con.execute(f"DESCRIBE SELECT * FROM ({sql})").fetchall() if c[0] not in set(exclude)]
    row = "struct_pack(" + ", ".join(f"{_quote(c)} := q.{_quote(c)}" for c in columns) + ")" if columns else "NULL"
    n, total, xor = con.execute(
        f"SELECT count(*), CAST(sum(CAST(hash({row}) AS HUGEINT)) AS VARCHAR), CAST(bit_xor(hash({row})) AS VARCHAR) "
        f"FROM ({sql}) AS q").fetchone()
    return hashlib.sha256(f"{','.join(columns)}\n{n}\n{total}\n{xor}".encode("utf-8")).hexdigest()


def database_file_state(con: duckdb.DuckDBPyConnection) -> tuple | None:
    """The identity, size and modification time of a read-only connection's database file and of its write-ahead log,
    read while the connection is open: a commit between two readings moves one of them (it appends to the log, or a
    checkpoint writes the file). None — nothing to compare — for a connection that can write (what it wrote and has not
    committed would be in its marks and in no file) or a database in memory."""
    import os

    row = con.execute("SELECT path, readonly FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    if not row or not row[0] or not row[1]:
        return None
    state = [row[0]]
    for path in (row[0], row[0] + ".wal"):
        try:
            st = os.stat(path)
        except FileNotFoundError:
            state.append(None)
            continue
        except OSError:
            return None
        state.append((identity(st), *status(st)))  # file_status: the change time no program sets back
    return tuple(state)


class StorageMarks:
    """What DuckDB stores for a relation, read from its catalogue, its storage metadata and its database file, never
    its rows: a table's columns, row count, column segments (``pragma_storage_info``: each segment's rows, block,
    offset, statistics and whether it holds updates not yet checkpointed) and a digest of the bytes of every block those
    segments use (``storage_blocks.BlockChecksums.digests``); a view's SQL and the marks of the relations it names.

    What is kept by dbt generation (a release part's fingerprints, the OCDS inputs' digest, a dashboard relation's
    fingerprint, quality's kept hashes and its whole-run fingerprint) trusts that a relation changes only through
    Dagster's dbt asset. A DuckDB session changing a mart by hand (``UPDATE``, ``INSERT``, ``DELETE``,
    ``CREATE OR REPLACE``) moves no generation — but it moves the mark: an update is flagged on its segments until a
    checkpoint writes them to other blocks, an insert or delete moves the row count, a replaced table has new segments,
    a constant segment (every row one value: in no block) changed to another constant moves its statistics. DuckDB
    reuses freed blocks, so two checkpointed sessions (or a ``CHECKPOINT`` between two changes) can put a segment back
    in the block, at the offset and with the statistics it had: the digest of the bytes the block holds has moved
    (DuckDB's stored checksum would not always: an xor blind to where a word sits). Where the checksums cannot be proven (module ``storage_blocks``: another file layout, an
    encrypted or in-memory database) or the table holds what is not in its blocks yet (a segment not persistent or with
    updates: a write-ahead log replayed), the rows are hashed instead (the ``RelationFingerprints`` aggregate): never
    a mark that could come back over other rows. A mark that moved without a change (the same rows written again) costs
    one hash downstream. ``of`` is by relation (dbt node) name, as generations are; ``of_all`` reads every table it needs
    in one query.

    ``after``: marks taken earlier on another read-only connection to the same file, whose tables' marks are reused
    when nothing was committed to the file since (``database_file_state``): quality's whole-run fingerprint and its
    kept hashes read the same blocks once, not twice (issue 16)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, after: "StorageMarks | None" = None):
        self.con = con
        # read while ``con`` is open, before any mark: DuckDB's file lock keeps a writer out while a reader is open
        self.file_state = database_file_state(con)
        self._memo: dict[str, str] = {}
        self._relations: dict[str, list[tuple[str, str, str | None]]] = {}  # name -> (schema, name, view SQL)
        for schema, name, sql in con.execute(
                "SELECT schema_name, table_name, NULL FROM duckdb_tables() WHERE database_name = current_database() "
                "UNION ALL SELECT schema_name, view_name, sql FROM duckdb_views() "
                "WHERE database_name = current_database() AND NOT internal").fetchall():
            self._relations.setdefault(name, []).append((schema, name, sql))
        self._tables: dict[tuple[str, str], str] = {}  # (schema, table) -> its mark's text
        self._columns: dict[tuple[str, str], str] | None = None
        self._blocks = None  # storage_blocks.BlockChecksums of the database file, read on first use
        self._file = None  # the database file's (path, encrypted) until its blocks are said not proven
        self.hashed: list[str] = []  # tables whose rows were hashed (their blocks could not say)
        self.reused = after is not None and after.file_state is not None and after.file_state == self.file_state
        if self.reused:  # the same catalogue and blocks: what was read then is what would be read now
            self._memo, self._tables, self._columns = dict(after._memo), dict(after._tables), after._columns
            self._blocks, self._file, self.hashed = after._blocks, after._file, list(after.hashed)

    def of(self, name: str, _seen: frozenset = frozenset()) -> str:
        """The mark of every relation called ``name`` (``absent`` when there is none)."""
        if name in self._memo:
            return self._memo[name]
        self._read_tables([name])
        parts = []
        for schema, table, sql in sorted(self._relations.get(name, []), key=lambda r: r[0]):
            if sql is not None:  # a view: its text and what it reads (``_seen``: a view naming itself)
                named = self._named(sql, name, _seen)
                parts.append(f"{schema}.view:{sql}:" + ",".join(f"{t}={self.of(t, _seen | {name})}" for t in named))
            else:
                parts.append(f"{schema}.table:{self._tables[(schema, table)]}")
        self._memo[name] = hashlib.sha256("\n".join(parts or ["absent"]).encode("utf-8")).hexdigest()
        return self._memo[name]

    def of_all(self, names: Iterable[str]) -> str:
        names = sorted(set(names))
        self._read_tables(names)
        return hashlib.sha256("\n".join(f"{n}={self.of(n)}" for n in names).encode("utf-8")).hexdigest()

    def _named(self, sql: str, name: str, seen: frozenset) -> list[str]:
        return sorted({t for t in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", sql)
                       if t in self._relations and t != name and t not in seen})

    def _closure(self, names: Iterable[str]) -> set[tuple[str, str]]:
        """The tables behind ``names``: themselves, and what their views name, view by view."""
        tables: set[tuple[str, str]] = set()
        todo, seen = list(names), set()
        while todo:
            name = todo.pop()
            if name in seen or name in self._memo:
                continue
            seen.add(name)
            for schema, table, sql in self._relations.get(name, []):
                if sql is None:
                    tables.add((schema, table))
                else:
                    todo.extend(self._named(sql, name, frozenset()))
        return tables

    def _read_tables(self, names: Iterable[str]) -> None:
        """One query for every table behind ``names`` not read yet: its row count, its segments, its blocks."""
        wanted = sorted(t for t in self._closure(names) if t not in self._tables)
        if not wanted:
            return
        if self._columns is None:
            self._columns = {}
            for s, t, columns in self.con.execute(
                    "SELECT schema_name, table_name, string_agg(column_name || ':' || data_type, ';' "
                    "ORDER BY column_index) FROM duckdb_columns() WHERE database_name = current_database() "
                    "GROUP BY ALL").fetchall():
                self._columns[(s, t)] = columns
        selects = []
        for i, (schema, table) in enumerate(wanted):
            relation = f"{_quote(schema)}.{_quote(table)}"
            selects.append(
                f"SELECT {i} AS i, (SELECT count(*) FROM {relation}) AS n, "
                "(SELECT struct_pack(segments := string_agg(concat_ws(',', row_group_id, column_id, column_path, "
                "segment_id, count, persistent, block_id, block_offset, has_updates, CAST(stats AS VARCHAR)), ';' "
                "ORDER BY row_group_id, column_id, column_path, segment_id), "
                "blocks := list_distinct(flatten(list(list_concat([block_id], "
                "coalesce(additional_block_ids, []))))), "
                "in_memory := coalesce(bool_or(NOT persistent OR has_updates), false)) "
                f"FROM pragma_storage_info('{relation.replace(chr(39), chr(39) * 2)}')) AS s")
        for i, rows, storage in self.con.execute(" UNION ALL ".join(selects)).fetchall():
            schema, table = wanted[i]
            blocks = sorted(b for b in storage["blocks"] or [] if b >= 0)  # -1: a constant segment, in no block
            witness = None if storage["in_memory"] else self._checksums(blocks)
            if witness is None:  # what the blocks hold cannot be proven: what the rows hold
                witness = "rows:" + self._rows_hash(schema, table)
                self.hashed.append(f"{schema}.{table}")
            self._tables[(schema, table)] = \
                f"{self._columns.get((schema, table))}|{rows}|{storage['segments']}|{witness}"

    def _checksums(self, blocks: list[int]) -> str | None:
        from dagster_project.storage_blocks import BlockChecksums

        if self._blocks is None:
            path = None
            row = self.con.execute("SELECT path, encrypted FROM duckdb_databases() "
                                   "WHERE database_name = current_database()").fetchone()
            if row and row[0] and not row[1]:
                path = row[0]
            self._blocks = BlockChecksums(path)
            self._file = row[:2] if row and row[0] else None  # (path, encrypted); None: in memory, nothing to say
        sums = self._blocks.digests(blocks)  # not the stored checksums: blind to words exchanged (storage_blocks)
        if sums is None and self._file:  # a database file whose blocks cannot be proven: said once, rows hashed
            logging.getLogger(__name__).warning(
                "storage marks: the blocks of %s are not proven (%s): its tables' rows are hashed instead",
                self._file[0], "an encrypted file" if self._file[1] else "not DuckDB's single-file layout, or damaged")
            self._file = None
        return None if sums is None else "blocks:" + ",".join(f"{b}={c}" for b, c in zip(blocks, sums))

    def _rows_hash(self, schema: str, table: str) -> str:
        total, xor = self.con.execute(
            "SELECT CAST(sum(CAST(hash(r) AS HUGEINT)) AS VARCHAR), CAST(bit_xor(hash(r)) AS VARCHAR) "
            f"FROM {_quote(schema)}.{_quote(table)} AS r").fetchone()
        return f"{total}/{xor}"
