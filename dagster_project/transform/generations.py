"""Which dbt relations a build may have changed: a generation per model and seed, moved before each build that may
write it or what it reads (issue 16).

The dbt stage's fingerprint moves with any raw file, so a consumer keyed by it (the OCDS inputs' digest) hashed the
trading marts again after one corrected budget figure, which does not reach them: ≈ 1 CPU-s at 1 M trading rows
for the same rows. A generation says, per relation, "unchanged since": before a ``selected`` build, every node the
changed families or the moved evaluation date reach (``selection.nodes_fed_by``, views included — a view is not
rebuilt, but it reads what changed) gets the build's new token; every other relation keeps its token. Any other
build (full refresh, whole, Spark) moves every relation; a subset from the UI moves what it builds and the views
reading that (``written_by_subset``). The tokens move *before* dbt runs, so
a build that dies half-way leaves the relations it may have written with a token no consumer has seen.

Only Dagster's dbt asset moves them. A ``dbt build`` run by hand (or by any tool but the asset) is seen by what dbt
itself writes: every model, seed and snapshot has a post-hook (``macros/build_marks.sql``, committed with the
relation) that records ``dbt_built:<relation name>`` = dbt's invocation id; the asset marks its own invocation's
records ``dagster`` once it has run (``adopt``). A record that is not ``dagster`` (``built_outside``) is a relation
written by a build the generations know nothing of: ``of`` answers None for it, the publication and quality carries
do not trust the recorded dbt build, and the next run of the asset rebuilds the project whole — and records a dbt
fingerprint of its own (``transform/assets.py``: the same raw files may now give other marts, a raw table edited by
hand). Relations outside the manifest are forgotten by the asset (``forget_others``). Kept in
``raw.stage_state`` (stages ``dbt_generation:<relation name>``, ``dbt_built:<relation name>``).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any, Iterable, Mapping

import duckdb

from dagster_project.row_inserts import insert_rows
from dagster_project import stage_state
from dagster_project.transform import selection

STAGE_PREFIX = "dbt_generation:"
BUILT_PREFIX = "dbt_built:"  # written by dbt's post-hook (macros/build_marks.sql): the invocation that built it
ADOPTED = "dagster"  # a BUILT_PREFIX record of a build Dagster's dbt asset ran (and moved generations for)
RELATION_TYPES = ("model", "seed", "snapshot")


def relation_names(manifest: Mapping[str, Any], unique_ids: "Iterable[str] | None" = None) -> set[str]:
    """The relation (node) names of ``unique_ids`` that hold rows (models, seeds, snapshots); None: all of them."""
    nodes = manifest["nodes"]
    ids = nodes if unique_ids is None else unique_ids
    return {nodes[uid]["name"] for uid in ids if uid in nodes and nodes[uid]["resource_type"] in RELATION_TYPES}


def reached(manifest: Mapping[str, Any], family_tables: Mapping[str, Iterable[str]], *, mode: str,
            previous_families: "Mapping[str, str] | None", current_families: Mapping[str, str],
            previous_as_of: "str | None", as_of: str) -> set[str]:
    """Names of the relations a whole-project build in ``mode`` (``selection.BuildPlan.mode``, never ``skip``: a
    skipped build moves nothing) may change: for ``selected``, those the changed families or the moved date reach,
    views included; otherwise all. A subset's: ``written_by_subset``."""
    if mode != "selected" or previous_families is None or previous_as_of is None:
        return relation_names(manifest)
    changed = selection.changed_families(previous_families, current_families)
    fed = selection.nodes_fed_by(manifest, family_tables, changed, previous_as_of != as_of)
    return relation_names(manifest, fed.nodes)


def written_by_subset(manifest: Mapping[str, Any], built: Iterable[str]) -> set[str]:
    """Names of the relations a build of only ``built`` (node names: a subset from the UI) may change: those it
    builds and the views that read them, directly or through other views (a view reads its inputs when it is read;
    a table below keeps its rows, unchanged, until a build writes it)."""
    nodes = manifest["nodes"]
    children: dict[str, set[str]] = {}
    for uid, node in nodes.items():
        for parent in node.get("depends_on", {}).get("nodes", []):
            children.setdefault(parent, set()).add(uid)
    wanted = set(built)
    stack = [uid for uid, node in nodes.items() if node["name"] in wanted and node["resource_type"] in RELATION_TYPES]
    found = set(stack)
    while stack:
        for child in children.get(stack.pop(), ()):
            node = nodes[child]
            if child not in found and node["resource_type"] == "model" \
                    and (node.get("config") or {}).get("materialized") == "view":
                found.add(child)
                stack.append(child)
    return relation_names(manifest, found)


