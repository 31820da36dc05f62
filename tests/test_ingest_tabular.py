"""Registry and portal CSVs → raw.registry_* / raw.portal_publications through the real framework."""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import duckdb

from dagster_project.ingest import framework
from dagster_project.ingest.tabular import load_portal_file, load_registry_file


def write_csv(path: Path, header: list[str], rows: list[list[object]], encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run(raw: Path, wh: Path, family: str, loader) -> framework.FamilyLoadReport:
    con = duckdb.connect(str(wh))
    try:
        return framework.load_family(con, raw, family, loader)
    finally:
        con.close()


def rows_of(wh: Path, sql: str) -> list[dict]:
    con = duckdb.connect(str(wh))
    try:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]
    finally:
        con.close()


REGIONS = [["640000", "宁夏回族自治区", "province", ""], ["640100", "银川市", "city", "640000"],
           ["640104", "兴庆区", "county", "640100"], ["640900", "宁东能源化工基地", "zone", "640000"]]
ENTITY_HEADER = ["entity_code", "entity_name", "region_code", "entity_kind", "parent_entity_code",
                 "has_government_fund", "has_state_capital", "budget_approved_on", "final_approved_on"]
BOOLS = {"true": True, "false": False, "1": True, "0": False, "是": True, "否": False, "Y": True, "N": False}


