"""Read unchanged files again when the readers change — a new reading, not a new version of the file.

A file is read when its bytes change (``framework.load_family``, by SHA-256). The readers' version
(``readers_version.version_of``: the ingest code, specs and seeds the family's loader reads with) is recorded per
family in ``raw.stage_state`` (stage ``ingest_readers:<family>``) after each load of the family. When it differs at the next
load, every current file of the family is read again, loaded and rejected alike: a warehouse loaded before a reader
fix would otherwise keep the old reading (a code in scientific notation, a hidden sheet read as a table, a refusal)
until the publisher happened to change the file. The unchanged re-run costs one statement per family (the version
compared); nothing is read again while the version stays the same. The parse cache keys on the same version, so a
re-read never reuses a parse made by the older readers.

What the history keeps (CONTRACTS §2): a re-read is an ordinary load of the same bytes — the earlier reading's rows
are superseded (flagged ``is_retired``, kept with their ``load_id``, never deleted), its ``raw.load_files`` row is no
longer current, and the new load's row carries the same ``source_sha256``. The row accounting
``rows_in = rows_loaded + rows_rejected`` holds for it as for any load. That the bytes are the same is the evidence it
is a re-reading and not a re-publication: ``int_figure_versions`` counts one version per run of loads of the same
bytes (the latest reading stands for it, dated by the first load of those bytes), so ``fct_revisions`` and
REV_SILENT_CORRECTION never list a reader's fix as a publisher's change. A file re-published in the same run as the
readers changed is compared with its earlier bytes as the older readers read them (those bytes are no longer there
to read again): its revisions may include what the readers' change moved, so ``fct_revisions`` marks them
``readers_changed`` when the load moved figures of the same table in the family's re-read files (a stale stamp alone
is no evidence: a deploy re-reads every file, mostly to the same figures). A marked revision cannot be told from the
readers' change and may hide the publisher's: REV_SILENT_CORRECTION still names it, saying a person must look, and the
report marks it; a version read again since shows what it reads as now (``new_amount_now_yuan``).

The version is the family's own (``readers_version.py``): the import closure of its loader's module within
``ingest/`` and the specs and seeds that code names, derived from the code, so a trading-only fix does not re-read the
budgets (nor keep a superseded copy of every trading row for it) while a module every family imports re-reads them all.
"""
from __future__ import annotations

import duckdb

from dagster_project import stage_state

# raw.stage_state key (per family) of the readers' version the family was last loaded with
READERS_STAGE = "ingest_readers"


def readers_stage(family: str) -> str:
    return f"{READERS_STAGE}:{family}"


def files_to_reread(con: duckdb.DuckDBPyConnection, family: str, version: str) -> set[str]:
    """The family's current files (loaded or rejected) when its readers changed since its last load; else none."""
    if stage_state.last_fingerprint(con, readers_stage(family)) == version:
        return set()
    return {r[0] for r in con.execute(
        "SELECT source_file FROM raw.load_files WHERE family = ? AND is_current AND status <> 'retired'",
        [family]).fetchall()}


def record_readers(con: duckdb.DuckDBPyConnection, family: str, version: str) -> None:
    """After the family's load: the readers it was read with."""
    stage_state.record(con, readers_stage(family), version)


__all__ = ["READERS_STAGE", "files_to_reread", "readers_stage", "record_readers"]
