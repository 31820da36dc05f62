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
import re
from typing import Iterable

import duckdb

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
