"""A release skipped as identical after a publishing-code change keeps later runs cheap (``parts.remember_rekeyed``),
and a release decides every dataset on one read of the dbt build state (``generations.BuildState``).

Wave 15 left: a publishing-code change moves every part's fingerprint, so the next build rebuilds every part; when the
content is the current release's (``skip_identical``) nothing is published — and the current release's manifest
still holds the fingerprints the old code gave its parts, so every later build by the new code rebuilt every part to
find the same content again (the unchanged re-run was never cheap again). Here the change is the rule catalogue seed
re-saved (a data file publishing reads: in the publishing code digest), which changes no published cell. Expected:
the first build by the new code rebuilds and validates every part and publishes nothing; the next one carries every
part; a changed figure then rebuilds its part only. The record is for the current release only: once another
release is published, it says nothing. Fixture marts: ``test_publish_support``.
"""
from __future__ import annotations

import json

import pytest

from dagster_project.publish import atomic, parts, release
from test_publish_support import publish_state, record_dbt_build, release_skipping_identical, run_sql

CHANGE = "UPDATE main_marts.fct_budget_lines SET amount_yuan = amount_yuan + 1 WHERE fiscal_year = 2018 AND code = '205'"


@pytest.fixture
def state(tmp_path, monkeypatch):
    return publish_state(tmp_path, monkeypatch)


def _resave_catalogue(tmp_path, monkeypatch) -> None:
    """The rule catalogue seed written again with other bytes and the same rules (a trailing line break)."""
    catalogue = tmp_path / "ref_rule_catalogue.csv"
    text = release.RULE_CATALOGUE_CSV.read_text(encoding="utf-8-sig")
    catalogue.write_text(text.rstrip("\n") + "\n\n", encoding="utf-8")
    monkeypatch.setattr(release, "RULE_CATALOGUE_CSV", catalogue)


def test_an_identical_release_by_new_code_keys_the_current_parts_by_it(state, tmp_path, monkeypatch):
    warehouse, out, _ = state
    first = release_skipping_identical(warehouse, out)
    written = sorted(first.parts_with("new"))
    assert not first.unchanged and written and first.parts_with("carried") == []
    assert release_skipping_identical(warehouse, out).parts_with("new") == []  # the same code: every part carried

    _resave_catalogue(tmp_path, monkeypatch)
    old_code = json.loads((first.path / "manifest.json").read_text(encoding="utf-8"))["publishing_code"]
    assert parts.code_fingerprint() != old_code
    rebuilt = release_skipping_identical(warehouse, out)
    assert rebuilt.unchanged and rebuilt.release_id == first.release_id
    assert sorted(rebuilt.parts_with("new")) == written  # every part rebuilt by the new code ...
    assert rebuilt.validation  # ... and validated by it before the staging folder was dropped
    assert atomic.read_pointer(out / "open-data") == first.release_id

    again = release_skipping_identical(warehouse, out)
    assert again.unchanged and again.release_id == first.release_id
    assert again.parts_with("new") == [] and sorted(again.parts_with("carried")) == written

    run_sql(warehouse, CHANGE)
    record_dbt_build(warehouse, ["fct_budget_lines"], "g2")
    changed = release_skipping_identical(warehouse, out)
    assert not changed.unchanged and changed.parts_with("new") == ["budget_lines/2018"]
    manifest = json.loads((changed.path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["publishing_code"] == parts.code_fingerprint()
    # every carried part is recorded with the fingerprint the new code gives it: the next build carries it too
    assert release_skipping_identical(warehouse, out).unchanged


def test_the_record_is_for_the_current_release_only(state, tmp_path, monkeypatch):
    warehouse, out, _ = state
    first = release_skipping_identical(warehouse, out)
    _resave_catalogue(tmp_path, monkeypatch)
    assert release_skipping_identical(warehouse, out).unchanged
    root = out / "open-data"
    record = json.loads((root / parts.REKEYED).read_text(encoding="utf-8"))
    assert record["release_id"] == first.release_id and record["publishing_code"] == parts.code_fingerprint()
    monkeypatch.undo()  # back to the code that wrote the current release, then it publishes another one
    monkeypatch.setenv("GONGKAI_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("GONGKAI_OUT_DIR", str(out))
    run_sql(warehouse, CHANGE)
    record_dbt_build(warehouse, ["fct_budget_lines"], "g2")
    second = release_skipping_identical(warehouse, out)
    assert not second.unchanged
    previous = parts.PreviousRelease.read(root, second.release_id)
    # the record names the first release: the second's manifest is read as written
    assert previous.manifest == json.loads((second.path / "manifest.json").read_text(encoding="utf-8"))


def test_a_release_reads_the_dbt_build_state_once(state, monkeypatch):
    """Every dataset's cache key from one read of ``raw.stage_state`` (it was read twice per dataset: the dbt stage's
    record, then the generations — one scan each, and two answers if a build recorded between them)."""
    from dagster_project.transform import generations

    warehouse, out, _ = state
    reads = []
    original = generations.BuildState.read.__func__

    def counted(cls, con):
        reads.append(1)
        return original(cls, con)

    monkeypatch.setattr(generations.BuildState, "read", classmethod(counted))
    first = release_skipping_identical(warehouse, out)
    keyed = [d["name"] for d in release.load_spec()["datasets"] if "relation" in d and d["name"] in first.datasets]
    assert len(keyed) >= 5 and len(reads) == 1


def test_a_partial_year_build_by_new_code_leaves_no_part_rebuilt_at_every_run(state, tmp_path, monkeypatch):
    """A ``--fiscal-year`` build by new code carries the years it leaves alone as published — with the fingerprints
    the old code gave them — so the record holds those for them; the next whole build rebuilds those parts to find the
    same content, and must key them by this code too (they were rebuilt at every later run)."""
    warehouse, out, _ = state
    first = release_skipping_identical(warehouse, out)
    years = sorted({key.rpartition("/")[2] for key in first.parts_with("new")} - {parts.ALL, parts.UNKNOWN})
    assert len(years) >= 2
    _resave_catalogue(tmp_path, monkeypatch)
    partial = release.build_release(warehouse, out, run_id="r", ocds_dir=None, skip_identical=True,
                                    fiscal_years={int(years[0])})
    assert partial.unchanged and partial.release_id == first.release_id
    whole = release_skipping_identical(warehouse, out)
    assert whole.unchanged and whole.parts_with("new")  # the years the partial build left alone: rebuilt once
    again = release_skipping_identical(warehouse, out)
    assert again.unchanged and again.release_id == first.release_id and again.parts_with("new") == []
