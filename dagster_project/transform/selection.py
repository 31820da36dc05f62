"""Which dbt nodes a build must run: those the changed raw inputs feed (issue 16).

A model's table stays right as long as nothing it reads changed. What it reads is in dbt's manifest: its sources
(raw tables written by the loaders, one family each — ``ingest.framework.FAMILY_TABLES``), the seeds and the code
(a change there is a full build, decided elsewhere by the dbt code digest) and the evaluation date (``as_of_date``,
GONGKAI_AS_OF or today). So a build after a load selects the descendants of the changed families' source tables,
plus — when the evaluation date moved — the nodes that call ``as_of_date`` (directly or through another macro) and
their descendants; everything else keeps its table. Views among them are not re-created (``without_views``: a view
reads its inputs when it is read); their tests run.

The load manifest (``raw.load_files``, ``raw.load_rejects``, ``raw.load_blanked_cells``) is written on every load of any family, so every load
changes it. A model that reads it only for the files of some families says so in its YAML
(``config.meta.gongkai.load_manifest_families``); a change of another family does not reach that model through the
manifest (``int_bulletins_deduplicated`` joins the manifest to trading exports: a re-published budget workbook must
not rebuild and re-test the trading chain). A model without the declaration is assumed to read every family's rows.

Which families changed since the last successful build: ``family_digests`` hashes the present rows of
``raw.load_files`` (file, load id, content hash, status) per family; a load, a re-load of a replaced file (a new
load id, even back to earlier bytes) and a retirement each change its family's digest. Pure helpers, unit-tested
without dbt (tests/test_dbt_selection.py).
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from typing import Any, Iterable, Mapping

import duckdb

# Raw tables every family's load writes to (not in FAMILY_TABLES: they belong to no family).
LOAD_MANIFEST_TABLES = ("raw.load_files", "raw.load_rejects", "raw.load_blanked_cells")
EVALUATION_DATE_MACRO = "as_of_date"
META_NAMESPACE = "gongkai"
META_MANIFEST_FAMILIES = "load_manifest_families"
AS_OF = "<as_of>"
# a selected build names every node it keeps or drops: dbt must not add or drop tests by their parents
INDIRECT_SELECTION_ENV = {"DBT_INDIRECT_SELECTION": "empty"}  # the token of a moved evaluation date (never a family name: those are folder names)


def family_digests(con: duckdb.DuckDBPyConnection, families: Iterable[str]) -> dict[str, str]:
    """family -> hash of its present files in ``raw.load_files`` (file, load id, content hash, status)."""
    rows = con.execute(
        "SELECT family, source_file, load_id, source_sha256, status FROM raw.load_files WHERE is_current "
        "ORDER BY family, source_file"
    ).fetchall()
    digests = {family: hashlib.sha256() for family in families}
    for family, *rest in rows:
        digests.setdefault(family, hashlib.sha256()).update("\t".join(map(str, rest)).encode("utf-8") + b"\n")
    return {family: digest.hexdigest() for family, digest in digests.items()}


def changed_families(previous: Mapping[str, str], current: Mapping[str, str]) -> set[str]:
    """Families whose digest differs from that of the last successful build (a family new to either side too)."""
    return {family for family in set(previous) | set(current) if previous.get(family) != current.get(family)}


def _meta(node: Mapping[str, Any]) -> Mapping[str, Any]:
    return (node.get("config") or {}).get("meta") or node.get("meta") or {}


def manifest_families_declared(node: Mapping[str, Any]) -> "frozenset[str] | None":
    declared = (_meta(node).get(META_NAMESPACE) or {}).get(META_MANIFEST_FAMILIES)
    return None if declared is None else frozenset(declared)


def evaluation_date_nodes(manifest: Mapping[str, Any], macro_name: str = EVALUATION_DATE_MACRO) -> set[str]:
    """unique_ids of the nodes (models, tests) whose SQL calls ``macro_name``, directly or through other macros."""
    project = manifest["metadata"]["project_name"]
    target = f"macro.{project}.{macro_name}"
    macros = manifest["macros"]
    if target not in macros:
        raise KeyError(f"{target} is not in the dbt manifest: the evaluation date macro was renamed or removed")
    callers = {target}
    grew = True
    while grew:  # macros calling a caller, to a fixed point
        grew = False
        for uid, macro in macros.items():
            if uid not in callers and callers & set(macro.get("depends_on", {}).get("macros", [])):
                callers.add(uid)
                grew = True
    return {uid for uid, node in manifest["nodes"].items()
            if callers & set(node.get("depends_on", {}).get("macros", []))}


@dataclass(frozen=True)
class Selection:
    """The dbt nodes to build, by unique_id, and why (the tokens that reached each one)."""
    nodes: frozenset[str]
    reasons: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def names(self, manifest: Mapping[str, Any], resource_types: Iterable[str] = ("model", "test", "seed")) -> list[str]:
        """dbt selectors for the nodes (a model's or test's name; names are unique in the project)."""
        kinds = set(resource_types)
        return sorted(manifest["nodes"][uid]["name"] for uid in self.nodes
                      if manifest["nodes"][uid]["resource_type"] in kinds)


def nodes_fed_by(manifest: Mapping[str, Any], family_tables: Mapping[str, Iterable[str]], changed: Iterable[str],
                 as_of_changed: bool = False) -> Selection:
    """Every model and test that reads (through any path) a raw table of a changed family, or the evaluation date
    when it moved. Tokens flow from the sources down the graph: ``(family, via_manifest)``; a model declaring the
    load-manifest families it reads drops the manifest tokens of other families."""
    changed = set(changed)
    table_family = {table: family for family, tables in family_tables.items() for table in tables}
    nodes = manifest["nodes"]
    parents: dict[str, set[str]] = defaultdict(set)
    for uid, node in nodes.items():
        for parent in node.get("depends_on", {}).get("nodes", []):
            parents[uid].add(parent)
    tokens: dict[str, set[tuple[str, bool]]] = defaultdict(set)
    for uid, source in manifest["sources"].items():
        relation = f"{source['schema']}.{source.get('identifier') or source['name']}".lower()
        if relation in LOAD_MANIFEST_TABLES:
            tokens[uid] = {(family, True) for family in changed}
        elif relation in table_family:
            if table_family[relation] in changed:
                tokens[uid] = {(table_family[relation], False)}
        elif changed:  # a raw table no loader family owns: count it changed with any load
            tokens[uid] = {(family, False) for family in changed}
    dated = evaluation_date_nodes(manifest) if as_of_changed else set()
    graph = {uid: parents[uid] for uid in nodes}
    for uid in TopologicalSorter(graph).static_order():
        if uid not in nodes:
            continue
        reached = set().union(*(tokens.get(p, set()) for p in parents[uid])) if parents[uid] else set()
        declared = manifest_families_declared(nodes[uid])
        if declared is not None:
            reached = {(family, via) for family, via in reached if not via or family in declared or family == AS_OF}
        if uid in dated:
            reached.add((AS_OF, False))
        if reached:
            tokens[uid] = reached
    selected = {uid for uid in nodes if tokens.get(uid) and nodes[uid]["resource_type"] in ("model", "test", "seed", "snapshot")}
    return Selection(frozenset(selected), {uid: frozenset(f for f, _ in tokens[uid]) for uid in selected})


def without_views(manifest: Mapping[str, Any], chosen: Selection) -> Selection:
    """The selection less its views. A view holds no rows: it is a stored query that reads its inputs whenever it
    is read, so new raw rows reach it without a rebuild, and re-creating it only re-states the same SQL — one dbt
    node each (≈ 50–100 ms of dbt's per-node work and a catalog write; a budget load selected 9 staging views).
    Only its SQL, which is dbt code, can change a view, and a code change is a full refresh, never a selected
    build. The tests on a view stay selected: what the view returns did change."""
    views = {uid for uid in chosen.nodes if manifest["nodes"][uid]["resource_type"] == "model"
             and (manifest["nodes"][uid].get("config") or {}).get("materialized") == "view"}
    if not views:
        return chosen
    return Selection(chosen.nodes - views, {uid: why for uid, why in chosen.reasons.items() if uid not in views})


@dataclass(frozen=True)
class BuildPlan:
    """What the dbt step does. ``mode``: ``full_refresh`` (every model rebuilt whole), ``whole`` (``dbt build`` of
    everything), ``selected`` (``dbt build --select`` of ``select``), ``skip`` (nothing to build or test)."""
    mode: str
    reason: str
    select: tuple[str, ...] = ()
    selection: "Selection | None" = None

    def exclude_args(self, manifest: Mapping[str, Any]) -> list[str]:
        """``--exclude`` arguments that leave exactly ``select`` of the whole project. dagster-dbt always adds the
        assets' own ``--select fqn:*`` and dbt unions repeated ``--select`` flags, so a selection is passed as the
        complement, with dbt's indirect selection off (``INDIRECT_SELECTION_ENV``): else excluding a seed would
        also drop a selected model's relationship test to it. Unit tests are left out: they test the code, which did
        not change (a code change is a full build, which runs them)."""
        keep = set(self.select)
        drop = sorted(n["name"] for n in manifest["nodes"].values()
                      if n["resource_type"] in ("model", "seed", "snapshot", "test") and n["name"] not in keep)
        return ["--exclude", " ".join(["resource_type:unit_test", *drop])]


def plan_build(manifest: Mapping[str, Any], family_tables: Mapping[str, Iterable[str]], *, full_refresh: bool,
               previous_families: "Mapping[str, str] | None", current_families: Mapping[str, str],
               previous_as_of: "str | None", as_of: str, tests_to_run: Iterable[str] = ()) -> BuildPlan:
    """Decide the build of the whole dbt project from what changed since the last successful build.

    ``previous_families`` None: no per-family state kept yet (a warehouse built before this existed): build
    everything. ``tests_to_run``: unique_ids of tests with no kept outcome (carried_checks): run them even when
    their models are not rebuilt."""
    if full_refresh:
        return BuildPlan("full_refresh", "asked for, first build, or the dbt code/seeds changed since the last build")
    if previous_families is None or previous_as_of is None:
        return BuildPlan("whole", "no record of what the last build read: every model is built once")
    changed = changed_families(previous_families, current_families)
    as_of_moved = previous_as_of != as_of
    selection = without_views(manifest, nodes_fed_by(manifest, family_tables, changed, as_of_moved))
    tests = {uid for uid in tests_to_run if uid in manifest["nodes"]} - selection.nodes
    why = []
    if changed:
        why.append("raw files changed in " + ", ".join(sorted(changed)))
    if as_of_moved:
        why.append(f"evaluation date moved {previous_as_of} -> {as_of}")
    if tests:
        why.append(f"{len(tests)} tests without a kept outcome")
    if not selection.nodes and not tests:
        return BuildPlan("skip", "inputs unchanged since the last successful build", selection=selection)
    names = Selection(selection.nodes | frozenset(tests)).names(manifest)
    return BuildPlan("selected", "; ".join(why), tuple(names), selection)
