"""The OCDS input fingerprint (``publish/inputs.py``): the trading marts hashed once per dbt build."""
from __future__ import annotations

import duckdb

from dagster_project import stage_state
from dagster_project.publish.inputs import OCDS_INPUTS_STAGE, ocds_fingerprint


def _warehouse(path):
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema marts; create schema intermediate")
        con.execute("create table marts.fct_trading_bulletins as select 'b' || range as bulletin_key, "
                    "'n' || range as notice_name, timestamp '2026-12-01 01:00' as source_loaded_at from range(1000)")
        con.execute("create table marts.fct_deals as select range as deal_key, "
                    "timestamp '2026-12-01 01:00' as source_loaded_at from range(100)")
        con.execute("create table intermediate.int_records_quarantined (object_key varchar, left_out_of varchar, "
                    "detail varchar)")
    finally:
        con.close()


def _run(path, sql=None, dbt=None):
    con = duckdb.connect(str(path))
    try:
        if sql:
            con.execute(sql)
        if dbt:
            stage_state.record(con, "dbt", dbt)
    finally:
        con.close()


def test_trading_marts_hashed_once_per_dbt_build(tmp_path, monkeypatch):
    monkeypatch.delenv("GONGKAI_NO_CARRY", raising=False)
    warehouse = tmp_path / "w.duckdb"
    _warehouse(warehouse)
    _run(warehouse, dbt="build 1")
    first = ocds_fingerprint(warehouse, "prefix")
    assert ocds_fingerprint(warehouse, "prefix") == first and ocds_fingerprint(warehouse, "other") != first
    # rows changed by hand behind the dbt stage's back, the same build recorded: their storage mark moved
    # (relation_fingerprint.StorageMarks), so they are hashed again and the change is seen
    _run(warehouse, "update marts.fct_trading_bulletins set notice_name = 'x' where bulletin_key = 'b7'")
    second = ocds_fingerprint(warehouse, "prefix")
    assert second != first
    # a new build with the same trading rows: hashed again, the same digest
    _run(warehouse, dbt="build 2")
    assert ocds_fingerprint(warehouse, "prefix") == second
    # another build with the same trading rows (a changed budget figure): the same fingerprint, packages kept
    _run(warehouse, dbt="build 3")
    assert ocds_fingerprint(warehouse, "prefix") == second
    # what is kept is what a fresh hash gives
    _run(warehouse, f"delete from raw.stage_state where stage = '{OCDS_INPUTS_STAGE}'")
    assert ocds_fingerprint(warehouse, "prefix") == second
    # no recorded build (a dbt build under way): hashed every time, nothing kept
    _run(warehouse, "delete from raw.stage_state")
    assert ocds_fingerprint(warehouse, "prefix") == second
    _run(warehouse, "update marts.fct_deals set deal_key = deal_key + 1000 where deal_key = 3")
    assert ocds_fingerprint(warehouse, "prefix") != second
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert con.execute("select count(*) from raw.stage_state").fetchone()[0] == 0
    finally:
        con.close()


def _move(path, names, token):
    from dagster_project.transform import generations

    con = duckdb.connect(str(path))
    try:
        generations.move(con, names, token)
    finally:
        con.close()


