"""``cli prepare`` keeps dbt's parse state for the warehouse it parsed for (``parse_state.py``).

dbt's partial-parse state is valid only for the warehouse path it was parsed with; ``dbt/target``'s is that of
whichever warehouse was prepared last. ``prepare`` now seeds its parse with the state kept for the current warehouse
(which the dbt build keeps too) and keeps what dbt wrote there, so a run on one warehouse after a prepare for another
(another deployment, a benchmark, another test) is not a whole parse again. Real dbt, one ``dbt parse``.
"""
from __future__ import annotations

import shutil
from dataclasses import replace

from dagster_project import cli
from dagster_project.paths import DBT_PROJECT_DIR, settings
from dagster_project import parse_state


def test_prepare_keeps_the_parse_state_of_its_warehouse_where_the_dbt_build_seeds_from(tmp_path, monkeypatch):
    monkeypatch.setenv("GONGKAI_WAREHOUSE", str(tmp_path / "w" / "warehouse.duckdb"))
    # prepare's `dbt parse` uses the profile's default target whatever GONGKAI_DBT_TARGET says
    monkeypatch.setenv("GONGKAI_DBT_TARGET", "spark_ci")
    kept = parse_state.state_file(replace(settings(), dbt_target="local"))
    assert not kept.exists()
    assert cli.prepare() == 0
    assert kept.is_file()
    assert not parse_state.state_file().exists()  # nothing under the Spark target's name
    # dbt/target holds the same state, unless another process prepared since: then only its manifest is newer
    written = DBT_PROJECT_DIR / "target" / parse_state.PARTIAL_PARSE_FILE
    assert written.is_file() and kept.stat().st_size > 0
    monkeypatch.setenv("GONGKAI_DBT_TARGET", "local")
    assert parse_state.seed(tmp_path / "invocation")  # what the dbt asset puts into its invocation folder
    assert (tmp_path / "invocation" / parse_state.PARTIAL_PARSE_FILE).read_bytes() == kept.read_bytes()


def _project_copy(tmp_path):
    copy = tmp_path / "dbt"
    for name in parse_state.DBT_CODE_PATHS:
        source = DBT_PROJECT_DIR / name
        if source.is_dir():
            shutil.copytree(source, copy / name)
        elif source.is_file():
            copy.mkdir(exist_ok=True)
            shutil.copyfile(source, copy / name)
    return copy


def test_what_a_parse_depends_on_moves_the_prepared_inputs_and_nothing_else_does(tmp_path):
    project = _project_copy(tmp_path)
    env = {"GONGKAI_WAREHOUSE": "/w/warehouse.duckdb", "GONGKAI_AS_OF": "2026-12-07", "GONGKAI_RAW_DIR": "/raw",
           "PATH": "/bin"}
    first = parse_state.prepared_inputs(env, project)
    # settings no dbt file reads: the same parse
    assert parse_state.prepared_inputs(dict(env, PATH="/usr/bin", GONGKAI_RAW_DIR="/other"), project) == first
    moved = {parse_state.prepared_inputs(dict(env, GONGKAI_WAREHOUSE="/w/other.duckdb"), project),   # the profile's
             parse_state.prepared_inputs(dict(env, GONGKAI_AS_OF="2026-12-08"), project),            # a model's
             parse_state.prepared_inputs(dict(env, DBT_PARTIAL_PARSE="false"), project)}             # dbt's flag
    model = next((project / "models").rglob("*.sql"))
    model.write_text(model.read_text(encoding="utf-8") + "\n-- edited\n", encoding="utf-8")
    edited = parse_state.prepared_inputs(env, project)
    moved.add(edited)
    assert first not in moved and len(moved) == 4
    # a file that starts reading a setting makes that setting part of the parse
    model.write_text(model.read_text(encoding="utf-8") + "-- {{ env_var('GONGKAI_RAW_DIR') }}\n", encoding="utf-8")
    reading = parse_state.prepared_inputs(env, project)
    assert parse_state.prepared_inputs(dict(env, GONGKAI_RAW_DIR="/other"), project) != reading


def test_a_record_holds_only_for_the_manifest_it_was_written_with(tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    manifest = target / parse_state.MANIFEST_FILE
    assert not parse_state.manifest_prepared_for(target, "inputs-a")       # nothing recorded
    manifest.write_text('{"metadata": {"invocation_id": "1"}}', encoding="utf-8")
    parse_state.record_prepared(target, "inputs-a", parse_state.file_digest(manifest))
    assert parse_state.manifest_prepared_for(target, "inputs-a")
    assert not parse_state.manifest_prepared_for(target, "inputs-b")       # other settings or files
    # another process prepared for other inputs since and replaced the manifest: the record no longer describes it
    manifest.write_text('{"metadata": {"invocation_id": "2"}}', encoding="utf-8")
    assert not parse_state.manifest_prepared_for(target, "inputs-a")
    (target / parse_state.PREPARED_RECORD).write_text("not json", encoding="utf-8")
    assert not parse_state.manifest_prepared_for(target, "inputs-a")


def test_a_second_prepare_with_nothing_changed_starts_no_dbt_and_a_changed_setting_parses(tmp_path, monkeypatch):
    """Real dbt. dbt/target is shared with the suite's other workers, whose prepares may replace its manifest between
    two of this test's: then a prepare rightly parses again, so the unchanged case is tried a few times."""
    monkeypatch.setenv("GONGKAI_WAREHOUSE", str(tmp_path / "w" / "warehouse.duckdb"))
    monkeypatch.setenv("GONGKAI_AS_OF", "2026-11-30")
    kept = parse_state.state_file(replace(settings(), dbt_target="local"))
    assert cli.prepare() == 0
    skipped = False
    for _ in range(3):
        parsed = kept.stat().st_ino
        assert cli.prepare() == 0
        if kept.stat().st_ino == parsed:   # keep() replaces the file after every parse: a new inode
            skipped = True
            break
    assert skipped
    monkeypatch.setenv("GONGKAI_AS_OF", "2026-12-01")   # a setting the models read: dbt must parse again
    before = kept.stat().st_ino
    assert cli.prepare() == 0
    assert kept.stat().st_ino != before
