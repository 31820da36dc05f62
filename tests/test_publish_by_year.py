"""Publication by fiscal year: a release rewrites only the parts whose inputs changed, carries the others
by hard link (checked by checksum, not re-validated), says which is which, and prunes old releases."""
from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest

from dagster_project.publish import atomic
from dagster_project.publish.release import build_release
from dagster_project.publish.release_validation import verify_sha256sums
from test_publish_support import build_fixture_warehouse

# the column contract of marts.fct_revisions (WAVE2.md; built by the incremental warehouse, issue 16)
REVISIONS_DDL = """
CREATE TABLE main_marts.fct_revisions (revision_id VARCHAR, family VARCHAR, publisher_code VARCHAR,
  fiscal_year INTEGER, table_key VARCHAR, item_key VARCHAR, measure VARCHAR, change_kind VARCHAR,
  old_amount_yuan DECIMAL(20,2), new_amount_yuan DECIMAL(20,2), old_source_file VARCHAR, old_source_sha256 VARCHAR,
  old_load_id VARCHAR, new_source_file VARCHAR, new_source_sha256 VARCHAR, new_load_id VARCHAR,
  first_seen_at TIMESTAMP, last_seen_at TIMESTAMP, has_correction_note BOOLEAN, revision_key VARCHAR,
  readers_changed BOOLEAN, new_amount_now_yuan DECIMAL(20,2))"""


@pytest.fixture
def warehouse(tmp_path, monkeypatch):
    path = tmp_path / "gongkai.duckdb"
    monkeypatch.setenv("GONGKAI_OUT_DIR", str(tmp_path / "out"))
    monkeypatch.delenv("GONGKAI_RELEASE_KEEP", raising=False)
    return build_fixture_warehouse(path)


def _sql(warehouse: Path, sql: str, params: list | None = None) -> None:
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(sql, params or [])
    finally:
        con.close()


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def _inodes(folder: Path, part: dict) -> dict[str, int]:
    return {kind: (folder / rel).stat().st_ino for kind, rel in part["files"].items()}


