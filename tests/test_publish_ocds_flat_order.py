"""The OCDS flat rows come out in package order when the narrow source rows are sorted before ``flat_sql``.

``write_ocds_parts`` sorts the source rows (``ocds_sql.source_order``) and lets ``flat_sql``'s projections and filter
keep that order, instead of sorting the wide flat rows (the costly part of the flat COPY at 10 M rows). The packages,
record bounds and links all rest on the flat file being in ``_part, FLAT_ORDER`` order; this holds that order to the
flat rows sorted directly, on more rows than one DuckDB row group, read in parallel from a table stored shuffled.
"""
from __future__ import annotations

import duckdb

from dagster_project.publish.ocds_config import load_config
from dagster_project.publish.ocds_sql import FLAT_ORDER, flat_sql, source_order

ROWS = 300_000  # > 2 row groups (122 880 rows): the projections above the sort run on several threads


def _source(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    # Deals of 1-4 bulletins, times repeated within a deal (the key breaks the tie), some times missing, some
    # bulletins without a deal (left out by the filter), two parts; stored in an order unrelated to the sort.
    con.execute(f"""
        CREATE TABLE src AS
        SELECT CASE WHEN i % 3 = 0 THEN '2017' ELSE '2018' END AS _part,
               CASE WHEN i % 97 = 5 THEN '' ELSE 'D' || lpad(CAST((i * 7919) % 90001 AS VARCHAR), 6, '0') END AS deal_key,
               'B' || lpad(CAST((i * 104729) % {ROWS} AS VARCHAR), 7, '0') AS bulletin_key,
               CASE WHEN i % 53 = 1 THEN NULL
                    ELSE TIMESTAMP '2017-01-01' + to_minutes(CAST((i * 31) % 500 AS BIGINT)) END AS notice_send_time,
               CASE i % 4 WHEN 0 THEN '交易公告' WHEN 1 THEN '中标结果公告' WHEN 2 THEN '中标候选人公示'
                          ELSE '合同公告' END AS bulletin_type,
               '单位' || CAST(i % 1000 AS VARCHAR) AS tenderer_name,
               CASE WHEN i % 5 = 0 THEN NULL ELSE '91640100' || lpad(CAST(i % 1000 AS VARCHAR), 10, '0') END
                   AS tenderer_code,
               '项目' || CAST(i AS VARCHAR) AS notice_name,
               CASE WHEN i % 4 = 2 THEN '甲公司；乙公司' END AS win_candidate_name
        FROM range({ROWS}) t(i) ORDER BY hash(i)""")
    return dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                            "WHERE table_name = 'src'").fetchall())


def test_sorted_source_rows_give_flat_rows_in_package_order():
    con = duckdb.connect()
    try:
        con.execute("SET threads = 2")
        types = _source(con)
        cfg = dict(load_config(), ocid_prefix="ocds-test-")
        sorted_source = flat_sql(f"SELECT * FROM src ORDER BY {source_order(types)}", types, cfg)
        got = con.execute(f"SELECT _part, rid FROM ({sorted_source})").fetchall()
        want = con.execute(f"SELECT _part, rid FROM ({flat_sql('SELECT * FROM src', types, cfg)}) "
                           f"ORDER BY _part, {FLAT_ORDER}").fetchall()
        assert len(got) > 2 * 122_880
        assert got == want
    finally:
        con.close()


def test_source_order_sorts_by_time_only_when_the_marts_have_one():
    assert source_order({"deal_key": "VARCHAR", "notice_send_time": "TIMESTAMP"}) == \
        "_part, deal_key, notice_send_time, bulletin_key"
    assert source_order({"deal_key": "VARCHAR"}) == "_part, deal_key, bulletin_key"
