"""The ingest framework: hash-based incremental loads, replacement, retirement, row accounting.

A small real loader (CSV → raw.portal_publications through DuckDB) stands in for the family
loaders so these tests exercise only the framework's own decisions.
"""
from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from dagster_project.ingest import framework


def portal_csv_loader(con, f: framework.RawFile, load_id: str) -> framework.FileOutcome:
    with f.path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if rows and "title" not in rows[0]:
        raise framework.FileRejected(f"{f.rel}: 缺少 title 列 (no title column)")
    loaded, rejects = 0, []
    for index, row in enumerate(rows, start=2):
        if row["title"] == "BAD":
            rejects.append((None, index, "title", row["title"], "标题无效 (invalid title)"))
            continue
        con.execute(
            "INSERT INTO raw.portal_publications (load_id, source_file, source_sha256, source_row, title)"
            " VALUES (?,?,?,?,?)",
            [load_id, f.rel, f.sha256, index, row["title"]],
        )
        loaded += 1
    framework.insert_rejects(con, f, load_id, rejects)
    status = "loaded_with_rejects" if rejects else "loaded"
    return framework.FileOutcome(status, None, len(rows), loaded, len(rejects), "csv", "utf-8", "publications")


def write_csv(path: Path, titles: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["title"])
        writer.writerows([[t] for t in titles])


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "w.duckdb"))
    yield connection
    connection.close()


def titles(con) -> list[tuple]:
    return con.execute(
        "SELECT source_file, title, is_retired FROM raw.portal_publications ORDER BY 1, 2"
    ).fetchall()


def test_load_is_idempotent_and_accounts_for_every_row(tmp_path, con):
    raw = tmp_path / "raw"
    write_csv(raw / "portal" / "a.csv", ["x", "BAD", "y"])
    write_csv(raw / "portal" / "sub" / "b.csv", ["z"])
    first = framework.load_family(con, raw, "portal", portal_csv_loader)
    assert sorted(first.loaded) == ["portal/a.csv", "portal/sub/b.csv"]
    assert (first.rows_in, first.rows_loaded, first.rows_rejected) == (4, 3, 1)
    reject = con.execute("SELECT source_file, source_row, source_column, raw_value FROM raw.load_rejects").fetchall()
    assert reject == [("portal/a.csv", 3, "title", "BAD")]
    before = titles(con)
    second = framework.load_family(con, raw, "portal", portal_csv_loader)
    assert second.loaded == [] and sorted(second.unchanged) == ["portal/a.csv", "portal/sub/b.csv"]
    assert titles(con) == before
    assert con.execute("SELECT count(*) FROM raw.load_files").fetchone()[0] == 2


def test_changed_file_replaces_exactly_its_rows(tmp_path, con):
    raw = tmp_path / "raw"
    write_csv(raw / "portal" / "a.csv", ["x", "BAD"])
    write_csv(raw / "portal" / "b.csv", ["z"])
    framework.load_family(con, raw, "portal", portal_csv_loader)
    write_csv(raw / "portal" / "a.csv", ["x2", "y2"])
    report = framework.load_family(con, raw, "portal", portal_csv_loader)
    assert report.loaded == ["portal/a.csv"] and report.unchanged == ["portal/b.csv"]
    assert titles(con) == [("portal/a.csv", "x2", False), ("portal/a.csv", "y2", False), ("portal/b.csv", "z", False)]
    # the old version's reject went with its rows; history of loads is kept
    assert con.execute("SELECT count(*) FROM raw.load_rejects").fetchone()[0] == 0
    history = con.execute(
        "SELECT is_current, rows_rejected FROM raw.load_files WHERE source_file='portal/a.csv' ORDER BY loaded_at"
    ).fetchall()
    assert history == [(False, 1), (True, 0)]


