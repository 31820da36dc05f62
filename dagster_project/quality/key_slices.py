"""GX's column-level checks over a whole mart, judged on the rows a change can reach (the form 16Q4 wrote down).

A validation unit of column-level expectations (``suite_carry.columns_read``: key uniqueness, not-null, value set)
is fingerprinted by the columns it reads. After one more fiscal year those columns do change — the new year's keys —
so the unit ran whole: GX's uniqueness check over 1.3 M bulletins or every deal. Here the batch is cut into
**slices** by the column its model is rebuilt by (``partition_year``, else ``fiscal_year``), each slice's projection on
the columns read is fingerprinted (count, sum and xor of ``hash()``, the aggregate ``relation_fingerprint`` uses),
and kept per unit in ``quality.unit_slices`` as ``slices.py`` keeps a set-based unit's slices.

When the latest run **passed** every expectation of the unit, under a recorded set of slices with the same base
(unit, suite file, quality code, as-of, batch, columns and their types, slice column), let T be the rows of the
slices whose fingerprint moved (appeared, vanished or changed) and U the rest: U holds exactly the projected rows it
held when the unit passed, as part of a batch that passed. GX then validates the same expectations on the batch
B = T ∪ {u ∈ U : u's key equals the key of a row of T, for some uniqueness expectation}:

- uniqueness on key k: U was unique on k (a subset of a unique batch). A duplicated key v of the whole batch R
  therefore has a row in T, so every row of v is in B; a row of B whose key is in no row of T is a U row whose key
  has no other row in R, so it is flagged neither in B nor in R. The flagged rows of B are those of R.
- not-null, value set (row by row): U's rows passed and did not change; the flagged rows of R are T's, all in B.

So GX's verdict, its unexpected count and its list of unexpected values (50 at most; when there are more, which
50 it lists is whatever order the engine returns, as on the whole batch) are those of the whole batch; the counts
the runner stores (``evaluated``) are still counted over the whole batch. Anything else — no record, a base that
moved, a failed or errored expectation, a slice column of another type, most slices touched — judges the unit
whole. The Data Docs page of such a unit shows GX's statistics of B (its asset is named ``…__touched``).
"""
from __future__ import annotations

import hashlib

import duckdb

from dagster_project.quality.slices import MAX_TOUCHED_SHARE, Touched, UnitSlices, _typed_match, touched_slices
from dagster_project.relation_fingerprint import RelationFingerprints, _quote

# The column each sliced mart is rebuilt by (dbt's partitions): the first of these the batch has.
SLICE_COLUMNS = ("partition_year", "fiscal_year")
KEY_TYPES = {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}


def projected_slices(con: duckdb.DuckDBPyConnection, relations: RelationFingerprints, batch: str,
                     columns: list[str], other: str) -> tuple[str, UnitSlices] | None:
    """(the unit's data fingerprint — exactly ``suite_carry.projection_fingerprint`` of ``columns`` — and its slices
    by the batch's slice column), from one grouped pass; None when the batch has no slice column of integer or text
    type or cannot be read (the caller then fingerprints the projection whole)."""
    if not relations.exists(batch):
        return None
    schema, table = relations._tables[batch]
    relation = f"{_quote(schema)}.{_quote(table)}"
    try:
        types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                 "WHERE table_schema = ? AND table_name = ?", [schema, table]).fetchall())
        column = next((c for c in SLICE_COLUMNS if c in types), None)
        if column is None or _typed_match(column, types[column], set()) is None:
            return None
        described = con.execute(
            f"DESCRIBE SELECT * FROM (SELECT {', '.join(_quote(c) for c in columns)} FROM {relation})").fetchall()
        # the projected row as one struct, hashed as `relation_fingerprint` hashes a projection's rows
        row = "struct_pack(" + ", ".join(f"{_quote(c)} := b.{_quote(c)}" for c in columns) + ")"
        rows = relations.fetch(
            f"SELECT s, count(*), CAST(sum(CAST(h AS HUGEINT)) AS VARCHAR), bit_xor(h) "
            f"FROM (SELECT b.{_quote(column)} AS s, hash({row}) AS h FROM {relation} AS b) GROUP BY s", batch)
    except duckdb.Error:
        return None
    n, total, xor, slices = 0, 0, 0, {}
    for value, count, summed, xored in rows:
        key = "" if value is None else str(value)
        slices["y:" + key] = hashlib.sha256(f"{batch}\n{count}/{summed}/{xored}".encode()).hexdigest()
        n, total, xor = n + count, total + int(summed), xor ^ int(xored)
    whole = RelationFingerprints.whole_fingerprint(batch, described, n, str(total) if rows else None,
                                                   str(xor) if rows else None)
    shape = ";".join(f"{c[0]}:{c[1]}" for c in described)
    base = hashlib.sha256(f"{other}\n{batch}\n{shape}\n{column}:{types[column]}".encode()).hexdigest()
    return "columns:" + whole, UnitSlices(base, slices, column=column, column_type=types[column])


def plan(expectations, before: list[tuple], recorded: UnitSlices | None, now: UnitSlices) -> Touched | None:
    """The touched slices when the unit may be judged on B (module docstring); None when it is judged whole.
    ``before``: the latest run's (expectation id, status, inputs fingerprint) rows of the unit."""
    if sorted(str(b[0]) for b in before) != sorted(e.expectation_id for e in expectations):
        return None
    # a `mostly` verdict is a share of the rows judged: on B it would be a share of other rows
    if any((e.kwargs or {}).get("mostly") is not None for e in expectations):
        return None
    if any(b[1] != "passed" for b in before) or len({b[2] for b in before}) != 1 or before[0][2] is None:
        return None
    if recorded is None or recorded.base != now.base:
        return None
    touched = touched_slices(recorded.slices, now.slices)
    if not touched.years or touched.pairs or len(touched.years) > MAX_TOUCHED_SHARE * len(now.slices):
        return None
    return touched


def batch_query(batch: str, expectations, touched: Touched, column: str, column_type: str,
                columns: list[str]) -> str:
    """B as a query over the batch: the touched slices' rows and the other rows sharing a key with one of them, on
    the ``columns`` the expectations read (GX reads the query's rows whole once: every column of 325 k bulletins
    costs seconds, their keys a fraction of one)."""
    def in_touched(alias: str) -> str:
        return _typed_match(f"{alias}.{_quote(column)}", column_type, touched.years)

    parts = [in_touched("u")]
    for e in expectations:
        if e.type == "expect_column_values_to_be_unique":
            key = _quote(e.kwargs["column"])
            parts.append(f"u.{key} in (select t.{key} from {batch} as t where {in_touched('t')})")
        elif e.type == "expect_compound_columns_to_be_unique":
            same = " and ".join(f"t.{_quote(c)} is not distinct from u.{_quote(c)}" for c in e.kwargs["column_list"])
            parts.append(f"exists (select 1 from {batch} as t where {in_touched('t')} and {same})")
    return f"select {', '.join('u.' + _quote(c) for c in columns)} from {batch} as u where " + " or ".join(parts)