def test_a_second_release_rewrites_only_the_changed_year_and_prunes_old_releases(warehouse, tmp_path):
    out = tmp_path / "out"
    _sql(warehouse, REVISIONS_DDL)
    _sql(warehouse, """INSERT INTO main_marts.fct_revisions VALUES
        ('r1', 'budget', '640000', 2017, 'gov_gpb_own_expenditure', '2050201', 'amount', 'changed', 400000, 410000,
         'budget/gov_2017_budget.xlsx', repeat('a', 64), 'L1', 'budget/gov_2017_budget.xlsx', repeat('b', 64), 'L2',
         TIMESTAMP '2026-11-01 08:00:00', TIMESTAMP '2026-11-20 08:00:00', false, 'k1', false, 410000),
        -- the same figure changed again (back) in a later republication: same revision_id, its own revision_key
        ('r1', 'budget', '640000', 2017, 'gov_gpb_own_expenditure', '2050201', 'amount', 'changed', 410000, 400000,
         'budget/gov_2017_budget.xlsx', repeat('b', 64), 'L2', 'budget/gov_2017_budget.xlsx', repeat('a', 64), 'L5',
         TIMESTAMP '2026-11-20 08:00:00', TIMESTAMP '2026-11-22 08:00:00', false, 'k3', false, 400000),
        ('r2', 'debt', '640000', 2018, 'debt_1_1', 'own_level', 'limit_general', 'vanished', 500000000, NULL,
         'debt/debt_2018.xlsx', repeat('c', 64), 'L3', 'debt/debt_2018.xlsx', repeat('d', 64), 'L4',
         TIMESTAMP '2026-11-01 08:00:00', TIMESTAMP '2026-11-21 08:00:00', true, 'k2', false, NULL),
        -- an older reader read it tenfold, the re-published file was first read by fixed readers (review R6): the
        -- download must say so, or a reader's fix reads as the publisher's change
        ('r4', 'debt', '640000', 2018, 'debt_1_1', 'own_level', 'limit_special', 'changed', 3000000000, 300000001,
         'debt/debt_2018.xlsx', repeat('c', 64), 'L3', 'debt/debt_2018.xlsx', repeat('d', 64), 'L4',
         TIMESTAMP '2026-11-01 08:00:00', TIMESTAMP '2026-11-21 08:00:00', false, 'k4', true, 300000001)""")
    first = build_release(warehouse, out, run_id="r1")
    m1 = _manifest(first.path)
    assert first.parts_with("carried") == [] and m1["parts"]["carried"] == []
    # the revisions dataset is published, by fiscal year, with the contract's columns
    assert set(m1["datasets"]["revisions"]["parts"]) == {"2017", "2018"} and m1["datasets"]["revisions"]["rows"] == 4
    header = (first.path / m1["datasets"]["revisions"]["parts"]["2017"]["files"]["csv"]).read_text(
        encoding="utf-8-sig").splitlines()[0]
    assert header.startswith("revision_key,revision_id,family,publisher_code,fiscal_year,") and "has_correction_note" in header
    # whether the later version was read across a readers' change, and what it reads as now, are published too
    con = duckdb.connect()
    try:
        published = con.execute(
            "select revision_key, readers_changed, new_amount_now_yuan from read_csv_auto(?, header = true) "
            "order by revision_key",
            [str(first.path / m1["datasets"]["revisions"]["parts"]["2018"]["files"]["csv"])]).fetchall()
    finally:
        con.close()
    assert [(k, str(v).lower(), None if n is None else float(n)) for k, v, n in published] == [
        ("k2", "false", None), ("k4", "true", 300000001.0)]

    # one figure of 2017 changes: only the 2017 part of budget_lines is written again
    _sql(warehouse, "UPDATE main_marts.fct_budget_lines SET amount_yuan = amount_yuan + 1 "
                    "WHERE budget_line_id = 'bl1' AND fiscal_year = 2017")
    second = build_release(warehouse, out, run_id="r2", keep=2)
    m2 = _manifest(second.path)
    assert m2["parts"]["new"] == ["budget_lines/2017"], m2["parts"]
    assert "budget_lines/2018" in m2["parts"]["carried"] and "debt_positions/2017" in m2["parts"]["carried"]
    assert m2["previous_release"] == first.release_id
    new, carried = (m2["datasets"]["budget_lines"]["parts"][k] for k in ("2017", "2018"))
    assert new["status"] == "new" and new["built_in"] == second.release_id
    assert carried["status"] == "carried" and carried["built_in"] == first.release_id
    old = m1["datasets"]["budget_lines"]["parts"]
    # carried = the same inode (hard link: not rewritten); new = a new file
    assert _inodes(second.path, carried) == _inodes(first.path, old["2018"])
    assert set(carried["files"]) == {"csv", "parquet", "xlsx"}
    assert all(_inodes(second.path, new)[k] != _inodes(first.path, old["2017"])[k] for k in new["files"])
    assert "carried_parts" in second.validation and verify_sha256sums(second.path) == []
    # a code list written with the same bytes by the same code keeps its workbook (linked, not written again)
    same = [c.name for c in sorted((second.path / "code_lists").glob("*.csv"))
            if c.read_bytes() == (first.path / "code_lists" / c.name).read_bytes()]
    assert same and all((second.path / "code_lists" / n[:-4]).with_suffix(".xlsx").stat().st_ino
                        == (first.path / "code_lists" / n[:-4]).with_suffix(".xlsx").stat().st_ino for n in same)
    package = json.loads((second.path / "datapackage.json").read_text(encoding="utf-8"))
    assert {"budget_lines_2017", "budget_lines_2018", "budget_lines_2018_xlsx"} <= {r["name"] for r in package["resources"]}

    # a run for 2018 alone carries every other year as it is, even a changed 2017
    _sql(warehouse, "UPDATE main_marts.fct_budget_lines SET amount_yuan = amount_yuan + 1 "
                    "WHERE budget_line_id = 'bl1' AND fiscal_year = 2017")
    third = build_release(warehouse, out, run_id="r3", fiscal_years={2018}, keep=2)
    m3 = _manifest(third.path)
    assert m3["fiscal_years_requested"] == [2018] and m3["parts"]["new"] == []
    assert m3["datasets"]["budget_lines"]["parts"]["2017"]["built_in"] == second.release_id
    # retention: the two newest releases stay, LATEST among them, older ones are gone
    root = out / "open-data"
    assert third.pruned == [first.release_id] and not (root / first.release_id).exists()
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == [second.release_id, third.release_id]
    assert atomic.read_pointer(root) == third.release_id and verify_sha256sums(third.path) == []


def test_a_tampered_carried_file_is_caught_and_its_part_rebuilt(warehouse, tmp_path):
    out = tmp_path / "out"
    first = build_release(warehouse, out, run_id="r1")
    assert "revisions" in first.skipped  # no fct_revisions yet: skipped, not an error
    part = _manifest(first.path)["datasets"]["debt_positions"]["parts"]["2018"]
    csv = first.path / part["files"]["csv"]
    csv.write_bytes(csv.read_bytes().replace("本级".encode(), "外级".encode()))  # same size, other bytes
    second = build_release(warehouse, out, run_id="r2")
    # the files left alone are checked by the digest read when published (their status unchanged), the
    # tampered one (written: its status changed) is read again
    by_status = second.validation["checksums_by_status"]
    assert by_status.endswith("; 1 carried files read again") and not by_status.startswith("0 carried"), by_status
    rebuilt = _manifest(second.path)["datasets"]["debt_positions"]["parts"]["2018"]
    assert rebuilt["status"] == "new" and "checksum" in rebuilt["rebuilt_because"]
    assert "本级" in (second.path / rebuilt["files"]["csv"]).read_text(encoding="utf-8-sig")
    assert (second.path / rebuilt["files"]["csv"]).stat().st_ino != csv.stat().st_ino
    assert _manifest(second.path)["datasets"]["debt_positions"]["parts"]["2017"]["status"] == "carried"


