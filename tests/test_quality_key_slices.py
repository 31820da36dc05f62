"""Column-level checks judged on the rows a change can reach (``quality/key_slices.py``): after a new partition the
batch B = touched slices + the rows sharing a key with them holds exactly the whole batch's duplicated (and null,
out-of-set) rows; the unit's fingerprint is the projection fingerprint it always was; anything not proven runs whole.
Pure DuckDB (GX judging B equal to GX judging the whole batch is measured at 1 M in benchmarks/RESULTS.md, 16Q5)."""
from __future__ import annotations

import duckdb

from dagster_project.quality import key_slices
from dagster_project.quality.suite_carry import projection_fingerprint
from dagster_project.quality.suites import RuleExpectation
from dagster_project.relation_fingerprint import RelationFingerprints

BATCH = "marts.t"


def _exp(type_: str, **kwargs) -> RuleExpectation:
    return RuleExpectation("integrity", "integrity", "INTEG_KEY_UNIQUE", "failure", "x", "publisher_code", BATCH,
                           type_, kwargs=kwargs)


EXPECTATIONS = [_exp("expect_column_values_to_be_unique", column="k"),
                _exp("expect_column_values_to_not_be_null", column="k"),
                _exp("expect_compound_columns_to_be_unique", column_list=["a", "b"])]
COLUMNS = ["a", "b", "k"]


def _slices(con):
    return key_slices.projected_slices(con, RelationFingerprints(con), BATCH, COLUMNS, "unit\nsuite\ncode\nas-of")


def _flagged(con, relation: str) -> dict[str, list]:
    """The rows GX flags, by expectation: duplicated non-null k, null k, duplicated (a, b) not both null."""
    return {
        "unique": con.execute(f"select k, a, b from {relation} where k is not null and k in "
                              f"(select k from {relation} group by k having count(*) > 1) order by all").fetchall(),
        "null": con.execute(f"select k, a, b from {relation} where k is null order by all").fetchall(),
        "compound": con.execute(f"select r.k, r.a, r.b from {relation} r join (select a, b from {relation} "
                                f"where not (a is null and b is null) group by a, b having count(*) > 1) d "
                                f"on r.a is not distinct from d.a and r.b is not distinct from d.b "
                                f"order by all").fetchall(),
    }


def test_the_touched_batch_flags_exactly_the_rows_the_whole_batch_flags():
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(f"create table {BATCH} as select i, 'k' || i as k, case when i % 9 = 0 then null else 'a' || (i % 50) end "
                "as a, i as b, 2017 + i % 3 as partition_year, 'other' as note from range(300) r(i)")
    con.execute(f"insert into {BATCH} values (1000, 'k1000', null, null, 2018, 'x')")  # all-null compound: ignored
    before = _slices(con)
    assert before[0] == projection_fingerprint(RelationFingerprints(con), BATCH, COLUMNS)
    assert set(before[1].slices) == {"y:2017", "y:2018", "y:2019"}
    passed = [(e.expectation_id, "passed", "fp") for e in EXPECTATIONS]

    con.execute(f"update {BATCH} set note = 'changed' where i = 5")  # a column no check reads: nothing touched
    assert _slices(con)[1].slices == before[1].slices

    con.execute(f"""insert into {BATCH} values
        (2001, 'k7', 'new', 1, 2020, ''),        -- duplicates an older key
        (2002, 'k2002', null, 18, 2020, ''),     -- duplicates an older (null, 18) pair
        (2003, 'k2003', 'z', 1, 2020, ''), (2004, 'k2003', 'z', 2, 2020, ''),  -- a duplicate within the new year
        (2005, null, 'y', 5, 2020, ''),          -- a null key
        (2006, 'k2006', null, null, 2020, ''),   -- all-null pair, as row 1000's
        (2007, 'k2007', 'a1', 1, 2020, '')       -- duplicates row 1's pair ('a1', 1)
    """)
    now = _slices(con)
    touched = key_slices.plan(EXPECTATIONS, passed, before[1], now[1])
    assert touched is not None and touched.years == {"2020"}
    query = key_slices.batch_query(BATCH, EXPECTATIONS, touched, now[1].column, now[1].column_type, COLUMNS)
    con.execute(f"create view b as {query}")
    assert [d[0] for d in con.execute(f"describe {query}").fetchall()] == COLUMNS
    assert _flagged(con, "b") == _flagged(con, BATCH)
    assert all(_flagged(con, BATCH).values())  # each kind of failure is present
    assert con.execute("select count(*) from b").fetchone()[0] < con.execute(f"select count(*) from {BATCH}").fetchone()[0] / 2

    # not proven: a failed or errored expectation last time, another base, no record, most slices touched
    assert key_slices.plan(EXPECTATIONS, [(*passed[0][:1], "failed", "fp"), *passed[1:]], before[1], now[1]) is None
    assert key_slices.plan(EXPECTATIONS, passed[1:], before[1], now[1]) is None
    assert key_slices.plan(EXPECTATIONS, passed, None, now[1]) is None
    with_share = [*EXPECTATIONS[:1], _exp("expect_column_values_to_not_be_null", column="k", mostly=0.99)]
    assert key_slices.plan(with_share, [(e.expectation_id, "passed", "fp") for e in with_share], before[1], now[1]) is None
    other = key_slices.projected_slices(con, RelationFingerprints(con), BATCH, COLUMNS, "another suite file")[1]
    assert key_slices.plan(EXPECTATIONS, passed, before[1], other) is None
    con.execute(f"update {BATCH} set k = k || '' where partition_year in (2017, 2018)")  # same values: untouched
    assert key_slices.plan(EXPECTATIONS, passed, before[1], _slices(con)[1]).years == {"2020"}
    con.execute(f"update {BATCH} set b = b + 1000 where partition_year in (2017, 2018)")
    assert key_slices.plan(EXPECTATIONS, passed, before[1], _slices(con)[1]) is None


def test_no_slice_column_fingerprints_the_projection_whole():
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(f"create table {BATCH} as select 'k' || i as k, 'a' as a, i as b from range(10) r(i)")
    assert _slices(con) is None
