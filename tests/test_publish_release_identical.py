"""A release whose content is the current release's is not published again (``build_release(skip_identical=True)``,
as the pipeline's release asset calls it; ``release_metadata.content_digest``).

The case: a readers change re-reads every file (ingest/reread.py) — the same bytes loaded again, new load rows with a
later ``loaded_at`` — and the new reading changes no figure; a new quality run finds the same findings (only its
``run_id`` differs, which datasets.yaml marks ``content_ignores``). The release would be the current one under a new
id. Expected: no new release folder, ``LATEST`` unchanged, the result names the
current release. A changed figure, or a source file with new bytes (the provenance the manifest lists), is a new
release. The fixture marts are ``test_publish_support``'s; the OCDS packages are built once and reused.

The digest describes what the release holds: a part carried from the current release keeps the content fingerprint
recorded when it was written (a partial-year release does not hide a change to another year), and the current release
is kept only while its own files pass its SHA256SUMS (a damaged one is replaced). OCDS packages rebuilt from the same
records (a publishing-code change rebuilds every part) differ in bytes — the envelope's ``publishedDate`` and the build
folder in the links — but not in content (``ocds_packages.content_digest``, recorded by the writer): no new release; a
changed bulletin is one.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil

import duckdb
import pytest

from dagster_project.publish import atomic
from dagster_project.publish.ocds import build_ocds
from dagster_project.publish.release import build_release
from test_publish_support import build_fixture_warehouse


# the OCDS packages' links as a deployment publishes them, not the output root's file URI: a test's copy of the first
# release lives in another folder, and a moved output root is another link (another content) by design
OCDS_BASE_URI = "https://ggzy.example.gov.cn/open-data/ocds/"


def _env(monkeypatch, root):
    monkeypatch.setenv("GONGKAI_OCDS_BASE_URI", OCDS_BASE_URI)
    monkeypatch.setenv("GONGKAI_WAREHOUSE", str(root / "wh" / "gongkai.duckdb"))
    monkeypatch.setenv("GONGKAI_OUT_DIR", str(root / "out"))
    monkeypatch.setenv("GONGKAI_RAW_DIR", str(root / "raw"))
    return root / "wh" / "gongkai.duckdb", root / "out"


@pytest.fixture(scope="module")
def first_release(tmp_path_factory):
    """The fixture warehouse, its OCDS build and first release, made once for the module (≈ 5.5 CPU-s a build)."""
    root = tmp_path_factory.mktemp("first_release")
    with pytest.MonkeyPatch.context() as mp:
        warehouse, out = _env(mp, root)
        warehouse.parent.mkdir()
        build_fixture_warehouse(warehouse)
        build_ocds(warehouse, out)
        return root, _release(warehouse, out)


@pytest.fixture
def published(first_release, tmp_path, monkeypatch):
    """A copy of the first release's warehouse and output root for one test (each test changes them). The copies'
    files have inodes of their own, so a carried part's digest is read from its bytes rather than taken from its
    status: the same digest, by the slower path (test_publish_ocds_digest_status proves the status path)."""
    template, first = first_release
    root = tmp_path / "case"
    shutil.copytree(template, root, symlinks=True)
    warehouse, out = _env(monkeypatch, root)
    return warehouse, out, dataclasses.replace(first, path=out / first.path.relative_to(template / "out"))


def _release(warehouse, out):
    return build_release(warehouse, out, run_id="test-run", ocds_dir=atomic.current_release_dir(out / "ocds"),
                         skip_identical=True)


def _releases(out) -> list[str]:
    root = out / "open-data"
    return sorted(p.name for p in root.iterdir() if p.is_dir() and (p / "manifest.json").exists())


def _load_again(warehouse, sha256: str | None = None) -> None:
    """Every current file loaded again, as a load run does: the earlier row no longer current, a new row (new load id,
    later loaded_at) — with the same bytes (a re-read) unless ``sha256`` says the publisher changed them."""
    con = duckdb.connect(str(warehouse))
    try:
        rows = con.execute("SELECT * FROM raw.load_files WHERE is_current").fetchall()
        columns = [d[0] for d in con.description]
        con.execute("UPDATE raw.load_files SET is_current = false WHERE is_current")
        for row in rows:
            new = dict(zip(columns, row))
            new["load_id"] = new["load_id"] + "-again"
            new["loaded_at"] = new["loaded_at"] + dt.timedelta(hours=1)
            if sha256:
                new["source_sha256"] = sha256
            con.execute(f"INSERT INTO raw.load_files ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                        list(new.values()))
    finally:
        con.close()


def _judge_again(warehouse) -> None:
    """A new quality run (later start, new id) finding the same findings, as a run after a re-read does."""
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("INSERT INTO quality.runs (run_id, started_at, success) VALUES ('run-c', TIMESTAMP '2026-12-06 04:00', true)")
        con.execute("INSERT INTO quality.findings SELECT * REPLACE ('run-c' AS run_id) FROM quality.findings "
                    "WHERE run_id = 'run-a'")
    finally:
        con.close()


def test_a_reread_that_changes_nothing_publishes_no_new_release(published):
    warehouse, out, first = published
    assert not first.unchanged and _releases(out) == [first.release_id]
    _load_again(warehouse)
    _judge_again(warehouse)
    again = _release(warehouse, out)
    assert again.unchanged and again.release_id == first.release_id and again.path == first.path
    assert _releases(out) == [first.release_id] and atomic.read_pointer(out / "open-data") == first.release_id
    assert not [p for p in (out / "open-data").iterdir() if p.is_dir() and p.name.startswith(".")]  # no staging left
    csv = (first.path / "data" / "quality_findings" / "quality_findings-2018.csv").read_text(encoding="utf-8-sig")
    assert "run-a" in csv and "run-c" not in csv  # the run that first published these findings
    # the release still lists its sources as loaded when it was published
    manifest = json.loads((first.path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["content_digest"] and {s["sha256"] for s in manifest["source_files"]} == {"ab" * 32}


def test_a_changed_figure_or_new_source_bytes_is_a_new_release(published):
    warehouse, out, first = published
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("UPDATE main_marts.fct_budget_lines SET amount_yuan = amount_yuan + 1 WHERE fiscal_year = 2018 "
                    "AND code = '205'")
    finally:
        con.close()
    changed = _release(warehouse, out)
    assert not changed.unchanged and changed.release_id != first.release_id
    assert atomic.read_pointer(out / "open-data") == changed.release_id
    _load_again(warehouse, sha256="cd" * 32)  # the publisher re-saved the file: same data, new bytes
    resaved = _release(warehouse, out)
    assert not resaved.unchanged and resaved.release_id not in (first.release_id, changed.release_id)
    manifest = json.loads((resaved.path / "manifest.json").read_text(encoding="utf-8"))
    assert {s["sha256"] for s in manifest["source_files"]} == {"cd" * 32}
    assert manifest["parts"]["new"] == []  # every part carried: only the sources changed


def _latest_csv_rows(out, dataset: str, part: str) -> int:
    folder = atomic.current_release_dir(out / "open-data")
    text = (folder / "data" / dataset / f"{dataset}-{part}.csv").read_text(encoding="utf-8-sig")
    return len(text.splitlines()) - 1


def test_a_partial_year_release_does_not_hide_a_change_to_another_year(published):
    """The content digest describes what the release holds: a release for 2019 carries 2018 as published, so a later
    full release still sees the 2018 findings changed in the warehouse (review of wave 13: it returned ``unchanged``
    and the published 2018 CSV kept a finding the warehouse no longer had)."""
    warehouse, out, first = published
    before = _latest_csv_rows(out, "quality_findings", "2018")
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("DELETE FROM quality.findings WHERE run_id = 'run-a' AND rule_id = 'DISC_LATE' "
                    "AND fiscal_year = 2018")
        expected = con.execute("SELECT count(DISTINCT finding_key) FROM quality.findings "
                               "WHERE run_id = 'run-a' AND fiscal_year = 2018").fetchone()[0]
    finally:
        con.close()
    assert expected == before - 1
    build_release(warehouse, out, run_id="test-run", fiscal_years={2019},
                  ocds_dir=atomic.current_release_dir(out / "ocds"), skip_identical=True)
    assert _latest_csv_rows(out, "quality_findings", "2018") == before  # 2018 carried as published
    full = _release(warehouse, out)
    assert not full.unchanged and full.release_id != first.release_id
    assert _latest_csv_rows(out, "quality_findings", "2018") == expected


@pytest.mark.parametrize("damage", ["budget_lines", "quality_findings"])
def test_a_damaged_current_release_is_replaced_even_when_its_content_is_unchanged(published, damage):
    """A file of ``LATEST`` truncated: the build finds it (a carried part's checksum, or the current release's own
    SHA256SUMS for a part written anew — the findings after a new quality run) and publishes a release that passes its
    checksums, instead of dropping the staging because the content digest is equal."""
    from dagster_project.publish.release_validation import verify_sha256sums

    warehouse, out, first = published
    if damage == "quality_findings":
        _judge_again(warehouse)  # a new run's id: the findings part is still carried (run_id is no part identity)
    target = first.path / "data" / damage / f"{damage}-2018.csv"
    target.write_bytes(target.read_bytes()[:40])
    assert verify_sha256sums(first.path)
    again = _release(warehouse, out)
    assert not again.unchanged and again.release_id != first.release_id
    assert atomic.read_pointer(out / "open-data") == again.release_id
    assert verify_sha256sums(again.path) == []
    assert "replaces_damaged_release" in again.validation or damage == "budget_lines"


def _rebuild_ocds(warehouse, out, monkeypatch) -> None:
    """The OCDS packages built again as after a publishing-code change: every part written anew (a new build folder, so
    new package ``uri``s and record links, and a new ``publishedDate``) from the same bulletins and deals."""
    monkeypatch.setenv("GONGKAI_NO_CARRY", "1")
    try:
        build_ocds(warehouse, out)
    finally:
        monkeypatch.delenv("GONGKAI_NO_CARRY")


def test_ocds_packages_rebuilt_with_the_same_records_publish_no_new_release(published, monkeypatch):
    """The packages' content is their text without the envelope's ``publishedDate`` and the build folder (recorded by
    the writer, ``ocds_packages.content_digest``): rebuilt from unchanged records they publish nothing new, though every
    package's bytes differ."""
    warehouse, out, first = published
    old = atomic.current_release_dir(out / "ocds")
    _load_again(warehouse)
    _judge_again(warehouse)
    _rebuild_ocds(warehouse, out, monkeypatch)
    new = atomic.current_release_dir(out / "ocds")
    assert new != old
    names = sorted(p.name for p in first.path.joinpath("ocds").iterdir())
    assert names and all((new / n).read_bytes() != (old / n).read_bytes() for n in names)  # the envelopes differ
    again = _release(warehouse, out)
    assert again.unchanged and again.release_id == first.release_id
    assert _releases(out) == [first.release_id] and atomic.read_pointer(out / "open-data") == first.release_id


