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

**One engine per database file** (issue 16, wave 8). Without the disk sync, what an event cost was Python: Dagster's
SQLite storages build a new SQLAlchemy engine for every connection (``create_engine(..., poolclass=NullPool)``) and
dispose of it after one transaction, so every event opened a new SQLite connection (and ran this module's pragmas on
it), and compiled its INSERT again (SQLAlchemy caches compiled statements per engine); a check result also asked
the index file whether its table exists, through one more engine. An asset check event was four engines. In this
process the event log and run storages under DAGSTER_HOME now keep one engine per file, whose pool keeps its
connection between transactions: the same statements in the same transactions, one connection (and one compile per
statement) per file. A pooled connection is checked against its file on every checkout: a file removed or replaced
(``dagster instance wipe``, a deleted run) gets a new connection, never writes into the old inode. Engines are per
process (never used across ``fork()``) and the least recently used beyond ``ENGINES_KEPT`` are disposed (a UI run
worker reads many runs' files). ``GONGKAI_DAGSTER_SYNC=full`` keeps Dagster's storage exactly as shipped (an engine
and connection per transaction, SQLite's sync).

**The planned events in one transaction per file.** A run starts by logging an event per asset and per check it
plans (≈ 230 in the main job), which Dagster sends as one batch; with ``DAGSTER_EVENT_BATCH_SIZE`` unset (Dagster's
default) a batch is stored event by event, ≈ 3 commits each. This process sets a batch size (``EVENT_BATCH_SIZE``,
unless one is set) and stores a batch with Dagster's own ``store_event`` for each event, inside one transaction on the
run's file and one on the index file (``_event_log_store_event_batch``): the same rows, ≈ 2 commits instead of ≈ 700.
Dagster batches only planned events and the materialisations of several partitions of one asset; if a batch fails,
Dagster stores its events one by one.

**A run's new event file in WAL mode from its first connection** (``_wal_from_the_start``): Dagster creates it, its
tables and indexes with SQLite's default journal and sync, and switches it to WAL after; ≈ 0.4–1 s of disk syncs per
run here, ≈ 0.1 s in WAL mode.
"""
from __future__ import annotations

import os
import sqlite3
import threading
from collections import OrderedDict
from contextlib import ExitStack, contextmanager
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


# Engines kept per process (one per database file: the index and runs files, and the files of the runs in use).
ENGINES_KEPT = 8
_ENGINES: "OrderedDict[tuple[int, str], object]" = OrderedDict()
_ENGINES_LOCK = threading.Lock()
_HOME_FILES: dict[str, bool] = {}  # connection string -> a file under DAGSTER_HOME
_TABLES_SEEN: set[tuple[str, str]] = set()  # (index connection string, table) known to exist


def _file_of(conn_string: str) -> str:
    return conn_string[len("sqlite:///"):] if conn_string.startswith("sqlite:///") else ""


def _kept_engine_for(conn_string: str):
    """This process's engine for a Dagster SQLite file under DAGSTER_HOME; None: use Dagster's own (another file,
    or ``GONGKAI_DAGSTER_SYNC=full``)."""
    if paths.dagster_sync_full():
        return None
    under = _HOME_FILES.get(conn_string)
    if under is None:
        under = _HOME_FILES[conn_string] = _under_dagster_home(_file_of(conn_string))
    if not under:
        return None
    key = (os.getpid(), conn_string)
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is not None:
            _ENGINES.move_to_end(key)
            return engine
        engine = _new_engine(conn_string)
        _ENGINES[key] = engine
        while len(_ENGINES) > ENGINES_KEPT:
            (pid, _), old = _ENGINES.popitem(last=False)
            if pid == os.getpid():
                old.dispose()
        return engine


def _file_identity(path: str) -> "tuple[int, int] | None":
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _new_engine(conn_string: str):
    """A pooled engine (SQLAlchemy's QueuePool, no limit on connections: never waits, as a NullPool never did)."""
    from sqlalchemy import create_engine, event, exc
    from sqlalchemy.pool import QueuePool

    from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS

    path = _file_of(conn_string)
    engine = create_engine(conn_string, poolclass=QueuePool, pool_size=2, max_overflow=-1,
                           connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _remember_file(dbapi_connection, record):
        _wal_from_the_start(dbapi_connection)
        record.info["gongkai_file"] = _file_identity(path)

    @event.listens_for(engine, "checkout")
    def _same_file_and_relaxed(dbapi_connection, record, _proxy):
        identity = _file_identity(path)
        if identity is None or identity != record.info.get("gongkai_file"):
            raise exc.DisconnectionError(f"{path} was removed or replaced")  # the pool opens a new connection
        if not record.info.get("gongkai_relaxed"):
            # a new file is not in WAL mode when its first connection opens (Dagster switches it then): relax once it is
            record.info["gongkai_relaxed"] = relax_commit(dbapi_connection)

    return engine


# Batch size set for Dagster's event batches (planned events) when DAGSTER_EVENT_BATCH_SIZE is unset: a run's plan
# in one batch (the main job plans ≈ 230 events).
EVENT_BATCH_SIZE = "10000"
# (storage id, shard) -> the connection of the batch this thread is storing (``_event_log_store_event_batch``)
_IN_BATCH = threading.local()


def _shard_engine(self, shard: str):
    engine = _kept_engine_for(self.conn_string_for_shard(shard))
    if engine is not None and shard not in self._initialized_dbs:
        self._initdb(engine)
        self._initialized_dbs.add(shard)
    return engine


def _wal_from_the_start(dbapi_connection) -> bool:
    """A new, empty Dagster file (a run's event file, created for every run) is put in WAL mode before Dagster creates
    its tables, not after (Dagster: ``create_all`` then ``PRAGMA journal_mode=WAL``): its ≈ 30 tables and indexes are
    then written without a disk sync per commit (``relax_commit``). Same file in the end: the same tables, in WAL mode.
    Measured 0.4–1.0 s → 0.07–0.1 s per run on this machine's disk. True when switched."""
    if dbapi_connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
        return False
    if str(dbapi_connection.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
        return False
    dbapi_connection.execute("PRAGMA journal_mode=WAL")
    return True


@contextmanager
def _event_log_connect(self, shard: str):
    """``SqliteEventLogStorage._connect`` on this process's engine for the shard's file (Dagster's: a new engine per
    call, disposed after it). Same lock, same first-use initialisation, one transaction per call — or, inside a batch
    this thread is storing, the batch's transaction on that file."""
    batch = getattr(_IN_BATCH, "conns", None)
    if batch is not None and (id(self), shard) in batch:
        yield batch[(id(self), shard)]
        return
    if _kept_engine_for(self.conn_string_for_shard(shard)) is None:
        with _DAGSTER_EVENT_LOG_CONNECT(self, shard) as conn:
            yield conn
        return
    with self._db_lock:
        engine = _shard_engine(self, shard)
        with engine.connect() as conn:
            with conn.begin():
                yield conn


def _event_log_store_event_batch(self, events) -> None:
    """``store_event`` of each event, in one transaction on the run's file and one on the index file (Dagster's base
    class stores them one by one, each in its own transactions). Events of several runs, or files outside
    DAGSTER_HOME: Dagster's way."""
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME

    runs = {event.run_id for event in events}
    if len(runs) != 1 or getattr(_IN_BATCH, "conns", None) is not None or any(
            _kept_engine_for(self.conn_string_for_shard(shard)) is None for shard in (*runs, INDEX_SHARD_NAME)):
        return _DAGSTER_STORE_EVENT_BATCH(self, events)
    (run_id,) = runs
    with self._db_lock, ExitStack() as transactions:
        conns = {}
        # entered run first, index last: the index commits first (transactions end in reverse order), the run's file
        # last — a failed index commit rolls the run's events back. Left open: the index committed and the run's
        # file failing to commit (a full disk); Dagster then stores the batch again event by event, and the index
        # holds those planned events twice (Dagster's own one-by-one path has the same window per event).
        for shard in (run_id, INDEX_SHARD_NAME):
            conn = transactions.enter_context(_shard_engine(self, shard).connect())
            transactions.enter_context(conn.begin())
            conns[(id(self), shard)] = conn
        _IN_BATCH.conns = conns
        try:
            for event in events:
                self.store_event(event)
        finally:
            _IN_BATCH.conns = None


def _event_log_has_table(self, table_name: str) -> bool:
    """``SqliteEventLogStorage.has_table`` (asked before every asset check event) answered once per table that exists
    (a table is never dropped by a run; one that does not exist yet is asked again)."""
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME

    conn_string = self.conn_string_for_shard(INDEX_SHARD_NAME)
    engine = _kept_engine_for(conn_string)
    if engine is None:
        return _DAGSTER_HAS_TABLE(self, table_name)
    if (conn_string, table_name) in _TABLES_SEEN:
        return True
    with engine.connect() as conn:
        found = bool(engine.dialect.has_table(conn, table_name))
    if found:
        _TABLES_SEEN.add((conn_string, table_name))
    return found


@contextmanager
def _run_storage_connect(self):
    """``SqliteRunStorage.connect`` on this process's engine for ``runs.db``."""
    engine = _kept_engine_for(self._conn_string)
    if engine is None:
        with _DAGSTER_RUN_CONNECT(self) as conn:
            yield conn
        return
    with engine.connect() as conn:
        with conn.begin():
            yield conn


_DAGSTER_EVENT_LOG_CONNECT = None
_DAGSTER_HAS_TABLE = None
_DAGSTER_RUN_CONNECT = None
_DAGSTER_STORE_EVENT_BATCH = None


def install() -> None:
    """Apply ``relax_commit`` to every new SQLAlchemy connection in this process (Dagster's storages create an
    engine per call, so a listener on the Engine class is the one place that sees them all), and give Dagster's
    SQLite event log and run storages one kept engine per file (the module docstring says why)."""
    global _DAGSTER_EVENT_LOG_CONNECT, _DAGSTER_HAS_TABLE, _DAGSTER_RUN_CONNECT, _DAGSTER_STORE_EVENT_BATCH
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
    from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage

    if not event.contains(Engine, "connect", relax_commit):
        event.listen(Engine, "connect", relax_commit)
    if _DAGSTER_EVENT_LOG_CONNECT is None:
        _DAGSTER_EVENT_LOG_CONNECT = SqliteEventLogStorage._connect
        _DAGSTER_HAS_TABLE = SqliteEventLogStorage.has_table
        _DAGSTER_RUN_CONNECT = SqliteRunStorage.connect
        _DAGSTER_STORE_EVENT_BATCH = SqliteEventLogStorage.store_event_batch
        SqliteEventLogStorage._connect = _event_log_connect
        SqliteEventLogStorage.has_table = _event_log_has_table
        SqliteRunStorage.connect = _run_storage_connect
        SqliteEventLogStorage.store_event_batch = _event_log_store_event_batch
    if not paths.dagster_sync_full():
        os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", EVENT_BATCH_SIZE)
