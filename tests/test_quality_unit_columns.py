"""A validation unit of column-level expectations is fingerprinted by the columns it reads (suite_carry.columns_read):
a change elsewhere in the batch carries it, a change in a column it reads (or in the row count) runs it."""
from __future__ import annotations

import duckdb

from dagster_project.quality.suite_carry import columns_read, projection_fingerprint
from dagster_project.quality.suites import RuleExpectation
from dagster_project.relation_fingerprint import RelationFingerprints


def _exp(type_: str, **kwargs) -> RuleExpectation:
    fields = {k: kwargs.pop(k) for k in ("query", "requires") if k in kwargs}
    return RuleExpectation("integrity", "integrity", "INTEG_KEY_UNIQUE", "failure", "x", "publisher_code",
                           "marts.t", type_, kwargs=kwargs, **fields)


def test_columns_read_only_for_column_level_expectations():
    assert columns_read([_exp("expect_column_values_to_be_unique", column="k"),
                         _exp("expect_column_values_to_not_be_null", column="k"),
                         _exp("expect_compound_columns_to_be_unique", column_list=["k", "y"])]) == ["k", "y"]
    assert columns_read([_exp("expect_column_values_to_be_unique", column="k"),
                         _exp("unexpected_rows", query="select 1 from {batch}")]) is None
    assert columns_read([_exp("expect_column_values_to_be_unique", column="k", row_condition="y > 1")]) is None
    assert columns_read([_exp("expect_column_pair_values_to_be_equal", column_A="k", column_B="y")]) is None


def test_projection_fingerprint_moves_with_the_columns_read_only():
    con = duckdb.connect()
    con.execute("create schema marts; create table marts.t as select i as k, i * 2 as amount from range(100) r(i)")
    relations = RelationFingerprints(con)

    def now() -> str:
        return projection_fingerprint(RelationFingerprints(con), "marts.t", ["k"])

    before = now()
    con.execute("update marts.t set amount = amount + 1 where k = 7")
    assert now() == before and relations.exists("marts.t")
    con.execute("update marts.t set k = 6 where k = 7")  # a duplicate key: the unit must run
    assert now() != before
    con.execute("update marts.t set k = 7 where k = 6 and amount = 15")
    assert now() == before
    con.execute("insert into marts.t values (null, 0)")  # a row more, even a null key, moves it
    assert now() != before
    assert projection_fingerprint(relations, "marts.missing", ["k"]) is None


def test_a_relation_only_counted_is_an_input_by_its_row_count():
    from dagster_project.quality.suite_carry import counted_only, unit_data

    con = duckdb.connect()
    con.execute("create schema marts; create table marts.t as select i as k from range(10) r(i); "
                "create table marts.b as select i as k, 'text' as notice from range(50) r(i)")
    counting = _exp("unexpected_rows", query="select * from {batch} where k < 0", requires=("marts.b",))
    counting = counting.__class__(**{**counting.__dict__, "evaluated_query": "select  COUNT(*) from marts.b"})
    reading = counting.__class__(**{**counting.__dict__, "query": "select * from {batch} join marts.b using (k)"})

    def data(expectations) -> str:
        return unit_data(expectations, RelationFingerprints(con))

    assert counted_only([counting], RelationFingerprints(con)) == {"marts.b"}
    assert counted_only([counting, reading], RelationFingerprints(con)) == set()
    before, read_before = data([counting]), data([reading])
    con.execute("update marts.b set notice = 'changed' where k = 3")
    assert data([counting]) == before and data([reading]) != read_before
    con.execute("insert into marts.b values (99, 'one more')")
    assert data([counting]) != before
    con.execute("update marts.t set k = 7 where k = 6")
    assert unit_data([counting], RelationFingerprints(con)) != data([reading]) and data([counting]) is not None