def test_removed_file_is_retired_not_deleted(tmp_path, con):
    raw = tmp_path / "raw"
    write_csv(raw / "portal" / "a.csv", ["x"])
    write_csv(raw / "portal" / "b.csv", ["z"])
    framework.load_family(con, raw, "portal", portal_csv_loader)
    (raw / "portal" / "b.csv").unlink()
    report = framework.load_family(con, raw, "portal", portal_csv_loader)
    assert report.retired == ["portal/b.csv"]
    assert titles(con) == [("portal/a.csv", "x", False), ("portal/b.csv", "z", True)]
    status = con.execute("SELECT status FROM raw.load_files WHERE source_file='portal/b.csv' AND is_current").fetchone()
    assert status == ("retired",)
    # coming back loads it again as current rows
    write_csv(raw / "portal" / "b.csv", ["z"])
    framework.load_family(con, raw, "portal", portal_csv_loader)
    assert titles(con)[-1] == ("portal/b.csv", "z", False)


def test_rejected_file_is_recorded_and_the_rest_loads(tmp_path, con):
    raw = tmp_path / "raw"
    write_csv(raw / "portal" / "good.csv", ["x"])
    (raw / "portal" / "bad.csv").write_text("nope\n1\n", encoding="utf-8")
    (raw / "portal" / "notes.txt").write_text("hello", encoding="utf-8")
    report = framework.load_family(con, raw, "portal", portal_csv_loader)
    assert sorted(report.rejected) == ["portal/bad.csv", "portal/notes.txt"]
    assert report.loaded == ["portal/good.csv"]
    reasons = dict(con.execute(
        "SELECT source_file, reason FROM raw.load_rejects WHERE source_row IS NULL").fetchall())
    assert "no title column" in reasons["portal/bad.csv"]
    assert "unsupported file type" in reasons["portal/notes.txt"]
    # a rejected file leaves no partial rows behind
    assert [r[0] for r in titles(con)] == ["portal/good.csv"]


def test_loader_crash_is_a_file_reject_not_a_failed_run(tmp_path, con):
    raw = tmp_path / "raw"
    write_csv(raw / "portal" / "a.csv", ["x"])

    def broken(con, f, load_id):
        con.execute("INSERT INTO raw.portal_publications (load_id, source_file, source_sha256, source_row) VALUES ('l', ?, 's', 2)", [f.rel])
        raise ValueError("boom")

    report = framework.load_family(con, raw, "portal", broken)
    assert report.rejected == ["portal/a.csv"]
    assert titles(con) == []  # the partial insert was rolled back
    reason = con.execute("SELECT reason FROM raw.load_files WHERE is_current").fetchone()[0]
    assert "boom" in reason


def test_unbalanced_accounting_is_caught(tmp_path, con):
    raw = tmp_path / "raw"
    write_csv(raw / "portal" / "a.csv", ["x"])

    def lying(con, f, load_id):
        return framework.FileOutcome("loaded", None, rows_in=5, rows_loaded=1, rows_rejected=0)

    report = framework.load_family(con, raw, "portal", lying)
    assert report.rejected == ["portal/a.csv"]
    assert "accounting" in con.execute("SELECT reason FROM raw.load_files").fetchone()[0]


def test_file_that_turns_unreadable_no_longer_contributes_rows(tmp_path, con):
    raw = tmp_path / "raw"
    write_csv(raw / "portal" / "a.csv", ["x"])
    framework.load_family(con, raw, "portal", portal_csv_loader)
    (raw / "portal" / "a.csv").write_text("nope\n1\n", encoding="utf-8")
    report = framework.load_family(con, raw, "portal", portal_csv_loader)
    assert report.rejected == ["portal/a.csv"]
    assert titles(con) == []  # the new version says nothing readable; the old rows are not kept as current
    statuses = con.execute(
        "SELECT status, is_current FROM raw.load_files WHERE source_file='portal/a.csv' ORDER BY loaded_at").fetchall()
    assert statuses == [("loaded", False), ("rejected", True)]