def test_trading_marts_not_hashed_again_after_a_build_that_did_not_reach_them(tmp_path, monkeypatch):
    """A corrected budget figure moves the dbt stage's fingerprint but not the trading marts' generations
    (``transform/generations.py``): their digest is kept; a build that reaches one of them hashes again."""
    monkeypatch.delenv("GONGKAI_NO_CARRY", raising=False)
    warehouse = tmp_path / "w.duckdb"
    _warehouse(warehouse)
    ocds = ("fct_trading_bulletins", "fct_deals", "int_records_quarantined")
    _move(warehouse, [*ocds, "fct_budget_lines"], "g1")
    _run(warehouse, dbt="build 1")
    first = ocds_fingerprint(warehouse, "prefix")
    kept = _kept(warehouse, "completed_at")
    # a budget build: new dbt fingerprint, only the budget mart moved: the trading digest is kept (not hashed again)
    _move(warehouse, ["fct_budget_lines"], "g2")
    _run(warehouse, dbt="build 2")
    assert ocds_fingerprint(warehouse, "prefix") == first and _kept(warehouse, "completed_at") == kept
    # rows inserted by hand behind the build's back: fct_deals' storage mark moved, hashed again, the change seen
    _run(warehouse, "insert into marts.fct_deals values (100, null)")
    second = ocds_fingerprint(warehouse, "prefix")
    assert second != first
    # a trading build moves fct_deals: hashed again, the same rows
    _move(warehouse, ["fct_deals"], "g3")
    _run(warehouse, dbt="build 3")
    assert ocds_fingerprint(warehouse, "prefix") == second
    # a relation without a generation (never built since they were kept): keyed by the dbt build as before
    _run(warehouse, "delete from raw.stage_state where stage = 'dbt_generation:fct_deals'", dbt="build 4")
    _run(warehouse, "insert into marts.fct_deals values (101, null)")
    assert ocds_fingerprint(warehouse, "prefix") not in (first, second)
    # a build under way (the dbt stage forgot its fingerprint): hashed whatever the generations say
    _move(warehouse, ocds, "g5")
    _run(warehouse, "delete from raw.stage_state where stage = 'dbt'")
    third = ocds_fingerprint(warehouse, "prefix")
    _run(warehouse, "insert into marts.fct_deals values (102, null)")
    assert ocds_fingerprint(warehouse, "prefix") != third


def test_the_kept_digest_names_the_fingerprint_code(tmp_path, monkeypatch):
    """The OCDS relations' digest is kept with their generations and the code that computed it
    (``relation_fingerprint.py``'s closure): a change to that code hashes the marts again, generations unmoved."""
    import shutil
    from pathlib import Path

    from dagster_project import code_closure

    monkeypatch.delenv("GONGKAI_NO_CARRY", raising=False)
    warehouse = tmp_path / "w.duckdb"
    _warehouse(warehouse)
    _move(warehouse, ("fct_trading_bulletins", "fct_deals", "int_records_quarantined"), "g1")
    _run(warehouse, dbt="build 1")
    first = ocds_fingerprint(warehouse, "prefix")
    kept = _kept(warehouse)
    assert ocds_fingerprint(warehouse, "prefix") == first and _kept(warehouse) == kept  # kept: not hashed
    changed = tmp_path / "changed" / "dagster_project"
    shutil.copytree(code_closure.PACKAGE_DIR, changed, ignore=shutil.ignore_patterns("__pycache__", "specs", "*.yaml"))
    module = changed / "relation_fingerprint.py"
    module.write_text(module.read_text(encoding="utf-8") + "\n\nFINGERPRINT_FORM = 2\n", encoding="utf-8")
    monkeypatch.setattr(code_closure, "PACKAGE_DIR", changed)
    assert ocds_fingerprint(warehouse, "prefix") != first  # the code is part of the fingerprint
    assert _kept(warehouse) != kept  # and the marts were hashed again: kept anew with the new code
    monkeypatch.setattr(code_closure, "PACKAGE_DIR", Path(code_closure.__file__).resolve().parent)


