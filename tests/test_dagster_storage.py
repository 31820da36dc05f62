"""Dagster's SQLite storage under DAGSTER_HOME commits without a disk sync per event; other SQLite files keep theirs.

Real Dagster instance on SQLite files in a temporary DAGSTER_HOME (dagster_project/dagster_storage.py says why).
"""
from __future__ import annotations

from collections import Counter

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
