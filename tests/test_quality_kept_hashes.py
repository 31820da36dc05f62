"""Quality's relation hashes kept by dbt generation (``quality/kept_hashes.py``): a relation whose generation did not
move is not hashed again and its unit's fingerprint is what a fresh pass gives; a moved generation re-hashes it; and
nothing kept is served when the generation cannot be trusted — a DuckDB session changed the relation by hand (its
storage mark moved), a hand ``dbt build`` wrote the relation (its post-hook record, the R1 case), raw rows were loaded after the last build (a staging view reads them whenever it is read), or
carrying is off. A small warehouse in the layout the dbt asset leaves (``raw.stage_state``: the dbt stage, its code
digest, the generations), no pipeline run."""
from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from dagster_project import stage_state
from dagster_project.quality import suite_carry
from dagster_project.quality.suites import RuleExpectation, Suite
from dagster_project.transform import generations

AS_OF = dt.date(2026, 12, 6)
CODE = "dbt-code-digest"


def _exp(batch: str, type_: str, suite: str = "s", **extra) -> RuleExpectation:
    return RuleExpectation(suite, "compliance", extra.pop("rule_id", "R1"), "failure", "x", "publisher_code", batch,
                           type_, **extra)


def _suites(tmp_path) -> list[Suite]:
    path = tmp_path / "s.yaml"
    path.write_text("suite: s\n", encoding="utf-8")
    set_based = (
        # slice-local on a pair relation, its denominator a count of a view
        _exp("marts.t", "unexpected_rows", query="select * from {batch} where v < 0", slice="publisher_year",
             evaluated_query="select count(*) from staging.stg_x"),
        # on a staging view over a raw table (whole fingerprint)
        _exp("staging.stg_x", "unexpected_rows", rule_id="R3", query="select * from {batch} where x is null"),
    )
    # column-level on a relation with fiscal_year (key_slices: projected, by year)
    column = (_exp("marts.t", "expect_column_values_to_be_unique", suite="c", rule_id="R2", kwargs={"column": "k"}),)
    return [Suite("s", "compliance", "测试", "test", path, set_based), Suite("c", "integrity", "键", "keys", path, column)]


UNIT_T, UNIT_X, UNIT_K = "s__marts__t", "s__staging__stg_x", "c__marts__t"


def _record_build(con) -> None:
    """What a finished build of the dbt asset leaves: the dbt stage = the fingerprint of the raw files it read."""
    stage_state.record(con, "dbt_code", CODE)
    stage_state.record(con, "dbt", stage_state.stage_fingerprint(con, CODE, AS_OF))


@pytest.fixture()
def warehouse(tmp_path, monkeypatch):
    monkeypatch.delenv("GONGKAI_NO_CARRY", raising=False)
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema raw; create schema staging; create schema marts")
    con.execute("create table raw.load_files (source_file varchar, source_sha256 varchar, status varchar, "
                "load_id varchar, is_current boolean)")
    con.execute("insert into raw.load_files values ('a.xlsx', 'sha-a', 'loaded', 'load-1', true)")
    con.execute("create table raw.x (x integer)")
    con.execute("insert into raw.x select range from range(50)")
    con.execute("create view staging.stg_x as select x from raw.x")
    con.execute("create table marts.t as select '6400' || (range % 3) as publisher_code, 2020 + range % 4 as "
                "fiscal_year, range - 5 as v, range as k from range(200)")
    generations.move(con, ["t", "stg_x"])
    _record_build(con)
    con.close()
    return path


def _inputs(path, tmp_path):
    return suite_carry.unit_inputs(path, _suites(tmp_path), AS_OF)