def test_ocds_packages_whose_releases_changed_make_a_new_release(published, monkeypatch):
    """One bulletin's title changed: its part's release and record packages differ in content — a new release, whose
    packages are the rebuilt ones."""
    warehouse, out, first = published
    con = duckdb.connect(str(warehouse))
    try:
        key = con.execute("SELECT min(bulletin_key) FROM main_marts.fct_trading_bulletins "
                          "WHERE notice_name IS NOT NULL").fetchone()[0]
        con.execute("UPDATE main_marts.fct_trading_bulletins SET notice_name = notice_name || '（更正）' "
                    "WHERE bulletin_key = ?", [key])
    finally:
        con.close()
    _rebuild_ocds(warehouse, out, monkeypatch)
    changed = _release(warehouse, out)
    assert not changed.unchanged and changed.release_id != first.release_id
    assert atomic.read_pointer(out / "open-data") == changed.release_id
    before = json.loads((first.path / "manifest.json").read_text(encoding="utf-8"))
    after = json.loads((changed.path / "manifest.json").read_text(encoding="utf-8"))
    assert before["content_digest"] != after["content_digest"]


def test_the_content_digest_leaves_out_only_the_build_time_and_folder():
    """``content_digest`` of one package text written by two builds (time, folder) is one; a changed item, another
    OCDS base (a setting: the published links move) or another envelope field is another."""
    from dagster_project.publish.ocds_packages import _package_head, content_digest

    def digest(build: str, now: str, item: str, base: str = "https://example.org/ocds/", version: str = "1.1"):
        uri = f"{base}{build}/"
        envelope = {"uri": uri, "version": version, "publishedDate": now, "packages": [uri + "release-package-0001.json"]}
        head = _package_head(envelope, "record-package-0001.json", "records")
        text = (head + "\n" + item.replace("<uri>", uri) + "\n]}\n").encode("utf-8")
        return content_digest(head, text, len(head.encode("utf-8")) + 1, uri)

    item = '{"ocid": "x", "releases": [{"url": "<uri>release-package-0001.json#b1"}]}'
    one = digest("20261206T010101000Z", "2026-12-06T01:01:01Z", item)
    assert one == digest("20261206T020202000Z", "2026-12-06T02:02:02Z", item)
    assert one != digest("20261206T020202000Z", "2026-12-06T02:02:02Z", item.replace('"x"', '"y"'))
    assert one != digest("20261206T010101000Z", "2026-12-06T01:01:01Z", item, base="https://example.net/ocds/")
    assert one != digest("20261206T010101000Z", "2026-12-06T01:01:01Z", item, version="1.2")
