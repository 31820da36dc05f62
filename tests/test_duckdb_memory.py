"""The DuckDB cap counts what the process already holds (issue 16's 4 GiB budget per process)."""
from __future__ import annotations

import re

import duckdb
import pytest

from dagster_project import duckdb_memory as dm

GIB = 1024


def _setting_mib(con: duckdb.DuckDBPyConnection) -> float:
    # DuckDB shows the limit with one decimal of its unit ('2.6 GiB', '900.0 MiB')
    text = con.execute("select current_setting('memory_limit')").fetchone()[0]
    value, unit = re.fullmatch(r"([\d.]+) (MiB|GiB)", text).groups()
    return float(value) * (GIB if unit == "GiB" else 1)


def test_the_cap_is_the_budget_less_what_is_held_between_its_floor_and_ceiling():
    budget = dm.PROCESS_BUDGET_MIB
    room = budget - dm.RESERVE_MIB - dm.MEMORY_LIMIT_FLOOR_MIB
    assert dm.memory_limit_mib(0, budget) == min(dm.WAREHOUSE_MEMORY_LIMIT_MIB, budget - dm.RESERVE_MIB)
    middle = room // 2
    assert dm.memory_limit_mib(middle, budget) == budget - dm.RESERVE_MIB - middle
    assert dm.memory_limit_mib(budget, budget) == dm.MEMORY_LIMIT_FLOOR_MIB
    # the ceiling holds on a larger machine's budget
    assert dm.memory_limit_mib(0, 64 * GIB) == dm.WAREHOUSE_MEMORY_LIMIT_MIB


def test_the_budget_is_read_from_the_environment(monkeypatch):
    monkeypatch.delenv(dm.PROCESS_BUDGET_ENV, raising=False)
    assert dm.process_budget_mib() == dm.PROCESS_BUDGET_MIB
    monkeypatch.setenv(dm.PROCESS_BUDGET_ENV, "6144")
    assert dm.process_budget_mib() == 6144


@pytest.mark.skipif(dm.resident_mib() is None, reason="no /proc/self/statm: the cap is the fixed ceiling")
def test_memory_the_process_holds_elsewhere_lowers_the_cap_and_duckdbs_own_does_not():
    resident = dm.resident_mib()
    # a budget that puts the cap mid-way between floor and ceiling for this process as it is now
    budget = int(resident + dm.RESERVE_MIB + dm.MEMORY_LIMIT_FLOOR_MIB + 1200)
    con = dm.capped(duckdb.connect(), budget)
    before = _setting_mib(con)
    assert dm.MEMORY_LIMIT_FLOOR_MIB + 1000 <= before <= dm.MEMORY_LIMIT_FLOOR_MIB + 1300, before

    # DuckDB's own tables: held by the instance the cap is for, so not subtracted again
    con.execute("create table t as select range as i, md5(range::varchar) as s from range(3000000)")
    held = dm.duckdb_held_mib(con)
    assert held > 100, held
    dm.capped(con, budget)
    assert abs(_setting_mib(con) - before) <= 110, (before, _setting_mib(con), held)

    # Python's memory: held outside the instance, so the cap makes room for it
    ballast = bytearray(400 * 2**20)
    ballast[:: 4096] = b"\x01" * len(ballast[:: 4096])  # touch every page: resident, not only reserved
    dm.capped(con, budget)
    after = _setting_mib(con)
    assert 290 <= before - after <= 510, (before, after)
    del ballast
    con.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_an_ocds_package_out_of_memory_under_the_cap_is_written_at_the_ceiling(tmp_path, workers):
    """A package's temp table does not spill whole: under too low a cap its worker runs out of memory. It is written
    again at the fixed ceiling — every item once, the file whole — rather than the build failing."""
    import gzip
    import json

    from dagster_project.publish import ocds_packages

    items = "SELECT range AS s, json_object('id', range::VARCHAR, 'text', repeat('公开', 4000)) AS item " \
            "FROM range({lo}, {hi} + 1)"
    jobs = ocds_packages.package_jobs("release-package", "releases", {"uri": "https://example.org/"}, 3000, 1500,
                                      lambda lo, hi: items.format(lo=lo, hi=hi), ".json.gz")
    con = duckdb.connect()
    try:
        con.execute("SET memory_limit = '16MB'")
        with pytest.raises(duckdb.OutOfMemoryException):  # the cap is too low for a package: the case exists
            ocds_packages._write_package(con, tmp_path, jobs[0], True, None)
        ocds_packages.write_package_jobs(con, tmp_path, jobs, ".json.gz", None, workers=workers)
        assert _setting_mib(con) >= dm.WAREHOUSE_MEMORY_LIMIT_MIB - 103  # shown to one decimal of a GiB
    finally:
        con.close()
    ids = []
    for job in jobs:
        package = json.loads(gzip.decompress((tmp_path / job.name).read_bytes()))
        ids += [int(r["id"]) for r in package["releases"]]
    assert ids == list(range(3000))