def move(con: duckdb.DuckDBPyConnection, names: Iterable[str], token: "str | None" = None) -> str:
    """Give ``names`` a new generation (one token for the build); returns the token."""
    token = token or uuid.uuid4().hex
    names = sorted(set(names))
    if not names:  # a build of tests only (tests without a kept outcome): no relation is written
        return token
    con.execute(stage_state.STATE_DDL)
    now = dt.datetime.now()
    insert_rows(con, "raw.stage_state", [[STAGE_PREFIX + name, token, now] for name in names], or_replace=True)
    return token


class BuildState:
    """``raw.stage_state`` read once: what the dbt asset recorded (the dbt stage's fingerprint, every generation and
    build record) and what consumers kept with it. A consumer deciding for many relations (the release: every
    dataset) takes every answer from this one read — the same answer for all, one scan instead of several per
    relation."""

    def __init__(self, rows: "Mapping[str, str] | None"):
        self.present = rows is not None  # raw.stage_state exists
        self.stages: dict[str, str] = dict(rows or {})
        self.generations = {k[len(STAGE_PREFIX):]: v for k, v in self.stages.items() if k.startswith(STAGE_PREFIX)}
        self._not_adopted = {k[len(BUILT_PREFIX):] for k, v in self.stages.items()
                             if k.startswith(BUILT_PREFIX) and v != ADOPTED}

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection) -> "BuildState":
        if not _has_state(con):
            return cls(None)
        return cls(dict(con.execute("SELECT stage, fingerprint FROM raw.stage_state").fetchall()))

    def built_outside(self, names: "Iterable[str] | None" = None) -> set[str]:
        """``built_outside`` on this state."""
        return self._not_adopted & (set(self.generations) if names is None else set(names))

    def of(self, names: Iterable[str]) -> "str | None":
        """``of`` on this state."""
        wanted = sorted(set(names))
        if not self.present or self.built_outside(wanted):
            return None
        parts = []
        for name in wanted:
            token = self.generations.get(name)
            if token is None:
                return None
            parts.append(f"{name}={token}")
        return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()

    def dbt_build(self, stage: str = "dbt") -> "str | None":
        """The fingerprint the dbt stage recorded after its last whole build (None: none, a build under way, or a
        relation of the project written since by a dbt build Dagster did not run: the record no longer says what the
        marts hold)."""
        if not self.present or self.built_outside():
            return None
        return self.stages.get(stage)


def of(con: duckdb.DuckDBPyConnection, names: Iterable[str]) -> "str | None":
    """One digest of the generations of ``names`` (relation names); None when any has none recorded (never built
    through Dagster's dbt asset since generations were kept, or written since by a build it did not run: unknown)."""
    return BuildState.read(con).of(names)


def _has_state(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw' "
                            "AND table_name = 'stage_state' AND table_catalog = current_database()").fetchone()[0])


def built_outside(con: duckdb.DuckDBPyConnection, names: "Iterable[str] | None" = None) -> set[str]:
    """Relations (of ``names``; None: of the project's — those with a generation, which the dbt asset gives every
    relation of its manifest) last written by a dbt invocation Dagster's dbt asset did not run — a hand ``dbt
    build``, or an asset build that died before it could adopt its records: their generation says nothing. A
    relation the project does not have (a model built by hand on a feature branch, ``dbt run -s scratch_probe``)
    is no relation any consumer reads: it would have kept every carry off, and every build whole, for good."""
    return BuildState.read(con).built_outside(names)


def forget_others(con: duckdb.DuckDBPyConnection, names: Iterable[str]) -> set[str]:
    """Drop the build records and generations of relations not among ``names`` (the manifest's): what the project no
    longer has, or never had (a hand build of a model of another branch), says nothing about what it has. Returns
    the relations forgotten."""
    if not _has_state(con):
        return set()
    keep = set(names)
    stages = [stage for (stage,) in con.execute(
        "SELECT stage FROM raw.stage_state WHERE starts_with(stage, ?) OR starts_with(stage, ?)",
        [BUILT_PREFIX, STAGE_PREFIX]).fetchall()
        if stage.partition(":")[2] not in keep]
    if stages:
        con.execute("DELETE FROM raw.stage_state WHERE stage IN (SELECT unnest(?))", [stages])
    return {stage.partition(":")[2] for stage in stages}


def adopt(con: duckdb.DuckDBPyConnection, invocation_id: "str | None") -> None:
    """Mark the relations dbt invocation ``invocation_id`` built (None: every relation) as built by Dagster's dbt
    asset, after the asset moved their generations (``move``) and the build finished."""
    if not _has_state(con):
        return
    if invocation_id is None:
        con.execute("UPDATE raw.stage_state SET fingerprint = ? WHERE starts_with(stage, ?)", [ADOPTED, BUILT_PREFIX])
    else:
        con.execute("UPDATE raw.stage_state SET fingerprint = ? WHERE starts_with(stage, ?) AND fingerprint = ?",
                    [ADOPTED, BUILT_PREFIX, invocation_id])
