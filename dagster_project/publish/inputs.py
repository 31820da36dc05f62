"""Publication by input: what each publication reads, by content, so that only what changed is rebuilt.

The dbt stage's fingerprint moves whenever any raw file changes; a publication that reads only some marts must not
be rebuilt for a change it never sees (a corrected budget figure does not touch the OCDS packages, which read the
trading marts only). These fingerprints are built from the relations a publication reads
(``relation_fingerprint``: columns, row count, order-independent row-hash aggregate), the publishing code and the
settings that shape it. ``None`` = unknown, or ``GONGKAI_NO_CARRY=1``: then the publication is rebuilt.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Iterable

import duckdb

from dagster_project import stage_state
from dagster_project.paths import REPO_ROOT, carrying_disabled
from dagster_project.relation_fingerprint import RelationFingerprints, StorageMarks, query_fingerprint

PUBLISH_CODE_PATHS = (REPO_ROOT / "dagster_project" / "publish", REPO_ROOT / "dashboards")
PUBLISH_PACKAGE = "dagster_project.publish"
# what build_ocds reads (ocds.ocds_source_sql): bulletins, deals, the records dbt left out of the packages
OCDS_RELATIONS = ("fct_trading_bulletins", "fct_deals", "int_records_quarantined")
# quarantined records: the ones left out of the packages, by key (ocds.ocds_source_sql's filter)
QUARANTINE_COLUMNS = ("object_key", "left_out_of")
DBT_STAGE = "dbt"  # transform/assets.py: the fingerprint of the last whole dbt build
OCDS_INPUTS_STAGE = "publish_ocds_inputs"


def publishing_modules_digest() -> str:
    """The code publishing runs outside ``publish/``: the import closure of every ``publish/`` module but the Dagster
    assets (which wire the steps and import the dbt asset) within ``dagster_project`` (``code_closure``) — the masking
    and its one definition of a personal number, the privacy scan's, identifiers, relation fingerprints, generations,
    paths. A change to any of them moves every part's fingerprint, the OCDS packages' and the dashboard pages': they
    are rebuilt and scanned again, never carried from a release the old code wrote."""
    from dagster_project import code_closure

    entries = code_closure.package_modules(PUBLISH_PACKAGE, leave_out=(f"{PUBLISH_PACKAGE}.assets",))
    return code_closure.digest(entries, leave_out=(PUBLISH_PACKAGE,))  # publish/ is hashed by its bytes


def relation_code_digest() -> str:
    """How a relation fingerprint is computed (``relation_fingerprint.py`` and what it imports): kept fingerprints and
    the OCDS inputs' digest are kept with it, so a fix to the fingerprint computes them again."""
    from dagster_project import code_closure

    return code_closure.digest(("dagster_project.relation_fingerprint",))[:16]


def publish_data_files(schema_setting: "str | Path | None" = None) -> list[Path]:
    """The data files outside ``publish/`` and ``dashboards/`` that publishing reads (``strace -e openat`` of a
    pipeline run on the sample, wave 15, and the code): the rule catalogue seed (the findings dataset's rule names
    and the dashboards' rule labels: ``release.RULE_CATALOGUE_CSV``) and the OCDS schema the packages are validated
    against (``ocds_validation.schema_dir(schema_setting)``: the run's ``ocds_schema_dir`` / ``--ocds-schema-dir``
    when given, else ``../shared/ocds-1.1.5`` when there, else the copy in ``publish/``) — the schema a run validates
    against is in the fingerprint of what it validated; and the trading spec, whose blank placeholders are the party
    fillers OCDS makes no party of (``ocds_config.party_fillers``, wave 16). ``tests/test_publish_data_files.py`` fails
    when publishing opens another one."""
    from dagster_project.ingest.trading_fields import SPEC_PATH as TRADING_SPEC
    from dagster_project.publish.ocds_validation import schema_dir
    from dagster_project.publish.release import RULE_CATALOGUE_CSV

    return [RULE_CATALOGUE_CSV, schema_dir(schema_setting), TRADING_SPEC]


def publish_data_digest(schema_setting: "str | Path | None" = None) -> str:
    """The bytes of ``publish_data_files``: a change to any of them rebuilds the parts, packages and pages (and so
    scans and validates them again) instead of carrying what the old file gave. The schema folder's place is left
    out (the same bytes elsewhere validate the same)."""
    return stage_state.tree_digest([p for p in publish_data_files(schema_setting) if p.exists()],
                                   suffixes=(".csv", ".json", ".yaml"))


