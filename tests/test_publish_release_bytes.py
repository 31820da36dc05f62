"""The same data gives the same release, byte for byte: every data file (CSV, Parquet, Excel copy, code list)
and every resource described, whatever order the warehouse happens to store the rows in (a hash join, a
GROUP BY, an incremental model's appends, a full refresh)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb

from dagster_project.publish.release import build_release
from test_publish_support import build_fixture_warehouse


def _store_rows_in_another_order(warehouse: Path) -> None:
    """Every table of the marts and of the findings rewritten with its rows in reverse (then shuffled) order."""
    con = duckdb.connect(str(warehouse))
    try:
        tables = con.execute("SELECT table_schema, table_name FROM information_schema.tables "
                             "WHERE table_schema IN ('main_marts', 'quality') AND table_type = 'BASE TABLE'").fetchall()
        for schema, name in tables:
            rel = f'"{schema}"."{name}"'
            con.execute(f"CREATE TEMP TABLE reordered AS SELECT * FROM (SELECT row_number() OVER () AS _n, * FROM {rel}) "
                        "ORDER BY _n % 3, _n DESC")
            con.execute(f"DELETE FROM {rel}")
            con.execute(f"INSERT INTO {rel} SELECT * EXCLUDE (_n) FROM reordered ORDER BY _n % 3, _n DESC")
            con.execute("DROP TABLE reordered")
    finally:
        con.close()


def _data_files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.parts[len(folder.parts)] in ("data", "code_lists")}


def test_two_releases_of_the_same_rows_are_byte_identical(tmp_path):
    first_wh = build_fixture_warehouse(tmp_path / "a.duckdb", n_extra_deals=40)
    second_wh = tmp_path / "b.duckdb"
    shutil.copy(first_wh, second_wh)
    _store_rows_in_another_order(second_wh)
    con = duckdb.connect(str(second_wh), read_only=True)
    try:  # the rewrite did change the stored order (else this test could not fail)
        stored = [r[0] for r in con.execute("SELECT bulletin_key FROM main_marts.fct_trading_bulletins").fetchall()]
    finally:
        con.close()
    assert stored != sorted(stored) and len(stored) > 40

    # two output folders: nothing carried, every part written by each build (seconds apart: time stamps differ)
    first = build_release(first_wh, tmp_path / "out1", run_id="r")
    second = build_release(second_wh, tmp_path / "out2", run_id="r")
    a, b = _data_files(first.path), _data_files(second.path)
    assert any(rel.endswith(".xlsx") for rel in a) and any(rel.endswith(".parquet") for rel in a)
    assert sorted(a) == sorted(b)
    assert [rel for rel in a if a[rel] != b[rel]] == []
    resources = [json.loads((r.path / "datapackage.json").read_text(encoding="utf-8"))["resources"]
                 for r in (first, second)]
    assert resources[0] == resources[1]
