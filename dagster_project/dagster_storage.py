"""Dagster's SQLite instance storage commits without waiting for the disk on every event (issue 16: fixed costs).

A local Dagster instance (``DAGSTER_HOME``, no ``dagster.yaml`` storage settings: ``make run``, the benchmarks) keeps
runs and events in SQLite files in WAL mode, and opens a new connection for every event: one commit in the run's
file, and for an asset or check event one to three more in the index file. Every commit waits for the disk
(SQLite's default ``synchronous=FULL``) and every close of the last connection checkpoints the WAL. A run of the
main job writes hundreds of events — the planned materialisations and checks at run start (≈ 230), an output per
dbt asset and check result, the carried check results of tests not re-run (≈ 130) — so a run that changes one
figure spent most of its fixed cost waiting on ``fsync``: at 1 M trading rows, on a shared machine, the dbt step
of an unchanged run took 13 s of which next to nothing was dbt; measured on this machine 10–25 ms per commit.

In WAL mode ``synchronous=NORMAL`` is SQLite's documented setting for this: the database is never corrupted and
stays consistent across an application crash; only the last transactions before an operating-system crash or a
power loss may be rolled back (https://www.sqlite.org/pragma.html#pragma_synchronous). For Dagster's run history
that is the right trade: what gongkai must keep — loads, test outcomes, quality runs, releases — lives in the
DuckDB warehouse and the published files, not in this log. Only connections to SQLite files in WAL mode under
``DAGSTER_HOME`` are touched (a database in another journal mode, or any other SQLite file, keeps its setting);
``GONGKAI_DAGSTER_SYNC=full`` keeps SQLite's default everywhere.

Measured (the main job's start-up until its first step, on this 2-core machine while two other engineers' jobs ran):
6.3–7.2 s → 4.7–5.0 s in a quiet minute; 22 s → 8 s under heavy disk load, where the ≈ 230 planned events alone
went from 14.1 s to 2.7 s.
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from dagster_project import paths

SYNC_SETTING = "GONGKAI_DAGSTER_SYNC"
# One idle connection per database file, held for the life of the process (see relax_commit); keyed by process too:
# a connection is never used across fork().
_HELD: dict[tuple[int, str], sqlite3.Connection] = {}


def _under_dagster_home(path: str) -> bool:
    home = paths.dagster_instance_dir()
    if home is None or not path:
        return False
    try:
        return Path(path).resolve().is_relative_to(home)
    except (OSError, ValueError):
        return False


def relax_commit(dbapi_connection, _connection_record=None) -> bool:
    """On a new SQLite connection to a WAL database under DAGSTER_HOME: ``synchronous=NORMAL``. True when set."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return False
    if paths.dagster_sync_full():
        return False
    databases = dbapi_connection.execute("PRAGMA database_list").fetchall()
    main = next((row[2] for row in databases if row[1] == "main"), "")
    if not _under_dagster_home(main):
        return False
    if str(dbapi_connection.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
        return False
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")
    if (os.getpid(), main) not in _HELD:
        # Dagster closes its connection after every event; the close of a file's last connection checkpoints the
        # WAL into the database and deletes it (a sync either way), and the next event creates it again. An idle
        # connection held open makes those closes not the last: the WAL is checkpointed as SQLite does by default
        # (every 1 000 pages) and once more when this process ends. It holds no transaction and no lock.
        held = sqlite3.connect(main, check_same_thread=False)
        held.execute("SELECT count(*) FROM sqlite_master").fetchall()  # opens the WAL index: now a reader of the file
        _HELD[(os.getpid(), main)] = held
    return True


def install() -> None:
    """Apply ``relax_commit`` to every new SQLAlchemy connection in this process (Dagster's storages create an
    engine per call, so a listener on the Engine class is the one place that sees them all)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if not event.contains(Engine, "connect", relax_commit):
        event.listen(Engine, "connect", relax_commit)
