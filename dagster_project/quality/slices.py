"""GX on the touched slices: a validation unit whose inputs changed in a few publisher-years judges only those.

``suite_carry`` carries a validation unit (one suite's expectations on one batch) whose inputs did not change at
all. When they did — one budget figure of one publisher's 2017 workbook, or one more fiscal year — most of what
the unit judged is still what it judged last time. A set-based expectation may declare in its suite file that it is
**slice-local** (``slice: publisher_year`` or ``slice: year``): each offending row it returns, with its
``publisher_code`` and ``fiscal_year``, depends only on

- the rows of that publisher-year (``publisher_year``) or of that year (``year``) of each relation its query reads
  that has both columns ``publisher_code`` and ``fiscal_year`` (a *pair* relation),
- the rows of that year of each relation it reads that has ``fiscal_year`` but no ``publisher_code`` (a *year*
  relation, e.g. the year's code list),
- and the whole of every other relation it reads (reference tables).

Then, relative to the latest run, only the slices whose rows changed need judging. Per unit this module records
each slice's content (``quality.unit_slices``: per pair-relation publisher-year and per year-relation year, the
count, sum and xor of DuckDB ``hash()`` of the rows — the aggregate ``relation_fingerprint`` uses for a whole
relation) beside everything else the unit depends on (``base``: suite file, quality code, as-of date, the whole
relations by content, the sliced relations' columns). When the base is unchanged, GX judges the same expectation
restricted to the **touched** slices (those whose content moved, appeared or vanished): the batch is filtered to
them and so are the query's rows, in the one query text GX runs and the runner re-runs in DuckDB. The latest run's
finding rows of the untouched slices are copied beside them (same key function, so every row is in exactly one of
the two parts). Counts (``evaluated``, ``insufficient``) are always computed over the whole relation. The result
equals a full evaluation (``tests/test_carry_by_input.py`` compares both after a change that adds one failure and
fixes another). Anything unknown — no record, a base that moved, a column missing, an errored expectation —
means the unit is judged whole. ``GONGKAI_NO_CARRY=1`` judges everything whole.

Relations a unit reads only in its count queries are not part of its slices: counts are never carried.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import duckdb

from dagster_project.relation_fingerprint import RelationFingerprints, _quote

LEVELS = ("publisher_year", "year")
PUBLISHER, YEAR = "publisher_code", "fiscal_year"
# More touched slices than this share of the unit's slices: judging the whole unit costs no more.
MAX_TOUCHED_SHARE = 0.5

DDL = """
CREATE SCHEMA IF NOT EXISTS quality;
CREATE TABLE IF NOT EXISTS quality.unit_slices (
    unit             VARCHAR NOT NULL,  -- validation unit (suite_carry.unit_name)
    unit_fingerprint VARCHAR NOT NULL,  -- the unit's inputs fingerprint stored on its check_runs rows
    base             VARCHAR NOT NULL,  -- what is not sliced: suite file, code, as-of, whole relations, columns
    slice_key        VARCHAR NOT NULL,  -- 'p:<publisher>|<year>' (pair relations) or 'y:<year>' (year relations)
    fingerprint      VARCHAR NOT NULL
);
"""


def pair_key_sql(alias: str = "") -> str:
    a = f"{alias}." if alias else ""
    return f"(coalesce(cast({a}{PUBLISHER} as varchar), '') || '|' || coalesce(cast({a}{YEAR} as varchar), ''))"


def year_key_sql(alias: str = "") -> str:
    a = f"{alias}." if alias else ""
    return f"coalesce(cast({a}{YEAR} as varchar), '')"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass
class Touched:
    """The slices a unit judges this run: publisher-years (``p|y``) and whole years."""
    pairs: set[str] = field(default_factory=set)
    years: set[str] = field(default_factory=set)

    def all_years(self) -> set[str]:
        return self.years | {p.rsplit("|", 1)[1] for p in self.pairs}

    def condition(self, level: str, alias: str = "") -> str:
        """SQL true for a row (of a relation or of the query's result) in a touched slice at ``level``."""
        if level == "year":
            years = sorted(self.all_years())
            return f"{year_key_sql(alias)} in ({', '.join(map(_literal, years))})" if years else "false"
        parts = []
        if self.pairs:
            parts.append(f"{pair_key_sql(alias)} in ({', '.join(map(_literal, sorted(self.pairs)))})")
        if self.years:
            parts.append(f"{year_key_sql(alias)} in ({', '.join(map(_literal, sorted(self.years)))})")
        return "(" + " or ".join(parts) + ")" if parts else "false"

    def scan_condition(self, level: str, types: dict[str, str]) -> str:
        """``condition(level)`` for a relation whose column types are ``types`` (name -> DuckDB type), written on the
        columns themselves so that DuckDB filters the scan by their statistics (a new year's rows are a quarter of
        5.6 M timeline rows: the key-string form casts and concatenates every row, ≈ 20× slower). True for exactly
        the same rows, never NULL; the key-string form where a column's type has no such form."""
        publisher = _typed_match(PUBLISHER, types.get(PUBLISHER), set())
        year = _typed_match(YEAR, types.get(YEAR), set())
        if year is None or (level != "year" and publisher is None):
            return self.condition(level)
        if level == "year":
            return _typed_match(YEAR, types[YEAR], self.all_years())
        by_year: dict[str, set[str]] = {}
        for pair in self.pairs:
            publisher_key, year_key = pair.rsplit("|", 1)
            by_year.setdefault(year_key, set()).add(publisher_key)
        parts = [f"({_typed_match(YEAR, types[YEAR], {y})} and {_typed_match(PUBLISHER, types[PUBLISHER], ps)})"
                 for y, ps in sorted(by_year.items())]
        if self.years:
            parts.append(_typed_match(YEAR, types[YEAR], self.years))
        return "(" + " or ".join(parts) + ")" if parts else "false"

    def describe(self) -> str:
        return ", ".join(sorted(self.pairs) + [f"year {y}" for y in sorted(self.years)])


_INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}


