"""Dagster's SQLite storage under DAGSTER_HOME commits without a disk sync per event; other SQLite files keep theirs.

Real Dagster instance on SQLite files in a temporary DAGSTER_HOME (dagster_project/dagster_storage.py says why).
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from dagster_project import dagster_storage

NORMAL, FULL = 1, 2  # PRAGMA synchronous values


def _instance_sync(instance) -> int:
    with instance.event_log_storage.index_connection() as conn:
        return conn.execute(sa.text("PRAGMA synchronous")).scalar()


def test_dagster_events_commit_without_sync_and_are_all_kept(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.delenv(dagster_storage.SYNC_SETTING, raising=False)
    import dagster_project.definitions  # noqa: F401 — loading the code location installs the setting

    @dg.asset
    def one():
        return 1

    @dg.asset_check(asset=one, blocking=True)
    def one_is_one():
        return dg.AssetCheckResult(passed=True)

    with dg.DagsterInstance.get() as instance:
        result = dg.materialize([one, one_is_one], instance=instance)
        assert result.success
        assert _instance_sync(instance) == NORMAL
        # every event of the run is stored
        assert instance.get_latest_materialization_event(dg.AssetKey("one")) is not None
        stored = Counter(r.event_log_entry.dagster_event.event_type_value
                         for r in instance.get_records_for_run(result.run_id).records if r.event_log_entry.is_dagster_event)
        emitted = Counter(e.event_type_value for e in result.all_events)
        assert "ASSET_CHECK_EVALUATION" in emitted and all(stored[kind] >= n for kind, n in emitted.items())
        monkeypatch.setenv(dagster_storage.SYNC_SETTING, "full")
        assert _instance_sync(instance) == FULL
    # a SQLite file outside DAGSTER_HOME keeps SQLite's default
    monkeypatch.delenv(dagster_storage.SYNC_SETTING)
    other = sa.create_engine(f"sqlite:///{tmp_path / 'other.db'}")
    with other.connect() as conn:
        conn.execute(sa.text("PRAGMA journal_mode=WAL"))
    with other.connect() as conn:
        assert conn.execute(sa.text("PRAGMA synchronous")).scalar() == FULL
    other.dispose()


def test_one_connection_per_file_for_a_run_and_a_replaced_file_is_reopened(tmp_path, monkeypatch):
    """Dagster's SQLite storages under DAGSTER_HOME keep one engine per file: a run's dozens of events open each file
    once (Dagster's own storage opens a connection, and an engine, for every event) — and a file removed or replaced
    behind a kept connection is opened again, never written through the old inode."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.delenv(dagster_storage.SYNC_SETTING, raising=False)
    import dagster_project.definitions  # noqa: F401 — loading the code location installs the engines

    opened: Counter = Counter()

    def count(dbapi_connection, _record):
        main = next(row[2] for row in dbapi_connection.execute("PRAGMA database_list").fetchall() if row[1] == "main")
        opened[main.rsplit("/", 1)[-1]] += 1

    assets = [dg.AssetSpec(f"a{i}") for i in range(6)]

    @dg.multi_asset(specs=assets, check_specs=[dg.AssetCheckSpec("ok", asset=s.key) for s in assets])
    def many():
        for spec in assets:
            yield dg.MaterializeResult(asset_key=spec.key)
            yield dg.AssetCheckResult(asset_key=spec.key, check_name="ok", passed=True)

    with dg.DagsterInstance.get() as instance:
        assert dg.materialize([many], instance=instance).success  # the instance's files exist from here on
        sa.event.listen(sa.engine.Engine, "connect", count)
        try:
            result = dg.materialize([many], instance=instance)
        finally:
            sa.event.remove(sa.engine.Engine, "connect", count)
        assert result.success
        stored = instance.get_records_for_run(result.run_id, limit=1000).records
        assert len(stored) >= 30  # planned, materialisations, check results, outputs, step and run events
        assert sum(1 for r in stored
                   if r.event_log_entry.dagster_event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION) == 6
        assert all(instance.get_latest_materialization_event(s.key) is not None for s in assets)
    # Dagster's own storage: a connection (and an engine) per transaction — index.db 98 here, the run's file 49, runs.db 20
    assert opened["index.db"] <= 2 and opened[f"{result.run_id}.db"] <= 2 and opened["runs.db"] <= 2, opened

    # a kept connection whose file is replaced: the next transaction opens the new file
    path = home / "storage" / "kept.db"
    engine = dagster_storage._kept_engine_for(f"sqlite:///{path}")
    assert engine is not None
    with engine.connect() as conn, conn.begin():
        conn.execute(sa.text("CREATE TABLE old_file (x INTEGER)"))
    replacement = tmp_path / "replacement.db"
    other = sa.create_engine(f"sqlite:///{replacement}")
    with other.connect() as conn, conn.begin():
        conn.execute(sa.text("CREATE TABLE new_file (x INTEGER)"))
    other.dispose()
    replacement.replace(path)
    for suffix in ("-wal", "-shm"):  # a database is replaced with its write-ahead log (the kept file is in WAL mode)
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    with engine.connect() as conn:
        tables = {row[0] for row in conn.execute(sa.text("SELECT name FROM sqlite_master"))}
    assert tables == {"new_file"}


def test_a_runs_planned_events_are_stored_in_one_transaction_per_file_with_the_same_rows(tmp_path, monkeypatch):
    """Dagster sends a run's planned events as one batch; stored in one transaction per file they give the rows that
    storing them one by one gives (Dagster's default: DAGSTER_EVENT_BATCH_SIZE unset), with a few commits instead of
    ≈ 3 per event."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.delenv(dagster_storage.SYNC_SETTING, raising=False)
    import dagster_project.definitions  # noqa: F401

    assets = [dg.AssetSpec(f"b{i}") for i in range(8)]

    @dg.multi_asset(specs=assets, check_specs=[dg.AssetCheckSpec("ok", asset=s.key, blocking=True) for s in assets])
    def planned_many():
        for spec in assets:
            yield dg.MaterializeResult(asset_key=spec.key)
            yield dg.AssetCheckResult(asset_key=spec.key, check_name="ok", passed=True)

    commits: Counter = Counter()

    def count(conn):
        commits[conn.engine.url.database.rsplit("/", 1)[-1]] += 1

    def stored(instance, run_id) -> dict:
        records = instance.get_records_for_run(run_id, limit=10000).records
        kinds = Counter(r.event_log_entry.dagster_event_type for r in records if r.event_log_entry.is_dagster_event)
        checks = sorted((s.key.to_user_string(), str(r.status), r.run_id == run_id)
                        for s in assets for r in instance.event_log_storage.get_asset_check_execution_history(
                            dg.AssetCheckKey(s.key, "ok"), limit=1))
        planned = {s.key.to_user_string(): instance.event_log_storage.get_latest_planned_materialization_info(s.key).run_id
                   for s in assets}
        return {"kinds": dict(kinds), "checks": checks, "planned_in_this_run": set(planned.values()) == {run_id}}

    outcomes = {}
    with dg.DagsterInstance.get() as instance:
        assert dg.materialize([planned_many], instance=instance).success  # files created
        for batch_size in ("0", dagster_storage.EVENT_BATCH_SIZE):
            monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", batch_size)
            commits.clear()
            sa.event.listen(sa.engine.Engine, "commit", count)
            try:
                job = dg.define_asset_job("planned_job").resolve(asset_graph=dg.Definitions(
                    assets=[planned_many]).get_repository_def().asset_graph)
                run = instance.create_run_for_job(job, run_id=None)
            finally:
                sa.event.remove(sa.engine.Engine, "commit", count)
            outcomes[batch_size] = (dict(commits), stored(instance, run.run_id))
    one_by_one, batched = outcomes["0"], outcomes[dagster_storage.EVENT_BATCH_SIZE]
    assert batched[1] == one_by_one[1] and batched[1]["kinds"][dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED] == 8
    assert batched[1]["planned_in_this_run"]
    # the new run's file: created in WAL mode (before its tables), so its tables were written without a sync each
    run_file = home / "history" / "runs" / f"{run.run_id}.db"
    with sa.create_engine(f"sqlite:///{run_file}").connect() as conn:
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(sa.text("SELECT count(*) FROM sqlite_master WHERE name = 'event_logs'")).scalar() == 1
    # the event files (runs.db holds the run and its snapshots, not events); a new run's file is created with 3 commits
    events_commits = [sum(n for name, n in c.items() if name != "runs.db") for c in (one_by_one[0], batched[0])]
    assert events_commits[0] >= 40 and events_commits[1] <= 4, (one_by_one[0], batched[0])
