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


def test_changed_file_supersedes_exactly_its_rows(tmp_path, con):
    raw = tmp_path / "raw"
    write_csv(raw / "portal" / "a.csv", ["x", "BAD"])
    write_csv(raw / "portal" / "b.csv", ["z"])
    first = framework.load_family(con, raw, "portal", portal_csv_loader)
    write_csv(raw / "portal" / "a.csv", ["x2", "y2"])
    report = framework.load_family(con, raw, "portal", portal_csv_loader)
    assert report.loaded == ["portal/a.csv"] and report.unchanged == ["portal/b.csv"]
    current = [t for t in titles(con) if not t[2]]
    assert current == [("portal/a.csv", "x2", False), ("portal/a.csv", "y2", False), ("portal/b.csv", "z", False)]
    # the old version's rows and reject are kept as a superseded version (never deleted), under their own load
    old = con.execute("SELECT title, load_id FROM raw.portal_publications WHERE is_retired").fetchall()
    assert old == [("x", first.load_id)]
    assert con.execute("SELECT raw_value, is_retired FROM raw.load_rejects").fetchall() == [("BAD", True)]
    history = con.execute(
        "SELECT load_id, is_current, rows_rejected FROM raw.load_files WHERE source_file='portal/a.csv' ORDER BY loaded_at"
    ).fetchall()
    assert history == [(first.load_id, False, 1), (report.load_id, True, 0)]


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


def test_a_file_refused_by_older_readers_is_read_again_after_they_change(tmp_path, con, monkeypatch):
    # an unchanged file kept its last outcome for ever: a file the readers of that day refused (a web export named
    # .xls before gongkai read HTML tables) stayed refused after an upgrade that reads it
    raw = tmp_path / "raw"
    write_csv(raw / "portal" / "good.csv", ["x"])
    write_csv(raw / "portal" / "later.csv", ["y"])

    def older_readers(con, f, load_id):
        if f.rel == "portal/later.csv":
            raise framework.FileRejected(f"{f.rel}: 无法读取 (not read by these readers)")
        return portal_csv_loader(con, f, load_id)

    monkeypatch.setattr(framework, "_readers_version", lambda loader: "readers-1")
    first = framework.load_family(con, raw, "portal", older_readers)
    assert first.rejected == ["portal/later.csv"]
    same = framework.load_family(con, raw, "portal", portal_csv_loader)  # same readers: nothing read again
    assert same.loaded == same.rejected == [] and sorted(same.unchanged) == ["portal/good.csv", "portal/later.csv"]
    monkeypatch.setattr(framework, "_readers_version", lambda loader: "readers-2")
    upgraded = framework.load_family(con, raw, "portal", portal_csv_loader)
    assert upgraded.loaded == ["portal/good.csv", "portal/later.csv"] and upgraded.unchanged == []
    assert [r[0] for r in titles(con) if not r[2]] == ["portal/good.csv", "portal/later.csv"]
    again = framework.load_family(con, raw, "portal", portal_csv_loader)
    assert again.loaded == [] and sorted(again.unchanged) == ["portal/good.csv", "portal/later.csv"]