def _typed_match(column: str, type_: str | None, keys: set[str]) -> str | None:
    """SQL true exactly when ``coalesce(cast(column as varchar), '')`` is one of ``keys``, never NULL, as comparisons
    of the column with constants; None for a column type other than text or integer. An integer's text is its
    canonical decimal, so a key that is not one matches no value; '' is NULL (and, for text, the empty string)."""
    if type_ not in _INTEGER_TYPES and type_ != "VARCHAR":
        return None
    if type_ == "VARCHAR":
        literals = [_literal(k) for k in sorted(keys)]
    else:
        literals = [k for k in sorted(keys) if k.lstrip("-").isdigit() and str(int(k)) == k]
    parts = [f"{column} is null"] if "" in keys else []
    if literals:
        parts.append(f"({column} is not null and {column} in ({', '.join(literals)}))")
    return "(" + " or ".join(parts) + ")" if parts else "false"


def restricted_query(query: str, level: str, touched: Touched, batch_has_columns: bool,
                     batch_types: dict[str, str] | None = None) -> str:
    """The expectation's query judging only the touched slices: its rows filtered to them, and its batch too when
    the batch has the slice columns (rows of other slices cannot reach a touched slice's result). The batch's filter
    is written on its typed columns (``scan_condition``) when ``batch_types`` are known."""
    if batch_has_columns:
        where = touched.scan_condition(level, batch_types) if batch_types else touched.condition(level)
        query = query.replace("{batch}", f"(select * from {{batch}} where {where})")
    return f"select * from (\n{query}\n) sliced where {touched.condition(level, 'sliced')}"


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