def test_ocds_packages_are_written_per_fiscal_year_and_unchanged_years_carried(warehouse, tmp_path):
    from dagster_project.publish.ocds import build_ocds
    from dagster_project.publish.ocds_config import package_files
    from dagster_project.publish.ocds_validation import read_validation_record

    out = tmp_path / "out"
    _sql(warehouse, "UPDATE main_marts.fct_deals SET fiscal_year = 2017 WHERE deal_key = 'NXZC2018-002/01'")
    first = build_ocds(warehouse, out)
    assert {k: v["status"] for k, v in first.parts.items()} == {"2017": "new", "2018": "new"}
    assert {p.name for p in package_files(first.path)} == {
        f"{kind}-package-{year}-0001.json.gz" for kind in ("release", "record") for year in (2017, 2018)}
    _sql(warehouse, "UPDATE main_marts.fct_trading_bulletins SET notice_name = notice_name || '（更正）' "
                    "WHERE deal_key = 'NXGC2018-001/01'")
    second = build_ocds(warehouse, out)
    record = read_validation_record(second.path)
    assert {k: v["status"] for k, v in record["parts"].items()} == {"2017": "carried", "2018": "new"}
    name = "release-package-2017-0001.json.gz"
    assert (second.path / name).stat().st_ino == (first.path / name).stat().st_ino
    assert record["files"][name]["sha256"] == read_validation_record(first.path)["files"][name]["sha256"]
    # a carried part keeps the content its build recorded; the rewritten part's content moved with its title
    before = read_validation_record(first.path)["files"]
    assert record["files"][name]["content_sha256"] == before[name]["content_sha256"]
    changed = "release-package-2018-0001.json.gz"
    assert record["files"][changed]["content_sha256"] != before[changed]["content_sha256"]
    assert (second.path / "release-package-2018-0001.json.gz").stat().st_ino != \
        (first.path / "release-package-2018-0001.json.gz").stat().st_ino
    assert second.releases == first.releases and second.records == first.records


def test_ocds_parts_written_from_one_masked_read_equal_the_parts_written_one_by_one(warehouse, tmp_path):
    """``write_ocds_parts`` masks and flattens every part a build writes in one query: each part's
    packages must be, byte for byte (decompressed, publishedDate aside), what its own build writes."""
    from dagster_project.publish.masking import MaskingPolicy
    from dagster_project.publish.ocds import write_ocds, write_ocds_parts
    from dagster_project.publish.ocds_config import load_config, open_package_text, package_files
    from dagster_project.publish.release import load_spec

    _sql(warehouse, "UPDATE main_marts.fct_deals SET fiscal_year = 2017 WHERE deal_key = 'NXZC2018-002/01'")
    _sql(warehouse, "UPDATE main_marts.fct_deals SET fiscal_year = NULL WHERE deal_key = 'NXGC2018-001/01'")
    cfg = dict(load_config(), base_uri="https://example.org/ocds/b/", releases_per_package=3, records_per_package=2)
    policy = MaskingPolicy.from_spec(load_spec()["masking"])
    together, alone = tmp_path / "together", tmp_path / "alone"
    together.mkdir(), alone.mkdir()
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        keys = ["2017", "unknown"]  # the fixture's two deals: one dated (moved to 2017), one without a year
        built = write_ocds_parts(con, together, cfg, policy, keys)
        # the part written last from the shared flat rows: its package positions restart at 0 (seq per part)
        one_by_one = {key: write_ocds(con, alone, cfg, policy, part=key) for key in keys}
    finally:
        con.close()
    assert {k: bool(built[k].releases) for k in keys} == {k: True for k in keys}
    for key in keys:  # the dated part (the fiscal-year filter) and the part without a year
        assert (built[key].files, built[key].releases, built[key].records) == \
            (one_by_one[key].files, one_by_one[key].releases, one_by_one[key].records)
    texts = lambda folder, key: {p.name: re.sub(r'"publishedDate": "[^"]*"', "", open_package_text(p).read())  # noqa: E731
                                 for p in package_files(folder) if f"-{key}-" in p.name}
    for key in keys:
        assert texts(together, key) == texts(alone, key) and texts(together, key)