def publish_code_digest(schema_setting: "str | Path | None" = None) -> str:
    """One digest of the publishing code and data: ``publish/`` and ``dashboards/`` by their bytes, the modules
    publishing imports outside them (``publishing_modules_digest``) and the data files it reads
    (``publish_data_digest``, with the run's OCDS schema setting). The Dagster assets' skip gates and every part,
    package and page are keyed by this one digest, so nothing is skipped that a part would have rebuilt."""
    return hashlib.sha256((stage_state.tree_digest(list(PUBLISH_CODE_PATHS), suffixes=(".py", ".yaml", ".yml", ".json"))
                           + publishing_modules_digest() + publish_data_digest(schema_setting)).encode("utf-8")
                          ).hexdigest()


def qualified(con: duckdb.DuckDBPyConnection, table_name: str) -> str | None:
    """``schema.table`` of a relation found by name (``warehouse.find_relation``'s choice), unquoted."""
    rows = [r[0] for r in con.execute(
        "SELECT table_schema FROM information_schema.tables WHERE table_name = ? AND table_catalog = current_database()",
        [table_name]).fetchall()]
    if not rows:
        return None
    rows.sort(key=lambda s: (0 if "mart" in s else 1, s))
    return f"{rows[0]}.{table_name}"


def relations_by_name(relations: RelationFingerprints, con: duckdb.DuckDBPyConnection,
                      names: Iterable[str]) -> str:
    """One digest of relations found by name; a missing one counts as "absent" (what the publication sees too)."""
    parts = []
    for name in sorted(set(names)):
        full = qualified(con, name)
        value = relations.of(full) if full else "absent"
        parts.append(f"{name}={value}")
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def ocds_columns() -> dict[str, tuple[str, ...]]:
    """The columns of each OCDS relation the packages are made of (``ocds.ocds_source_sql`` selects these and nothing
    else; the bulletins' row count is read too, for the quarantine counts): the digest hashes these only, so a
    provenance column (``source_loaded_at``: a plain re-read by changed readers loads the same bytes again, later)
    moves no digest and makes no new build folder when every part is carried."""
    from dagster_project.publish.ocds import BULLETIN_COLUMNS, DEAL_COLUMNS

    return {"fct_trading_bulletins": tuple(BULLETIN_COLUMNS), "fct_deals": (*DEAL_COLUMNS, "fiscal_year"),
            "int_records_quarantined": QUARANTINE_COLUMNS}


def ocds_relations_digest(con: duckdb.DuckDBPyConnection) -> str:
    """One digest of the OCDS relations projected on what the packages read (``ocds_columns``); a missing relation
    counts as "absent"."""
    read = ocds_columns()
    relations = RelationFingerprints(con)
    parts = []
    for name in sorted(read):
        full = qualified(con, name)
        value = "absent"
        if full:
            present = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {full}").fetchall()}
            columns = [c for c in read[name] if c in present]
            value = relations.of_columns(full, columns) if columns else \
                query_fingerprint(con, f"SELECT count(*) AS n FROM {full}")
        parts.append(f"{name}={value}")
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def _dbt_build(con: duckdb.DuckDBPyConnection) -> str | None:
    """The fingerprint the dbt stage recorded after its last whole build (``generations.BuildState.dbt_build``: None
    when none, a build under way, or a relation written since by a dbt build Dagster did not run)."""
    from dagster_project.transform import generations

    return generations.BuildState.read(con).dbt_build(DBT_STAGE)


def _remembered(state, dbt_build: str | None) -> str | None:
    """The OCDS relations' digest last computed on the marts of the dbt build ``dbt_build``, if any (``state``: a
    ``generations.BuildState``)."""
    if dbt_build is None:
        return None
    build, _, data = state.stages.get(OCDS_INPUTS_STAGE, "").rpartition(" ")  # the digest is hex: the build precedes
    return data if build == dbt_build and data else None


def _inputs_key(state, dbt_build: str | None, marks: StorageMarks) -> str | None:
    """What the OCDS relations' digest is kept with: their dbt generations (``transform/generations.py``: unchanged
    while no build could have changed them, so a corrected budget figure keeps them) and storage marks (a change by
    hand moves them: ``relation_fingerprint.StorageMarks``), else the dbt build."""
    if dbt_build is None:  # a build under way or failed: hash what is there
        return None
    moved = state.of(OCDS_RELATIONS)
    stored = marks.of_all(OCDS_RELATIONS)
    return f"generations:{moved}/{stored}/{relation_code_digest()}" if moved else f"{dbt_build}/{stored}"


def _remember(warehouse: Path, dbt_build: str | None, data: str) -> None:
    if dbt_build is None:
        return
    try:
        con = duckdb.connect(str(warehouse))
    except duckdb.Error:  # open read-only elsewhere: computed again next time
        return
    try:
        stage_state.record(con, OCDS_INPUTS_STAGE, f"{dbt_build} {data}")
    finally:
        con.close()


