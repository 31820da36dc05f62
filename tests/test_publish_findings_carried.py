"""A year of ``quality_findings`` whose findings a new quality run judged the same is carried, not rewritten.

Every pipeline run that judges again writes its findings under a new ``run_id``; the published dataset lists it, and
the part fingerprint hashed it, so every year's findings part was written anew at every release (its bytes differ
only in ``run_id``). datasets.yaml marks ``run_id`` ``content_ignores``: a finding's published identity is its row
without the run (the whole-release skip already compared it so). A year whose findings are the same is carried like
any unchanged part — hard-linked, naming the run that first published them —; a year whose findings changed is
written with the new run's id.
"""
from __future__ import annotations

import json

import pytest

from dagster_project.publish import atomic
from dagster_project.publish.ocds import build_ocds
from dagster_project.publish.release import build_release
from test_publish_support import build_fixture_warehouse, run_sql

PART = "data/quality_findings/quality_findings-{}.csv"


@pytest.fixture
def published(tmp_path, monkeypatch):
    warehouse, out = tmp_path / "wh" / "gongkai.duckdb", tmp_path / "out"
    monkeypatch.setenv("GONGKAI_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("GONGKAI_OUT_DIR", str(out))
    monkeypatch.setenv("GONGKAI_RAW_DIR", str(tmp_path / "raw"))
    monkeypatch.delenv("GONGKAI_NO_CARRY", raising=False)
    warehouse.parent.mkdir()
    build_fixture_warehouse(warehouse)
    build_ocds(warehouse, out)
    return warehouse, out, _release(warehouse, out)


def _release(warehouse, out):
    return build_release(warehouse, out, run_id="test-run", ocds_dir=atomic.current_release_dir(out / "ocds"),
                         skip_identical=True)


def _judge_again(warehouse, run: str, hour: int, extra: str = "") -> None:
    """A new quality run (later start, new id) repeating the latest run's findings, plus ``extra`` rows."""
    run_sql(warehouse,
         f"INSERT INTO quality.runs (run_id, started_at, success) VALUES ('{run}', TIMESTAMP '2026-12-06 {hour:02d}:00', true)",
         f"INSERT INTO quality.findings SELECT * REPLACE ('{run}' AS run_id) FROM quality.findings WHERE run_id = "
         "(SELECT run_id FROM quality.runs WHERE run_id <> '" + run + "' ORDER BY started_at DESC LIMIT 1)",
         *([extra] if extra else []))


def _change_a_budget_figure(warehouse) -> None:  # so that the release is a new one
    run_sql(warehouse, "UPDATE main_marts.fct_budget_lines SET amount_yuan = amount_yuan + 1 "
                    "WHERE fiscal_year = 2018 AND code = '205'")


def test_findings_judged_the_same_are_carried_and_a_changed_year_is_written(published):
    warehouse, out, first = published
    part_2018 = first.path / PART.format(2018)
    assert "run-a" in part_2018.read_text(encoding="utf-8-sig")

    _judge_again(warehouse, "run-c", 4)
    _change_a_budget_figure(warehouse)
    second = _release(warehouse, out)
    assert not second.unchanged and second.release_id != first.release_id
    assert "quality_findings/2018" in second.parts_with("carried")
    assert (second.path / PART.format(2018)).samefile(part_2018)  # the same bytes, linked
    assert "run-c" not in (second.path / PART.format(2018)).read_text(encoding="utf-8-sig")
    # what the download says of the dataset matches: a carried year names the run that first published it
    resource = next(r for r in json.loads((second.path / "datapackage.json").read_text(encoding="utf-8"))["resources"]
                    if r["name"] == "quality_findings_2018")
    said = f"{resource.get('title', '')}\n{resource.get('description', '')}"
    assert "latest run)" not in said and "最近一次运行）" not in said
    assert "first published" in said and "首次发布" in said

    # a new run finds one more 2018 finding: that year is written anew, under the new run's id
    _judge_again(warehouse, "run-d", 5, extra=(
        "INSERT INTO quality.findings (run_id, kind, suite, rule_id, severity, publisher_code, publisher_name, "
        "fiscal_year, object_key, finding_key) VALUES ('run-d', 'compliance', 'fixture', 'DISC_MISSING', 'failure', "
        "'640000', '宁夏回族自治区', 2018, 'gov_gpb_expense', 'DISC_MISSING|640000|2018|gov_gpb_expense')"))
    third = _release(warehouse, out)
    assert not third.unchanged and "quality_findings/2018" in third.parts_with("new")
    text = (third.path / PART.format(2018)).read_text(encoding="utf-8-sig")
    assert "run-d" in text and "run-a" not in text and "DISC_MISSING" in text
    assert len(text.splitlines()) == len(part_2018.read_text(encoding="utf-8-sig").splitlines()) + 1