def test_a_loaded_file_is_read_again_after_the_readers_change(tmp_path, con, monkeypatch):
    # a warehouse loaded before a reader fix kept the old reading of every unchanged file until its publisher changed
    # it: the file is read again, the earlier reading kept superseded (same bytes, same sha256), the accounting whole
    raw = tmp_path / "raw"
    write_csv(raw / "portal" / "a.csv", ["x", "BAD"])
    write_csv(raw / "portal" / "b.csv", ["y"])

    def older_readers(con, f, load_id):  # read every title upper-cased: the reading a fix corrects
        outcome = portal_csv_loader(con, f, load_id)
        con.execute("UPDATE raw.portal_publications SET title = upper(title) WHERE load_id = ?", [load_id])
        return outcome

    monkeypatch.setattr(framework, "_readers_version", lambda loader: "readers-1")
    framework.load_family(con, raw, "portal", older_readers)
    before = dict(con.execute("SELECT source_file, load_id FROM raw.load_files WHERE is_current").fetchall())
    assert framework.load_family(con, raw, "portal", portal_csv_loader).loaded == []  # same readers: nothing read
    assert sorted(r[1] for r in titles(con)) == ["X", "Y"]
    monkeypatch.setattr(framework, "_readers_version", lambda loader: "readers-2")
    upgraded = framework.load_family(con, raw, "portal", portal_csv_loader)
    assert upgraded.loaded == ["portal/a.csv", "portal/b.csv"] and upgraded.unchanged == []
    assert (upgraded.rows_in, upgraded.rows_loaded, upgraded.rows_rejected) == (3, 2, 1)
    assert [r for r in titles(con) if not r[2]] == [("portal/a.csv", "x", False), ("portal/b.csv", "y", False)]
    assert [r for r in titles(con) if r[2]] == [("portal/a.csv", "X", True), ("portal/b.csv", "Y", True)]
    history = con.execute("SELECT source_file, count(DISTINCT source_sha256), count(*), count(*) FILTER (is_current), "
                          "bool_and(rows_in = rows_loaded + rows_rejected) FROM raw.load_files GROUP BY 1 "
                          "ORDER BY 1").fetchall()
    assert history == [("portal/a.csv", 1, 2, 1, True), ("portal/b.csv", 1, 2, 1, True)]
    # the earlier reading's row rejects are superseded with it; the new reading's are current
    rejects = con.execute("SELECT load_id, is_retired FROM raw.load_rejects ORDER BY is_retired").fetchall()
    assert [r[1] for r in rejects] == [False, True] and rejects[1][0] == before["portal/a.csv"]
    again = framework.load_family(con, raw, "portal", portal_csv_loader)
    assert again.loaded == [] and sorted(again.unchanged) == ["portal/a.csv", "portal/b.csv"]


def test_files_gone_when_the_readers_change_are_retired_in_that_run(tmp_path, con, monkeypatch):
    # files to read again were taken out of the present files before the vanished ones were counted: a refused file
    # that vanished in the run its readers changed stayed current (and refused) until the next run
    raw = tmp_path / "raw"
    write_csv(raw / "portal" / "a.csv", ["x"])
    write_csv(raw / "portal" / "b.csv", ["y"])
    (raw / "portal" / "notes.txt").write_text("not a table", encoding="utf-8")
    monkeypatch.setattr(framework, "_readers_version", lambda loader: "readers-1")
    first = framework.load_family(con, raw, "portal", portal_csv_loader)
    assert first.rejected == ["portal/notes.txt"]
    (raw / "portal" / "notes.txt").unlink()
    monkeypatch.setattr(framework, "_readers_version", lambda loader: "readers-2")
    upgraded = framework.load_family(con, raw, "portal", portal_csv_loader)
    assert upgraded.retired == ["portal/notes.txt"]
    assert con.execute("SELECT status FROM raw.load_files WHERE is_current AND source_file = 'portal/notes.txt'"
                       ).fetchall() == [("retired",)]


def test_a_reading_by_changed_readers_is_a_new_input_to_the_stages_after_it(tmp_path, con, monkeypatch):
    # the dbt stage is skipped while its inputs' fingerprint stays: the same bytes read again by fixed readers must
    # move it, or the marts keep the old reading
    from dagster_project import stage_state

    raw = tmp_path / "raw"
    write_csv(raw / "portal" / "a.csv", ["x"])
    monkeypatch.setattr(framework, "_readers_version", lambda loader: "readers-1")
    framework.load_family(con, raw, "portal", portal_csv_loader)
    before = stage_state.raw_inputs_digest(con)
    framework.load_family(con, raw, "portal", portal_csv_loader)
    assert stage_state.raw_inputs_digest(con) == before  # nothing read: the stages after it stay skipped
    monkeypatch.setattr(framework, "_readers_version", lambda loader: "readers-2")
    framework.load_family(con, raw, "portal", portal_csv_loader)
    assert stage_state.raw_inputs_digest(con) != before


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


def _batch_capable(batches: list[list[str]], crash_on: str | None = None):
    """portal_csv_loader with a ``load_batch``: refuses files whose first title is REFUSE (None: loaded alone),
    raises after its inserts when a batch holds ``crash_on``."""
    def load(con, f, load_id):
        if f.path.read_text(encoding="utf-8").splitlines()[1:2] == ["REFUSE"]:
            raise framework.FileRejected(f"{f.rel}: 拒收 (refused)")
        return portal_csv_loader(con, f, load_id)

    def load_batch(con, files, load_id):
        batches.append([f.rel for f in files])
        outcomes = []
        for f in files:
            if f.path.read_text(encoding="utf-8").splitlines()[1:2] == ["REFUSE"]:
                outcomes.append(None)
                continue
            outcomes.append(portal_csv_loader(con, f, load_id))
        if crash_on in {f.rel for f in files}:
            raise ValueError("batch broke")
        return outcomes

    load.load_batch = load_batch
    return load