def ocds_fingerprint(warehouse: Path, *settings_parts: str, schema_setting: "str | Path | None" = None) -> str | None:
    """What the OCDS packages are made of: the trading marts' rows (the columns the packages read), the mapping and
    code, the settings.

    The relations' digest is one pass over every row of the trading marts (≈ 1 s at 1 M bulletins); it is kept with
    the dbt generations of the relations it hashed (``transform/generations.py``; the dbt build when one has none)
    in ``raw.stage_state``, stage ``publish_ocds_inputs``, and reused while they are the same and the dbt stage
    records a finished build: the dbt asset forgets its fingerprint before it builds and records it after a whole
    build, and moves the generation of every relation a build may change before dbt runs. So one changed budget
    figure (a new dbt fingerprint, the trading marts not reached) neither hashes the trading rows again nor rebuilds
    the packages; a build that reaches them hashes them again. A ``dbt build`` run by hand leaves the record, but each
    relation it writes records its invocation (``generations.built_outside``): the record is not trusted then, the
    relations are hashed, and the next run of the dbt asset builds whole. ``schema_setting``: the OCDS schema the
    packages are validated against (``publish_code_digest``)."""
    if carrying_disabled() or not warehouse.exists():
        return None
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        if qualified(con, "fct_trading_bulletins") is None:
            return None
        from dagster_project.transform import generations

        state = generations.BuildState.read(con)  # one read: the build, the generations and the kept digest agree
        key = _inputs_key(state, state.dbt_build(DBT_STAGE), StorageMarks(con))
        data = _remembered(state, key)
        if data is None:
            data = ocds_relations_digest(con)
            con.close()
            _remember(warehouse, key, data)
    finally:
        con.close()
    return stage_state.fingerprint("publish_ocds", data, publish_code_digest(schema_setting), *settings_parts)


def latest_findings_sql(con: duckdb.DuckDBPyConnection) -> str | None:
    tables = {r[0] for r in con.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables").fetchall()}
    if not {"quality.findings", "quality.runs"} <= tables:
        return None
    return ("SELECT * FROM quality.findings WHERE run_id = "
            "(SELECT run_id FROM quality.runs ORDER BY started_at DESC LIMIT 1)")


def json_digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def findings_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    """The latest quality run's findings by content (its run id left out: a carried run repeats the same rows)."""
    sql = latest_findings_sql(con)
    return None if sql is None else query_fingerprint(con, sql, exclude=("run_id",))


# ------------------------------------------------------------------ relation fingerprints kept by dbt generation

RELATION_MEMO_STAGE = "relation_fingerprint:"  # raw.stage_state: "<generation> <fingerprint>" per schema.table


class KeptFingerprints:
    """``RelationFingerprints`` whose values are kept with the relation's dbt generation (``transform/generations.py``):
    a relation no build reached since its fingerprint was computed is not hashed again (a corrected budget figure does
    not re-hash the trading marts a dashboard page reads). A relation without a generation (raw, quality), a dbt build
    under way (its stage fingerprint forgotten) or ``GONGKAI_NO_CARRY=1``: computed, as ``RelationFingerprints``.
    A value is kept with the generation, the digest of the code that computed it (``relation_code_digest``) and the
    relation's storage mark (``relation_fingerprint.StorageMarks``: a change by hand moves it):
    ``raw.stage_state`` holds ``"<generation>/<code>/<mark> <fingerprint>"``.
    ``remember`` keeps what was computed (a write connection, after the read-only one is closed)."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        from dagster_project.transform import generations

        self.relations = RelationFingerprints(con)
        self.generations: dict[str, str] = {}
        self.kept: dict[str, str] = {}
        self.computed: dict[str, str] = {}
        self.code = relation_code_digest()
        self.marks = StorageMarks(con)
        if carrying_disabled():
            return
        state = generations.BuildState.read(con)  # one read: the build, the generations and the kept values agree
        if state.dbt_build(DBT_STAGE) is None:
            return
        self.generations = dict(state.generations)
        self.kept = {stage[len(RELATION_MEMO_STAGE):]: value for stage, value in state.stages.items()
                     if stage.startswith(RELATION_MEMO_STAGE)}

    def of(self, name: str) -> str | None:
        relation = name.rpartition(".")[2]
        generation = self.generations.get(relation)
        if generation:  # kept with how it was computed and the storage mark too: a fingerprint code fix or a change by
            generation = f"{generation}/{self.code}/{self.marks.of(relation)}"  # hand computes it again
        kept_generation, _, kept = self.kept.get(name, "").partition(" ")
        if generation and kept and kept_generation == generation:
            return kept
        value = self.relations.of(name)
        if generation and value:
            self.computed[name] = f"{generation} {value}"
        return value

    def remember(self, warehouse: Path) -> None:
        if not self.computed:
            return
        try:
            con = duckdb.connect(str(warehouse))
        except duckdb.Error:  # open read-only elsewhere: computed again next time
            return
        try:
            for name, value in self.computed.items():
                stage_state.record(con, RELATION_MEMO_STAGE + name, value)
        finally:
            con.close()