def _kept(path, column: str = "fingerprint"):
    """The OCDS relations' kept digest record (``column``: ``completed_at``, when it was computed and kept)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(f"select {column} from raw.stage_state where stage = ?", [OCDS_INPUTS_STAGE]).fetchone()
    finally:
        con.close()


def test_a_reread_moving_only_provenance_columns_keeps_the_digest(tmp_path, monkeypatch):
    """A plain re-read by changed readers loads the same bytes again, later: ``source_loaded_at`` moves in both trading
    marts and a build reaches them (their generations move), but no column the packages read changes — the digest
    stays, so the OCDS asset is skipped instead of making a new build folder of hard links. A column the packages read
    (a title, a deal's key, a record left out of them) moves it."""
    monkeypatch.delenv("GONGKAI_NO_CARRY", raising=False)
    warehouse = tmp_path / "w.duckdb"
    _warehouse(warehouse)
    ocds = ("fct_trading_bulletins", "fct_deals", "int_records_quarantined")
    _move(warehouse, ocds, "g1")
    _run(warehouse, dbt="build 1")
    first = ocds_fingerprint(warehouse, "prefix")
    _move(warehouse, ocds, "g2")
    _run(warehouse, "update marts.fct_trading_bulletins set source_loaded_at = source_loaded_at + interval 1 hour; "
                    "update marts.fct_deals set source_loaded_at = source_loaded_at + interval 1 hour", dbt="build 2")
    assert ocds_fingerprint(warehouse, "prefix") == first
    seen = {first}
    for step, change in enumerate([
            "update marts.fct_trading_bulletins set notice_name = notice_name || '（更正）' where bulletin_key = 'b7'",
            "update marts.fct_deals set deal_key = deal_key + 1000 where deal_key = 3",
            "insert into intermediate.int_records_quarantined values ('b8', 'ocds', null)"]):
        _move(warehouse, ocds, f"g{step + 3}")
        _run(warehouse, change, dbt=f"build {step + 3}")
        now = ocds_fingerprint(warehouse, "prefix")
        assert now not in seen, change
        seen.add(now)


def test_the_packages_read_no_column_outside_the_digest(tmp_path):
    """The OCDS source over the three relations cut down to ``ocds_columns``, in a warehouse holding nothing else,
    gives the rows it gives over the whole warehouse: a column the packages read but the digest leaves out would fail
    here (missing), and so would a relation outside the digest's three (missing: an error, or other rows where the
    source skips what it cannot find) — the digest could otherwise keep packages a change there should rebuild."""
    from dagster_project.publish.inputs import ocds_columns, qualified
    from dagster_project.publish.masking import MaskingPolicy
    from dagster_project.publish.ocds import ocds_source_sql
    from dagster_project.publish.release import load_spec
    from test_publish_support import build_fixture_warehouse

    whole, cut = tmp_path / "whole.duckdb", tmp_path / "cut.duckdb"
    build_fixture_warehouse(whole)
    build_fixture_warehouse(cut)
    policy = MaskingPolicy.from_spec(load_spec().get("masking") or {})
    con = duckdb.connect(str(cut))
    try:
        if qualified(con, "int_records_quarantined") is None:
            con.execute("create table main_marts.int_records_quarantined as select 'b-none' as object_key, "
                        "'ocds' as left_out_of, 'x' as other")
        for name, columns in ocds_columns().items():
            full = qualified(con, name)
            present = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {full}").fetchall()]
            assert set(present) - set(columns), name  # the cut removes something
            con.execute(f"CREATE TABLE {full}_cut AS SELECT {', '.join(c for c in present if c in columns)} FROM {full}")
            con.execute(f"DROP TABLE {full}")
            con.execute(f"ALTER TABLE {full}_cut RENAME TO {name}")
        others = con.execute("SELECT table_schema, table_name, table_type FROM information_schema.tables "
                             "WHERE table_catalog = current_database()").fetchall()
        for schema, name, kind in others:  # every other relation: the source may read the three only
            if name not in ocds_columns():
                con.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} \"{schema}\".\"{name}\" CASCADE")
        assert {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE "
                                          "table_catalog = current_database()").fetchall()} == set(ocds_columns())
        rows = {}
        for path, c in ((whole, duckdb.connect(str(whole))), (cut, con)):
            try:
                if qualified(c, "int_records_quarantined") is None:
                    c.execute("create table main_marts.int_records_quarantined as select 'b-none' as object_key, "
                              "'ocds' as left_out_of, 'x' as other")
                rows[path] = [sorted(map(str, c.execute(ocds_source_sql(c, policy, masked=masked)).fetchall()))
                              for masked in (False, True)]
                for masked in (False, True):  # what the SQL names, whatever rows it gives on this fixture
                    assert _read_by(c, ocds_source_sql(c, policy, masked=masked)) <= set(ocds_columns()), path
            finally:
                if c is not con:
                    c.close()
    finally:
        con.close()
    assert all(rows[whole]) and rows[whole] == rows[cut]


def _read_by(con, sql: str) -> set[str]:
    """The relations (by name) and table functions (``fn()``) a query reads, from DuckDB's own parse of it."""
    import json

    tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    assert not tree["error"], tree
    found: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, dict):
            if node.get("type") == "BASE_TABLE":
                found.add(node["table_name"])
            elif node.get("type") == "TABLE_FUNCTION":
                found.add(f"{node['function'].get('function_name')}()")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(tree)
    return found
