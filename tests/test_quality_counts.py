"""The runner's counts of one relation taken in one scan (``RowCounts.prefetch``) equal the queries counted alone."""
from __future__ import annotations

import duckdb

from dagster_project.quality.row_counts import RowCounts, count_rows, keyed_conditions


def test_counts_in_one_scan_equal_each_query_alone():
    con = duckdb.connect()
    con.execute("create schema m; create table m.t as select i, case when i % 3 = 0 then 'A' else 'B' end as rule_id, "
                "case when i % 7 = 0 then null else i % 2 = 0 end as passes from range(100) r(i)")
    texts = ["select count(*) from m.t", "select count(*) from m.t where rule_id = 'A' and passes is not null",
             "SELECT  count(*)\n FROM m.t WHERE passes", "select count(*) from m.t where rule_id in (select 'B')",
             "select count(distinct rule_id) from m.t", "select count(*) from m.t where cast(rule_id as int) > 0"]
    counts = RowCounts()
    counts.prefetch(con, texts[:-1])
    assert set(counts._memo) == set(texts[:3])  # a subquery or another form: counted alone
    assert [counts.get(con, t) for t in texts[:-1]] == [count_rows(con, t) for t in texts[:-1]]
    failing = RowCounts()
    failing.prefetch(con, [texts[0], texts[-1]])  # the combined count fails: each is left to be counted alone
    assert failing._memo == {}


def test_keyed_counts_by_one_grouping_equal_each_query_alone():
    con = duckdb.connect()
    con.execute("create schema m; create table m.t as select i, case when i % 11 = 0 then null when i % 3 = 0 then 'A' "
                "when i % 3 = 1 then 'B' else 'a' end as rule_id, case when i % 7 = 0 then null else i % 2 = 0 end as "
                "applies, i % 5 = 0 as scoped from range(200) r(i)")
    texts = [f"select count(*) from m.t where rule_id = '{r}' and {rest}" for r in ("A", "B", "a", "C", "")
             for rest in ("applies", "scoped and not applies", "not applies is not false")]
    texts += ["select count(*) from m.t where rule_id = 'A'", "select count(*) from m.t where rule_id = 'B' and applies or scoped",
              "select count(*) from m.t where rule_id = 'B' AND applies"]
    counts = RowCounts()
    counts.prefetch(con, texts)
    assert set(counts._memo) == set(texts) - {texts[-2]}  # the keyed ones by one grouping; the "or" one alone
    assert len(keyed_conditions({t: t.split(" where ", 1)[1] for t in texts})["rule_id"]) == len(texts) - 1
    assert [counts.get(con, t) for t in texts] == [count_rows(con, t) for t in texts]
    assert keyed_conditions({"q": "rule_id = 'B' and applies or scoped", "r": "rule_id = 'it''s' and applies"}) == {}


def test_whitespace_inside_a_literal_is_kept():
    con = duckdb.connect()
    con.execute("create schema m; create table m.t as select * from (values ('a  b'), ('a  b'), ('a b')) v(c)")
    texts = ["select count(*) from m.t where c = 'a  b'", "select  count(*)\n from m.t where c = 'a b'",
             "select count(*) from m.t"]
    counts = RowCounts()
    counts.prefetch(con, texts)
    assert set(counts._memo) == set(texts[:2])  # the keyed two by one grouping; the last is left alone
    assert [counts.get(con, t) for t in texts] == [count_rows(con, t) for t in texts] == [2, 1, 3]

