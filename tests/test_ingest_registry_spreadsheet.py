"""The registry and the portal log after a spreadsheet opened and saved them (fixtures made by LibreOffice Calc:
tests/fixtures/registry_spreadsheet/MAKE.md).

A finance bureau keeps its registry of entities in a spreadsheet; saved as CSV, every all-digit 统一社会信用代码
becomes scientific notation (``1.16401001948606E+017``) and its digits are gone. Such a value names no entity: an
entity's own code in that form rejects its row, naming file, row, column and value (never an entity under a number
the spreadsheet made); a code that only points to another entity (the parent, a portal publisher) is stored NULL and
the file's note says which column, how many and from which row. Everything else reads as the original file reads.
"""
from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import duckdb
from test_ingest_tabular import rows_of, run

from dagster_project.ingest import framework
from dagster_project.ingest.tabular import load_portal_file, load_registry_file

FIXTURES = Path(__file__).parent / "fixtures" / "registry_spreadsheet"
SCIENTIFIC = re.compile(r"[0-9](\.[0-9]+)?E\+[0-9]{2,3}")


def _load(tmp: Path, variant: Path) -> Path:
    raw, wh = tmp / variant.name / "raw", tmp / variant.name / "w.duckdb"
    for family, name in (("registry", "entities_2018.csv"), ("portal", "publications_budget.csv")):
        (raw / family).mkdir(parents=True, exist_ok=True)
        shutil.copy(variant / name, raw / family / name)
    run(raw, wh, "registry", load_registry_file)
    run(raw, wh, "portal", load_portal_file)
    return wh


def _records(path: Path, encoding: str) -> dict[int, dict[str, str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return {i: row for i, row in enumerate(csv.DictReader(handle), start=2)}


def _file(wh: Path, rel: str) -> dict:
    return rows_of(wh, f"SELECT * FROM raw.load_files WHERE source_file = '{rel}' ORDER BY loaded_at DESC LIMIT 1")[0]


def test_calc_resaved_registry_and_portal_log(tmp_path):
    original_wh = _load(tmp_path, FIXTURES)
    resaved_wh = _load(tmp_path, FIXTURES / "calc_resaved")
    source = _records(FIXTURES / "entities_2018.csv", "utf-8")
    resaved = _records(FIXTURES / "calc_resaved" / "entities_2018.csv", "gbk")
    damaged = {(r, k) for r, rec in resaved.items() for k, v in rec.items() if SCIENTIFIC.fullmatch(v)}
    # the fixture carries what this test is about: an entity's own code and a parent's code so damaged
    assert {k for _, k in damaged} == {"entity_code", "parent_entity_code"}
    own = {r for r, k in damaged if k == "entity_code"}

    entities = "SELECT * EXCLUDE (load_id, source_file, source_row, source_sha256) FROM raw.registry_entities ORDER BY entity_code"
    before = {e["entity_code"]: e for e in rows_of(original_wh, entities)}
    after = {e["entity_code"]: e for e in rows_of(resaved_wh, entities)}
    assert len(before) == len(source)
    assert set(after) == {source[r]["entity_code"] for r in source if r not in own}   # no made-up codes
    for code, entity in after.items():
        parent_damaged = any(k == "parent_entity_code" and source[r]["entity_code"] == code for r, k in damaged)
        expected = dict(before[code], parent_entity_code=None) if parent_damaged else before[code]
        assert entity == expected, code           # booleans written TRUE/FALSE, dates: the same values

    rejects = rows_of(resaved_wh, "SELECT source_row, source_column, raw_value, reason FROM raw.load_rejects "
                                  "WHERE source_file = 'registry/entities_2018.csv' ORDER BY source_row")
    assert [(x["source_row"], x["source_column"], x["raw_value"]) for x in rejects] == \
        [(r, "entity_code", resaved[r]["entity_code"]) for r in sorted(own)]
    assert all("科学计数法" in x["reason"] and "scientific notation" in x["reason"] for x in rejects)
    status = _file(resaved_wh, "registry/entities_2018.csv")
    assert (status["rows_in"], status["rows_loaded"], status["rows_rejected"]) == (len(source), len(after), len(own))
    assert "parent_entity_code 1 (第" in status["reason"] and "scientific notation" in status["reason"]

    # the portal log: every publication stays (a publication is one without its publisher's code, too)
    publications = ("SELECT publisher_code, publisher_name, title, published_at, url, attachment "
                    "FROM raw.portal_publications ORDER BY source_row")
    was, now = rows_of(original_wh, publications), rows_of(resaved_wh, publications)
    portal = _records(FIXTURES / "calc_resaved" / "publications_budget.csv", "gbk")
    blanked = [i for i, r in enumerate(portal.values()) if SCIENTIFIC.fullmatch(r["publisher_code"])]
    assert blanked and len(now) == len(was) == len(portal)
    assert now == [dict(p, publisher_code=None) if i in blanked else p for i, p in enumerate(was)]
    note = _file(resaved_wh, "portal/publications_budget.csv")["reason"]
    assert f"publisher_code {len(blanked)} (第" in note


BLANKED = "SELECT source_file, source_row, source_column, raw_value FROM raw.load_blanked_cells WHERE NOT is_retired"


def test_codes_stored_null_are_kept_for_their_finding_and_go_with_their_file(tmp_path):
    """Each code stored NULL (a parent's, a portal publisher's) is a row of raw.load_blanked_cells — file, row,
    column, the value as found — beside the loaded row (no reject: rows_in = rows_loaded + rows_rejected). When the
    file is sent again, repaired, its cells are superseded with it; when it vanishes, they are retired with it."""
    variant = FIXTURES / "calc_resaved"
    wh = _load(tmp_path, variant)
    raw = tmp_path / variant.name / "raw"
    expected = []
    for family, name in (("registry", "entities_2018.csv"), ("portal", "publications_budget.csv")):
        for row, rec in _records(variant / name, "gbk").items():
            if not SCIENTIFIC.fullmatch(rec.get("entity_code", "")):       # an entity's own code rejects its row
                expected += [(f"{family}/{name}", row, column, value) for column, value in rec.items()
                             if column != "entity_code" and SCIENTIFIC.fullmatch(value)]
    assert {c for *_, c, _ in expected} == {"parent_entity_code", "publisher_code"}
    assert sorted(tuple(r.values()) for r in rows_of(wh, BLANKED)) == sorted(expected)

    shutil.copy(FIXTURES / "entities_2018.csv", raw / "registry" / "entities_2018.csv")   # repaired
    run(raw, wh, "registry", load_registry_file)
    assert sorted(tuple(r.values()) for r in rows_of(wh, BLANKED)) == \
        sorted(e for e in expected if e[0].startswith("portal/"))
    (raw / "portal" / "publications_budget.csv").unlink()
    con = duckdb.connect(str(wh))
    try:
        framework.load_family(con, raw, "portal", load_portal_file, retire_policy=framework.RetirePolicy(allow=True))
    finally:
        con.close()
    assert rows_of(wh, BLANKED) == []
    assert rows_of(wh, "SELECT count(*) AS n FROM raw.load_blanked_cells WHERE is_retired")[0]["n"] == len(expected)
