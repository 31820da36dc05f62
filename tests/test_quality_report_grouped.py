"""A registry of 28 regions with a handful of files: the report reads one screen per publisher.

The disclosure mart is built to the contract (CONTRACTS.md §4) for the 28 Ningxia regions of the reference seed,
every government table of three years expected and only a handful published; the real disclosure suite judges it
and the report groups publisher → document → rule. A document with nothing published is one finding with its
tables listed, so each region shows one row per unpublished document, not one per table.
"""
from __future__ import annotations

import csv
import re

import duckdb
import pytest

from dagster_project.paths import DBT_SEEDS_DIR
from dagster_project.quality.runner import run_quality
from dagster_project.quality.suites import load_suites

YEARS = (2017, 2018, 2019)
PUBLISHED = {("640000", 2018, "gov_gpb_revenue"), ("640000", 2018, "gov_gpb_expenditure"),
             ("640100", 2019, "debt_1_1"), ("640122", 2017, "gov_sangong")}


def _rows(name: str) -> list[dict]:
    with (DBT_SEEDS_DIR / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("report28")
    warehouse = root / "w.duckdb"
    regions = _rows("ref_regions.csv")
    catalogue = [c for c in _rows("ref_disclosure_catalogue.csv") if c["publisher_kind"] == "government"]
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("create schema reference; create schema marts")
        con.execute(f"create table reference.ref_rule_catalogue as select * from read_csv('{DBT_SEEDS_DIR / 'ref_rule_catalogue.csv'}', header=true, all_varchar=true)")
        con.execute(f"create table reference.ref_disclosure_catalogue as select * from read_csv('{DBT_SEEDS_DIR / 'ref_disclosure_catalogue.csv'}', header=true, all_varchar=true)")
        con.execute("""create table marts.fct_disclosure_status (publisher_code varchar, publisher_name varchar,
            publisher_kind varchar, region_code varchar, fiscal_year integer, document varchar, table_key varchar,
            table_name_zh varchar, deadline_date date, deadline_basis varchar, status varchar, published_at timestamp,
            days_late integer, source_file varchar, sheet varchar, publication_title varchar, publication_url varchar)""")
        rows = []
        for r in regions:
            for y in YEARS:
                for c in catalogue:
                    if r["level"] not in c["applies_to_levels"].split("|"):
                        continue
                    published = (r["region_code"], y, c["table_key"]) in PUBLISHED
                    rows.append([r["region_code"], r["region_name"], "government", r["region_code"], y, c["document"],
                                 c["table_key"], c["table_name_zh"], f"{y}-03-01", "congress_approval+20d",
                                 "on_time" if published else "missing", f"{y}-02-20 09:00:00" if published else None])
        con.executemany("insert into marts.fct_disclosure_status (publisher_code, publisher_name, publisher_kind, "
                        "region_code, fiscal_year, document, table_key, table_name_zh, deadline_date, deadline_basis, "
                        "status, published_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        missing_tables = sum(1 for r in rows if r[10] == "missing")
    finally:
        con.close()
    suites = [s for s in load_suites() if s.name == "disclosure"]
    suites = [type(s)(s.name, s.kind, s.title_zh, s.title_en, s.path,
                      tuple(e for e in s.expectations if e.batch == "marts.fct_disclosure_status")) for s in suites]
    run = run_quality(warehouse, root / "out", suites=suites)
    page = (root / "out" / "quality" / "index.html").read_text(encoding="utf-8")
    return warehouse, run, page, regions, missing_tables


def test_one_finding_per_unpublished_document_with_its_tables_listed(report):
    warehouse, run, _, regions, missing_tables = report
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        findings = con.execute("""select publisher_code, fiscal_year, object_key, detail, group_key from quality.findings
                                  where run_id = ? and rule_id = 'DISC_MISSING'""", [run.run_id]).fetchall()
    finally:
        con.close()
    documents = {"budget", "final", "budget_debt", "final_debt"}
    whole = [f for f in findings if f[2] in documents]
    partial = [f for f in findings if f[2] not in documents]
    # every region × year × document with nothing published is one finding; the published tables' documents
    # keep one finding per missing table
    touched = {(p, y, "budget" if not k.startswith("debt") else "budget_debt") for p, y, k in PUBLISHED}
    assert len(whole) == len(regions) * len(YEARS) * len(documents) - len(touched)
    assert {(p, y, d) for p, y, d, *_ in whole}.isdisjoint(touched)
    assert len(partial) + sum(f[3].count("、") + 1 for f in whole) == missing_tables   # counts stay exact
    assert all(g == f"{p}|{y}|{d}" for p, y, d, _, g in whole)
    assert len(findings) < missing_tables / 5


def test_report_is_one_block_per_publisher_that_fits_a_screen(report):
    _, _, page, regions, _ = report
    blocks = re.findall(r'<section class="publisher" data-publisher="(\d+)">(.*?)</section>', page, flags=re.S)
    assert sorted(code for code, _ in blocks) == sorted(r["region_code"] for r in regions)
    for code, body in blocks:
        rows = body.count('class="finding"')
        documents = body.count('<tbody class="document">')
        assert documents == len(YEARS) * 4 or code in {p for p, _, _ in PUBLISHED}
        assert rows <= 30, (code, rows)   # one screen: a row per unpublished document, not per table
    assert 'id="filter"' in page and "tbody.document" in page   # the filter hides emptied groups too