def test_registry_tables_identified_by_header_gbk_and_rejects(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    # file names deliberately say nothing: the header row decides the table
    write_csv(raw / "registry" / "a.csv", ["region_code", "region_name", "level", "parent_code"], REGIONS)
    flags = list(BOOLS)
    entities = []
    for i, flag in enumerate(flags):
        approved = dt.date(2018, 2, 1 + i)
        date_text = [approved.isoformat(), f"{approved.year}/{approved.month}/{approved.day}",
                     f"{approved.year}年{approved.month}月{approved.day}日", approved.strftime("%Y%m%d")][i % 4]
        entities.append([f"1164000000000000{i:02d}", f"单位{i}", "640000", "department" if i % 2 else "unit",
                         "", flag, flags[-1 - i], date_text, ""])
    bad = [["11640000000000099", "坏单位", "640000", "unit", "", "也许", "0", "2018-02-30", ""]]
    write_csv(raw / "registry" / "entities_2018.csv", ENTITY_HEADER, entities + bad, encoding="gb18030")
    write_csv(raw / "registry" / "c.csv", ["region_code", "fiscal_year", "document", "approved_on"],
              [["640000", "2018", "budget", "2018-01-28"], ["640000", "2018", "决算", "20190720"],
               ["640000", "2018", "report", "2019-08-01"]])

    report = run(raw, wh, "registry", load_registry_file)
    kinds = {r["source_file"]: r["detected_kind"] for r in rows_of(wh, "SELECT * FROM raw.load_files")}
    assert kinds == {"registry/a.csv": "regions", "registry/entities_2018.csv": "entities",
                     "registry/c.csv": "approvals"}
    assert report.rows_in == len(REGIONS) + len(entities) + len(bad) + 3
    # the unknown document; the entity with an impossible date and an unknown flag is loaded without them (bad: blank)
    assert report.rows_rejected == 1

    regions = rows_of(wh, "SELECT * FROM raw.registry_regions ORDER BY source_row")
    assert [(r["region_code"], r["region_name"], r["level"], r["parent_code"]) for r in regions] == [
        (code, name, level, parent or None) for code, name, level, parent in REGIONS]
    assert [r["source_row"] for r in regions] == list(range(2, 2 + len(REGIONS)))

    got = rows_of(wh, "SELECT * FROM raw.registry_entities ORDER BY source_row")
    assert len(got) == len(entities) + len(bad)
    assert (got[-1]["entity_name"], got[-1]["has_government_fund"], got[-1]["has_state_capital"],
            got[-1]["budget_approved_on"]) == ("坏单位", None, False, None)
    for i, row in enumerate(got[:len(entities)]):
        assert row["fiscal_year"] == 2018  # from the file name: no fiscal_year column
        assert row["entity_name"] == f"单位{i}"
        assert row["has_government_fund"] is BOOLS[flags[i]]
        assert row["has_state_capital"] is BOOLS[flags[-1 - i]]
        assert row["budget_approved_on"] == dt.date(2018, 2, 1 + i)
        assert row["final_approved_on"] is None
    rejects = rows_of(wh, "SELECT * FROM raw.load_rejects ORDER BY source_file, source_column")
    assert {(r["source_file"], r["source_row"], r["source_column"], r["raw_value"]) for r in rejects} == {
        ("registry/c.csv", 4, "document", "report"),
    }
    blanked = rows_of(wh, "SELECT * FROM raw.load_blanked_cells ORDER BY source_column")
    bad_row = len(entities) + 2
    assert {(r["source_file"], r["source_row"], r["source_column"], r["raw_value"]) for r in blanked} == {
        ("registry/entities_2018.csv", bad_row, "budget_approved_on", "2018-02-30"),
        ("registry/entities_2018.csv", bad_row, "has_government_fund", "也许"),
    }
    approvals = rows_of(wh, "SELECT * FROM raw.registry_approvals ORDER BY source_row")
    assert [(a["document"], a["approved_on"]) for a in approvals] == [
        ("budget", dt.date(2018, 1, 28)), ("final", dt.date(2019, 7, 20))]


def test_entities_fiscal_year_column_wins_and_unknown_header_rejected(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    write_csv(raw / "registry" / "entities_2018.csv", ["fiscal_year"] + ENTITY_HEADER,
              [["2019", "11640000000000001", "甲", "640000", "department", "", "1", "0", "", ""],
               ["", "11640000000000002", "乙", "640000", "unit", "", "0", "0", "", ""]], encoding="utf-8-sig")
    write_csv(raw / "registry" / "people.csv", ["name", "age"], [["x", "1"]])
    report = run(raw, wh, "registry", load_registry_file)
    assert report.rejected == ["registry/people.csv"]
    years = [(r["entity_name"], r["fiscal_year"]) for r in
             rows_of(wh, "SELECT * FROM raw.registry_entities ORDER BY source_row")]
    assert years == [("甲", 2019), ("乙", 2018)]  # blank cell falls back to the file name's year
    reason = rows_of(wh, "SELECT reason FROM raw.load_rejects WHERE source_file = 'registry/people.csv'")[0]["reason"]
    assert "entity_code" in reason and "region_code" in reason


def test_portal_publications_column_stored_as_portal_column(gongkai_env):
    raw, wh = gongkai_env.raw_dir, gongkai_env.warehouse
    header = ["publisher_code", "publisher_name", "column", "title", "published_at", "url", "attachment"]
    rows = [["640000", "宁夏回族自治区财政厅", "预决算公开", "2018年预算公开", "2018/2/10 10:00", "http://x/1", "budget/a.xlsx"],
            ["11640000000000001", "教育厅", "政府债务", "债务", "2018年3月1日", "", ""],
            ["11640000000000001", "教育厅", "预决算公开", "坏日期", "上周", "", ""]]
    write_csv(raw / "portal" / "publications_2018.csv", header, rows, encoding="gb18030")
    first = run(raw, wh, "portal", load_portal_file)
    # a time that is no time (上周) leaves the publication loaded, undated (bad: blank; QUAR_VALUE_UNREADABLE)
    assert (first.rows_in, first.rows_loaded, first.rows_rejected) == (3, 3, 0)
    got = rows_of(wh, "SELECT * FROM raw.portal_publications ORDER BY source_row")
    assert [g["portal_column"] for g in got] == [r[2] for r in rows]
    assert got[2]["published_at"] is None
    assert got[0]["published_at"] == dt.datetime(2018, 2, 10, 10, 0)
    assert got[1]["published_at"] == dt.datetime(2018, 3, 1)
    assert got[0]["attachment"] == "budget/a.xlsx" and got[1]["attachment"] is None
    assert run(raw, wh, "portal", load_portal_file).unchanged == ["portal/publications_2018.csv"]