def test_a_batch_loader_loads_many_files_in_one_transaction_and_falls_back_to_one_by_one(tmp_path, con, monkeypatch):
    monkeypatch.setattr(framework, "BATCH_FILES", 3)
    raw = tmp_path / "raw"
    for i in range(7):
        write_csv(raw / "portal" / f"f{i}.csv", [f"t{i}", "BAD"])
    (raw / "portal" / "f4.csv").write_text("nope\n1\n", encoding="utf-8")   # the loader raises FileRejected on it
    write_csv(raw / "portal" / "f5.csv", ["REFUSE"])                     # the batch loader leaves it out
    batches: list[list[str]] = []
    report = framework.load_family(con, raw, "portal", _batch_capable(batches, crash_on="portal/f4.csv"))
    assert [len(b) for b in batches] == [3, 3, 1]
    # the batch holding f4 was rolled back whole and loaded one by one: f4 rejected alone with its reason
    assert sorted(report.rejected) == ["portal/f4.csv", "portal/f5.csv"]
    assert sorted(report.loaded) == [f"portal/f{i}.csv" for i in (0, 1, 2, 3, 6)]
    assert (report.rows_in, report.rows_loaded + report.rows_rejected) == (10, 10)
    assert sorted(t for _, t, _ in titles(con)) == ["t0", "t1", "t2", "t3", "t6"]
    files = con.execute("SELECT source_file, status, is_current FROM raw.load_files ORDER BY 1").fetchall()
    assert [(f, s) for f, s, _ in files] == [(f"portal/f{i}.csv", "rejected" if i in (4, 5) else "loaded_with_rejects")
                                             for i in range(7)] and all(c for _, _, c in files)
    assert con.execute("SELECT count(*) FROM raw.load_rejects WHERE raw_value = 'BAD'").fetchone()[0] == 5
    # a second run after a change supersedes the changed file's rows inside the batch
    write_csv(raw / "portal" / "f0.csv", ["t0-new"])
    batches.clear()
    again = framework.load_family(con, raw, "portal", _batch_capable(batches))
    assert again.loaded == ["portal/f0.csv"] and batches == [["portal/f0.csv"]]
    assert [t for f, t, retired in titles(con) if f == "portal/f0.csv"] == ["t0", "t0-new"]
    assert con.execute("SELECT is_retired FROM raw.portal_publications WHERE title = 't0'").fetchone() == (True,)
    history = con.execute("SELECT is_current FROM raw.load_files WHERE source_file = 'portal/f0.csv' "
                          "ORDER BY loaded_at").fetchall()
    assert history == [(False,), (True,)]


def test_file_that_turns_unreadable_no_longer_contributes_rows(tmp_path, con):
    raw = tmp_path / "raw"
    write_csv(raw / "portal" / "a.csv", ["x"])
    framework.load_family(con, raw, "portal", portal_csv_loader)
    (raw / "portal" / "a.csv").write_text("nope\n1\n", encoding="utf-8")
    report = framework.load_family(con, raw, "portal", portal_csv_loader)
    assert report.rejected == ["portal/a.csv"]
    # the new version says nothing readable; the old rows are not current any more, kept superseded
    assert titles(con) == [("portal/a.csv", "x", True)]
    statuses = con.execute(
        "SELECT status, is_current FROM raw.load_files WHERE source_file='portal/a.csv' ORDER BY loaded_at").fetchall()
    assert statuses == [("loaded", False), ("rejected", True)]


# ---- the raw root is guarded, and only the raw root is read -------------------------------------------

def test_a_missing_raw_root_fails_before_anything_is_touched(tmp_path, con):
    raw = tmp_path / "raw"
    write_csv(raw / "portal" / "a.csv", ["x"])
    framework.load_family(con, raw, "portal", portal_csv_loader)
    before = con.execute("SELECT * FROM raw.load_files").fetchall()
    with pytest.raises(framework.RawRootError, match="raw root does not exist: .*mistyped"):
        framework.load_family(con, tmp_path / "mistyped", "portal", portal_csv_loader)
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(framework.RawRootError, match="not a folder"):
        framework.load_family(con, tmp_path / "a_file", "portal", portal_csv_loader)
    assert con.execute("SELECT * FROM raw.load_files").fetchall() == before