class SliceFingerprints:
    """Per-slice content of relations on one open connection, each relation read once. Also fills the whole-relation
    fingerprints of ``relations`` for the relations it reads (same value ``RelationFingerprints`` computes)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, relations: RelationFingerprints):
        self.con, self.relations = con, relations
        self._columns: dict[str, list[tuple]] = {}
        self._slices: dict[str, dict[str, str] | None] = {}

    def columns(self, name: str) -> list[tuple]:
        if name not in self._columns:
            schema, table = self.relations._tables[name]
            self._columns[name] = self.con.execute(
                f"DESCRIBE SELECT * FROM {_quote(schema)}.{_quote(table)}").fetchall()
        return self._columns[name]

    def level(self, name: str) -> str | None:
        """'pair', 'year' or None (read whole) for a relation."""
        cols = {c[0] for c in self.columns(name)}
        if {PUBLISHER, YEAR} <= cols:
            return "pair"
        return "year" if YEAR in cols else None

    def slices(self, name: str) -> dict[str, str] | None:
        """slice key -> content fingerprint of a pair or year relation (None: unreadable)."""
        if name in self._slices:
            return self._slices[name]
        level = self.level(name)
        schema, table = self.relations._tables[name]
        relation = f"{_quote(schema)}.{_quote(table)}"
        keys = f"{PUBLISHER}, {YEAR}" if level == "pair" else YEAR
        try:
            rows = self.relations.fetch(
                f"SELECT {keys}, count(*), CAST(sum(CAST(hash(r) AS HUGEINT)) AS VARCHAR), bit_xor(hash(r)) "
                f"FROM {relation} AS r GROUP BY ALL", name)
        except duckdb.Error:
            self._slices[name] = None
            return None
        grouped: dict[str, list[str]] = {}
        n, total, xor = 0, 0, 0
        for row in rows:
            if level == "pair":
                publisher, year, count, summed, xored = row
                key = f"p:{'' if publisher is None else publisher}|{'' if year is None else year}"
            else:
                year, count, summed, xored = row
                key = f"y:{'' if year is None else year}"
            grouped.setdefault(key, []).append(f"{count}/{summed}/{xored}")
            n, total, xor = n + count, total + int(summed), xor ^ int(xored)
        out = {k: hashlib.sha256(f"{name}\n{';'.join(sorted(v))}".encode()).hexdigest() for k, v in grouped.items()}
        self._slices[name] = out
        # the whole relation's fingerprint, as relation_fingerprint computes it (sum and xor over the groups)
        self.relations._memo.setdefault(name, self.relations.whole_fingerprint(
            name, self.columns(name), n, str(total) if rows else None, str(xor) if rows else None))
        return out


@dataclass
class UnitSlices:
    base: str
    slices: dict[str, str]
    column: str | None = None       # a column-level unit's slice column (``key_slices.py``; in ``base`` too)
    column_type: str | None = None


def unit_slices(sf: SliceFingerprints, query_relations: set[str], other: str) -> UnitSlices | None:
    """The base and slices of a unit whose slice-local queries read ``query_relations``; ``other`` = suite file,
    code and as-of. None when a relation cannot be read."""
    base_parts, slices = [other], {}
    for name in sorted(query_relations):
        level = sf.level(name)
        if level is None:
            whole = sf.relations.of(name)
            if whole is None:
                return None
            base_parts.append(f"{name}={whole}")
            continue
        base_parts.append(f"{name}:{level}:" + ";".join(f"{c[0]}:{c[1]}" for c in sf.columns(name)))
        per_slice = sf.slices(name)
        if per_slice is None:
            return None
        for key, value in per_slice.items():
            slices.setdefault(key, []).append(value)
    return UnitSlices(hashlib.sha256("\n".join(base_parts).encode()).hexdigest(),
                      {k: hashlib.sha256("|".join(sorted(v)).encode()).hexdigest() for k, v in slices.items()})


def touched_slices(before: dict[str, str], now: dict[str, str]) -> Touched:
    touched = Touched()
    for key in set(before) | set(now):
        if before.get(key) != now.get(key):
            (touched.pairs if key.startswith("p:") else touched.years).add(key[2:])
    return touched


def recorded(con: duckdb.DuckDBPyConnection, unit: str, unit_fingerprint: str) -> UnitSlices | None:
    rows = con.execute("select base, slice_key, fingerprint from quality.unit_slices where unit = ? and "
                       "unit_fingerprint = ?", [unit, unit_fingerprint]).fetchall()
    if not rows or len({r[0] for r in rows}) != 1:
        return None
    return UnitSlices(rows[0][0], {r[1]: r[2] for r in rows})


def record(con: duckdb.DuckDBPyConnection, unit: str, unit_fingerprint: str, now: UnitSlices) -> None:
    """Keep the unit's slices as judged under ``unit_fingerprint`` (one record per unit: the latest)."""
    con.execute("delete from quality.unit_slices where unit = ?", [unit])
    keys = sorted(now.slices)
    # one statement for all slices: ``executemany`` runs one INSERT per row (≈ 0.5 s per unit of a few hundred)
    con.execute("insert into quality.unit_slices select ?, ?, ?, s.slice_key, s.fingerprint "
                "from (select unnest(?::varchar[]) as slice_key, unnest(?::varchar[]) as fingerprint) s",
                [unit, unit_fingerprint, now.base, keys, [now.slices[k] for k in keys]])
