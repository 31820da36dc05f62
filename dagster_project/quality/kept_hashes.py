"""Quality's relation hashes kept by dbt generation: a relation no build reached is not hashed again (issue 16).

Every run that cannot carry the whole quality run fingerprints each validation unit's inputs (``suite_carry``,
``slices``, ``key_slices``): one pass over every row of every relation a unit reads — at 1 M rows mostly trading
relations a corrected budget figure does not reach (``int_deal_timelines_evaluated``, 4.2 M rows; staging views
computed again only to hash them). A dbt **generation** (``transform/generations.py``) says per relation "unchanged
since": a relation whose generation did not move was written by no build since, so a hashing query over it returns
what it returned then. So each hashing query over one relation (``RelationFingerprints.fetch``: the whole or projected
aggregate, the per-slice aggregates, a row count) keeps its result rows in ``quality.kept_hashes`` with the
relation's generation and is answered from there while the generation is the same. The key is the query's text and
DuckDB's version (``hash()`` is DuckDB's): the Python that derives fingerprints from the rows runs every time, so a
change of it needs no invalidation. Values derived are exactly those a fresh pass gives.

A generation is trusted only when all of these hold, else every relation is hashed (as before):

- carrying is not disabled (``GONGKAI_NO_CARRY=1``);
- the dbt stage records a finished build (``transform/assets.py`` forgets it before building) **and** that build read
  exactly the raw files the warehouse holds now and today's evaluation date (the recorded ``dbt`` fingerprint equals
  ``stage_state.stage_fingerprint`` of the current raw inputs, the recorded dbt code digest and the as-of date): a
  staging *view* reads raw tables whenever it is read, so raw rows loaded after the last build would change what it
  returns without moving its generation;
- the relation has a generation and was not written by a dbt build Dagster's asset did not run
  (``generations.built_outside``: a hand ``dbt build``);
- its storage mark (``relation_fingerprint.StorageMarks``: kept beside the generation) is the same: a DuckDB session
  changing it by hand moves no generation, but moves the mark.

Relations dbt does not build (``raw.*``, ``quality.*``) have no generation: always hashed.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import duckdb

from dagster_project import stage_state
from dagster_project.duckdb_memory import capped
from dagster_project.paths import carrying_disabled

DBT_STAGE = "dbt"  # transform/assets.py: the fingerprint of the last finished whole dbt build
DBT_CODE_STAGE = "dbt_code"  # transform/assets.py: the dbt code digest that build ran
DDL = """
CREATE SCHEMA IF NOT EXISTS quality;
CREATE TABLE IF NOT EXISTS quality.kept_hashes (
    relation   VARCHAR NOT NULL,  -- schema.table the query reads
    query_key  VARCHAR NOT NULL,  -- sha256 of the query text and DuckDB's version
    generation VARCHAR NOT NULL,  -- the relation's dbt generation when the rows were read
    result     VARCHAR NOT NULL   -- the query's rows, JSON
);
"""


def trusted_generations(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> dict[str, str]:
    """relation (node) name -> dbt generation, for the relations whose generation says what they hold now (module
    docstring); empty when none does."""
    from dagster_project.transform import generations

    if carrying_disabled():
        return {}
    tables = {r[0] for r in con.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables "
        "WHERE table_catalog = current_database()").fetchall()}
    if not {"raw.stage_state", "raw.load_files"} <= tables:
        return {}
    state = dict(con.execute("SELECT stage, fingerprint FROM raw.stage_state WHERE stage IN (?, ?) "
                             "OR starts_with(stage, ?)",
                             [DBT_STAGE, DBT_CODE_STAGE, generations.STAGE_PREFIX]).fetchall())
    built, code = state.get(DBT_STAGE), state.get(DBT_CODE_STAGE)
    if not built or not code or built != stage_state.stage_fingerprint(con, code, as_of):
        return {}
    outside = generations.built_outside(con)
    return {stage[len(generations.STAGE_PREFIX):]: token for stage, token in state.items()
            if stage.startswith(generations.STAGE_PREFIX) and stage[len(generations.STAGE_PREFIX):] not in outside}


class KeptHashes:
    """Hashing queries' rows kept by the generation of the one relation each reads (on one read connection);
    ``remember`` writes what was computed (a write connection, after the read one is closed)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, as_of: dt.date, marks=None):
        from dagster_project.relation_fingerprint import StorageMarks

        self.generations = trusted_generations(con, as_of)
        # a change by hand moves no generation: the mark is in the key. ``marks``: the whole-run fingerprint's
        # (``carry.fingerprint_and_marks``), reused when the file is as it was then (each block read once per step)
        self.marks = StorageMarks(con, after=marks)
        self.kept: dict[tuple[str, str], tuple[str, str]] = {}
        self.computed: dict[tuple[str, str], tuple[str, str]] = {}
        self.hits = self.misses = 0
        if self.generations and con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'quality' "
                "AND table_name = 'kept_hashes' AND table_catalog = current_database()").fetchone()[0]:
            self.kept = {(r, k): (g, v) for r, k, g, v in con.execute(
                "SELECT relation, query_key, generation, result FROM quality.kept_hashes").fetchall()}

    def generation(self, relation: str) -> str | None:
        """The trusted generation of ``schema.table`` (dbt names a relation after its node) with the relation's storage
        mark (``relation_fingerprint.StorageMarks``: a DuckDB session changing it by hand moves the mark, not the
        generation), None: hash it."""
        node = relation.rpartition(".")[2]
        generation = self.generations.get(node)
        return None if generation is None else f"{generation}/{self.marks.of(node)}"

    def fetch(self, con: duckdb.DuckDBPyConnection, sql: str, relation: str) -> list[tuple]:
        """The rows of ``sql``, a query reading ``relation`` only: kept ones while its generation is the same."""
        generation = self.generation(relation)
        if generation is None:
            return con.execute(sql).fetchall()
        key = hashlib.sha256(f"{duckdb.__version__}\n{sql}".encode("utf-8")).hexdigest()
        kept = self.kept.get((relation, key))
        if kept is not None and kept[0] == generation:
            self.hits += 1
            return [tuple(row) for row in json.loads(kept[1])]
        rows = con.execute(sql).fetchall()
        self.misses += 1
        try:  # integers, text and NULLs (what the hashing queries return) survive JSON exactly; anything else: not kept
            text = json.dumps(rows, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError):
            return rows
        if [tuple(r) for r in json.loads(text)] == rows:
            self.computed[(relation, key)] = (generation, text)
        return rows

    def remember(self, warehouse: Path) -> None:
        if not self.computed:
            return
        try:
            con = capped(duckdb.connect(str(warehouse)))
        except duckdb.Error:  # open elsewhere: computed again next time
            return
        try:
            con.execute(DDL)
            items = sorted(self.computed.items())
            con.execute("begin transaction")
            # one row per relation and query: the generation it was read at replaces any earlier one
            con.execute("DELETE FROM quality.kept_hashes WHERE relation || chr(10) || query_key IN "
                        "(SELECT unnest(?::varchar[]))", [[f"{r}\n{k}" for (r, k), _ in items]])
            con.execute("INSERT INTO quality.kept_hashes SELECT unnest(?::varchar[]), unnest(?::varchar[]), "
                        "unnest(?::varchar[]), unnest(?::varchar[])",
                        [[r for (r, _), _ in items], [k for (_, k), _ in items], [g for _, (g, _) in items],
                         [v for _, (_, v) in items]])
            con.execute("commit")
        finally:
            con.close()