def test_a_family_that_would_lose_every_file_is_not_retired_unless_allowed(tmp_path, con):
    raw = tmp_path / "raw"
    write_csv(raw / "portal" / "a.csv", ["x"])
    write_csv(raw / "portal" / "b.csv", ["y"])
    framework.load_family(con, raw, "portal", portal_csv_loader)
    for name in ("a.csv", "b.csv"):
        (raw / "portal" / name).unlink()
    with pytest.raises(framework.RetireGuardTripped, match="GONGKAI_ALLOW_RETIRE"):
        framework.load_family(con, raw, "portal", portal_csv_loader)
    assert [t[2] for t in titles(con)] == [False, False]  # still current
    report = framework.load_family(con, raw, "portal", portal_csv_loader, retire_policy=framework.RetirePolicy(allow=True))
    assert sorted(report.retired) == ["portal/a.csv", "portal/b.csv"]


def test_a_drop_in_rows_beyond_the_share_is_not_retired(tmp_path, con):
    raw = tmp_path / "raw"
    write_csv(raw / "portal" / "big.csv", [f"t{i}" for i in range(8)])
    write_csv(raw / "portal" / "small.csv", ["x", "y"])
    framework.load_family(con, raw, "portal", portal_csv_loader)
    (raw / "portal" / "big.csv").unlink()  # 8 of 10 rows would go
    with pytest.raises(framework.RetireGuardTripped, match="80%"):
        framework.load_family(con, raw, "portal", portal_csv_loader)
    assert all(not retired for _, _, retired in titles(con))
    looser = framework.RetirePolicy(max_drop_share=0.9)
    assert framework.load_family(con, raw, "portal", portal_csv_loader, retire_policy=looser).retired == ["portal/big.csv"]


def test_links_outside_the_root_and_special_files_are_rejected_unread(tmp_path, con):
    import os

    raw = tmp_path / "raw"
    write_csv(raw / "portal" / "inside.csv", ["x"])
    outside = tmp_path / "outside"
    write_csv(outside / "secret.csv", ["SECRET LINE"])
    os.symlink(outside / "secret.csv", raw / "portal" / "to_outside.csv")
    os.symlink(raw / "portal" / "inside.csv", raw / "portal" / "to_inside.csv")  # inside the root: read
    os.symlink(outside, raw / "portal" / "folder_link")
    os.symlink(tmp_path / "nothing.csv", raw / "portal" / "dangling.csv")
    os.mkfifo(raw / "portal" / "pipe.csv")  # reading it would block the run forever
    read = []

    def recording(con, f, load_id):
        read.append(f.rel)
        return portal_csv_loader(con, f, load_id)

    report = framework.load_family(con, raw, "portal", recording)
    assert sorted(read) == ["portal/inside.csv", "portal/to_inside.csv"]
    assert sorted(report.rejected) == ["portal/dangling.csv", "portal/folder_link", "portal/pipe.csv",
                                       "portal/to_outside.csv"]
    reasons = dict(con.execute("SELECT source_file, reason FROM raw.load_files WHERE status = 'rejected'").fetchall())
    assert "outside the raw root" in reasons["portal/to_outside.csv"] and "SECRET" not in str(reasons)
    assert "not a regular file" in reasons["portal/pipe.csv"]
    # unchanged links are not rejected again on the next run
    assert framework.load_family(con, raw, "portal", recording).rejected == []


def test_reasons_carry_no_absolute_path_and_no_quoted_line(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    text = (f'Invalid Input Error: Malformed JSON in file "{raw}/trading/x.json", at byte 12 in record 2\n'
            'CSV Error on Line: 3\nOriginal Line: 张三,110101199003071234,13912345678\n'
            'temp file /var/tmp/gongkai/transcoded_1234.csv failed; see C:\\Users\\me\\x.csv')
    clean = framework.sanitise_reason(text, raw)
    assert "trading/x.json" in clean and str(tmp_path) not in clean
    assert "/var/tmp" not in clean and "Users" not in clean and "…/transcoded_1234.csv" in clean
    assert "110101199003071234" not in clean and "Line: 3" in clean
    assert framework.sanitise_reason("PROJECT_CODE/BID_SECTION_CODE 缺失", raw) == "PROJECT_CODE/BID_SECTION_CODE 缺失"
    assert len(framework.sanitise_reason("x" * 5000, raw)) <= framework.MAX_REASON_CHARS
