"""Skipping an unchanged stage: the fingerprint moves with data, code and date. That the dbt asset skips `dbt build`
when nothing it reads has changed, and builds after a change, is proved through Dagster on a copy of the sample by
test_dbt_subset_runs (its whole run after a new portal row, and the unchanged run after it)."""
from __future__ import annotations

import datetime as dt

import duckdb

from dagster_project import stage_state
from dagster_project.ingest import framework


def _load_files(con, rows):
    framework.ensure_schema(con)
    con.execute("DELETE FROM raw.load_files")
    for rel, sha in rows:
        con.execute(
            "INSERT INTO raw.load_files VALUES ('l', ?, ?, 1, 'portal', 'csv', 'utf-8', NULL, 'loaded', NULL, 1, 1, 0, now(), true, NULL)",
            [rel, sha])


def test_fingerprint_moves_with_data_code_and_date(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        day = dt.date(2026, 1, 5)
        _load_files(con, [("portal/a.csv", "s1")])
        base = stage_state.stage_fingerprint(con, "code-v1", day)
        assert stage_state.stage_fingerprint(con, "code-v1", day) == base
        assert stage_state.stage_fingerprint(con, "code-v2", day) != base
        assert stage_state.stage_fingerprint(con, "code-v1", day + dt.timedelta(days=1)) != base
        assert stage_state.stage_fingerprint(con, "code-v1", day, upstream=["x"]) != base
        _load_files(con, [("portal/a.csv", "s2")])
        assert stage_state.stage_fingerprint(con, "code-v1", day) != base
        assert stage_state.last_fingerprint(con, "dbt") is None
        stage_state.record(con, "dbt", base)
        assert stage_state.last_fingerprint(con, "dbt") == base
        stage_state.forget(con, "dbt")
        assert stage_state.last_fingerprint(con, "dbt") is None
    finally:
        con.close()


def test_tree_digest_sees_content_and_names(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "a.sql").write_text("select 1")
    first = stage_state.tree_digest([tmp_path / "m"])
    (tmp_path / "m" / "a.sql").write_text("select 2")
    second = stage_state.tree_digest([tmp_path / "m"])
    (tmp_path / "m" / "a.sql").rename(tmp_path / "m" / "b.sql")
    assert len({first, second, stage_state.tree_digest([tmp_path / "m"])}) == 3


def test_incremental_dbt_models_are_rebuilt_whole_when_the_code_changed_or_when_asked(gongkai_env, monkeypatch):
    """Incremental models keep rows between builds: a build under other dbt code (or seeds) must be a full refresh."""
    from dagster_project.parse_state import dbt_code_digest
    from dagster_project.transform.assets import DBT_CODE_STAGE, needs_full_refresh

    digest = dbt_code_digest()
    assert needs_full_refresh(digest)  # no warehouse yet: a first build
    con = duckdb.connect(str(gongkai_env.warehouse))
    try:
        stage_state.record(con, DBT_CODE_STAGE, digest)
    finally:
        con.close()
    assert not needs_full_refresh(digest)
    assert needs_full_refresh(stage_state.fingerprint(digest, "a model changed"))
    monkeypatch.setenv("GONGKAI_DBT_FULL_REFRESH", "1")
    assert needs_full_refresh(digest)