def _kept_rows(path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("select count(*) from quality.kept_hashes").fetchone()[0]
    finally:
        con.close()


def _fresh(path, tmp_path):
    """The fingerprints and slices a pass that keeps nothing gives (the kept rows dropped)."""
    con = duckdb.connect(str(path))
    con.execute("drop table if exists quality.kept_hashes")
    con.close()
    return _inputs(path, tmp_path)


def _change(path, sql: str, move: list[str] | None = None) -> None:
    con = duckdb.connect(str(path))
    con.execute(sql)
    if move:
        generations.move(con, move)
    con.close()


def _same(a, b) -> bool:
    (fa, sa), (fb, sb) = a, b
    return fa == fb and {u: (s.base, s.slices) for u, s in sa.items()} == {u: (s.base, s.slices) for u, s in sb.items()}


def test_unmoved_generations_are_served_kept_and_equal_a_fresh_pass(warehouse, tmp_path):
    first = _inputs(warehouse, tmp_path)
    assert set(first[0]) == {UNIT_T, UNIT_X, UNIT_K} and all(first[0].values()) and set(first[1]) == {UNIT_T, UNIT_K}
    assert _kept_rows(warehouse) >= 4  # t: slices, projection by year; stg_x: whole, count
    assert _same(_inputs(warehouse, tmp_path), first)
    # what the pipeline writes beside the marts (its records, quality's tables) moves no mark: still served kept
    _change(warehouse, "insert or replace into raw.stage_state values ('probe', 'x', now()); "
            "create table if not exists quality.probe as select 1 as x")
    assert _same(_inputs(warehouse, tmp_path), first) and _kept_rows(warehouse) >= 4


@pytest.mark.parametrize("sessions", [
    ["update marts.t set v = -100 where k = 7"],
    # DuckDB reuses freed blocks: the second checkpointed session can put the segment back where it was recorded
    ["update marts.t set v = v - 1 where k = 7", "update marts.t set v = v - 1 where k = 7"],
])
def test_a_mart_changed_by_hand_is_hashed_again_and_its_unit_judged_again(warehouse, tmp_path, sessions):
    """A DuckDB session changing a mart by hand moves no generation; the relation's storage mark is kept beside it
    (``relation_fingerprint.StorageMarks``), so the kept rows are not served: the unit reading the mart has a new
    fingerprint (GX runs it), the others stay carried, and the values equal a fresh pass."""
    _change(warehouse, "update marts.t set v = v + 1 where k = 7")  # a hand session, then a pass that recorded it
    first = _inputs(warehouse, tmp_path)
    for session in sessions:
        _change(warehouse, session)
    after = _inputs(warehouse, tmp_path)
    assert {u for u in after[0] if after[0][u] != first[0][u]} == {UNIT_T}  # k unchanged: the key unit carried
    assert _same(after, _fresh(warehouse, tmp_path))


def test_a_moved_generation_rehashes_its_relation_only(warehouse, tmp_path):
    first = _inputs(warehouse, tmp_path)
    _change(warehouse, "update marts.t set v = -100 where k = 7", move=["t"])
    second = _inputs(warehouse, tmp_path)
    # the view's unit unchanged (carried); the set-based unit on marts.t re-judged (its touched slice only); the
    # key unit reads k, which did not change
    assert {u for u in second[0] if second[0][u] != first[0][u]} == {UNIT_T}
    touched = {k for k in second[1][UNIT_T].slices if second[1][UNIT_T].slices[k] != first[1][UNIT_T].slices.get(k)}
    assert touched == {"p:64001|2023"}  # k = 7: publisher 6400 || 7 % 3, year 2020 + 7 % 4
    assert _same(second, _fresh(warehouse, tmp_path))


def test_a_hand_dbt_build_is_never_served_kept(warehouse, tmp_path):
    """R1's case: ``dbt build`` by hand rewrote a relation; its post-hook records the invocation
    (``dbt_built:<name>``), the generation did not move. The relation is hashed again, not served."""
    first = _inputs(warehouse, tmp_path)
    _change(warehouse, "update marts.t set v = -100 where k = 7; "
            "insert or replace into raw.stage_state values ('dbt_built:t', 'a-hand-invocation', now())")
    after = _inputs(warehouse, tmp_path)
    assert not _same(after, first)
    assert _same(after, _fresh(warehouse, tmp_path))


def test_raw_rows_loaded_after_the_last_build_are_seen_through_a_view(warehouse, tmp_path):
    """A staging view reads raw tables whenever it is read: a load since the last build changes it without moving
    its generation, so nothing kept is trusted until a build records the raw files it read."""
    first = _inputs(warehouse, tmp_path)
    _change(warehouse, "insert into raw.x values (null); "
            "update raw.load_files set source_sha256 = 'sha-a2', load_id = 'load-2'")
    after = _inputs(warehouse, tmp_path)
    assert after[0][UNIT_X] != first[0][UNIT_X]
    assert _same(after, _fresh(warehouse, tmp_path))
    con = duckdb.connect(str(warehouse))
    _record_build(con)  # a build that read these raw files (and moved the view's generation): trusted again
    generations.move(con, ["stg_x"])
    con.close()
    assert _same(_inputs(warehouse, tmp_path), after)
    assert _kept_rows(warehouse) >= 4


def test_no_carry_hashes_everything(warehouse, tmp_path, monkeypatch):
    _inputs(warehouse, tmp_path)
    # kept rows that no longer say what the relations hold (nothing else can make them stale: every write a build or
    # a hand session makes moves a generation, a record or a mark)
    _change(warehouse, "update quality.kept_hashes set result = replace(result, '1', '2')")
    kept = _inputs(warehouse, tmp_path)[0]
    monkeypatch.setenv("GONGKAI_NO_CARRY", "1")
    plain = suite_carry.unit_inputs(warehouse, _suites(tmp_path), AS_OF)[0]
    monkeypatch.delenv("GONGKAI_NO_CARRY")
    fresh = _fresh(warehouse, tmp_path)[0]
    assert plain == fresh and plain[UNIT_T] != kept[UNIT_T]


@pytest.mark.parametrize("with_generations", [True, False])
def test_the_whole_run_is_not_carried_over_a_mart_changed_by_hand(warehouse, with_generations):
    """``carry.quality_fingerprint`` (the whole run carried when it equals the latest run's) holds the storage marks
    of the relations dbt builds — with a generation, or outside the schemas the pipeline writes itself (a warehouse
    whose dbt build recorded none): a hand session's change moves it — two sessions bringing the segment back where
    it was included — what the pipeline writes beside the marts does not."""
    from dagster_project.quality.carry import quality_fingerprint

    if not with_generations:
        _change(warehouse, f"delete from raw.stage_state where starts_with(stage, '{generations.STAGE_PREFIX}')")
    _change(warehouse, "update marts.t set v = v + 1 where k = 7")
    first = quality_fingerprint(warehouse, AS_OF)
    assert first is not None
    _change(warehouse, "insert or replace into raw.stage_state values ('probe', 'x', now()); "
            "create schema if not exists quality; create table quality.probe as select 1 as x")
    assert quality_fingerprint(warehouse, AS_OF) == first
    _change(warehouse, "update marts.t set v = v - 1 where k = 7")
    _change(warehouse, "update marts.t set v = v - 1 where k = 7")
    assert quality_fingerprint(warehouse, AS_OF) != first


@pytest.mark.parametrize("sessions", [
    [],
    ["update marts.t set v = -100 where k = 7"],
    ["update marts.t set v = v - 1 where k = 7", "update marts.t set v = v - 1 where k = 7"],
])
def test_the_whole_run_marks_handed_to_the_kept_hashes_are_reused_only_over_the_same_file(warehouse, tmp_path, sessions):
    """The quality step takes the storage marks once (``carry.fingerprint_and_marks``) and hands them to the kept
    hashes (``suite_carry.unit_inputs``) on its next connection. A session committing between the two (a hand change
    of a mart, even one that puts the segment back where it was) must not leave the old marks in the kept hashes' key:
    the units equal a fresh pass's, and the unit reading the changed mart is judged again."""
    from dagster_project.quality.carry import fingerprint_and_marks

    _change(warehouse, "update marts.t set v = v + 1 where k = 7")
    first = _inputs(warehouse, tmp_path)  # recorded: kept rows for every relation
    fingerprint, marks = fingerprint_and_marks(warehouse, AS_OF)
    assert fingerprint is not None and marks is not None
    for session in sessions:
        _change(warehouse, session)
    handed = suite_carry.unit_inputs(warehouse, _suites(tmp_path), AS_OF, marks)
    assert _same(handed, _fresh(warehouse, tmp_path))
    assert {u for u in handed[0] if handed[0][u] != first[0][u]} == ({UNIT_T} if sessions else set())
