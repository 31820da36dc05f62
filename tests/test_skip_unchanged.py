"""An unchanged re-run repeats no work after dbt: the quality asset carries the previous run's results forward
(Great Expectations not run, the run still appended so the report says "no change" and the integrity gate holds),
and the dashboards keep their pages. A moved as-of date runs both again.

Real DuckDB, GX and plotly on a copy of the session's sample warehouse (``sample_built``): the copy's marts were
built by ``dbt build`` from the sample's raw files, so the dbt stage's fingerprint is recorded there, as the dbt
asset does after a whole-project build.
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
import time

import dagster as dg
import duckdb
import pytest

from dagster_project.paths import REPO_ROOT
from dagster_support import materialization_metadata
from quality_support import fail_one_integrity_check

SAMPLE = REPO_ROOT / "data" / "raw"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (SAMPLE / "ground_truth.json").is_file(), reason="the bundled sample is not generated yet"),
]


_meta = materialization_metadata


def _files(folder) -> dict[str, tuple[int, int, bytes]]:
    """name -> (inode, mtime in ns, content) of every file a rendering wrote."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith(".")}


def _scalar(warehouse, sql: str, params=()):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchone()
    finally:
        con.close()


@pytest.fixture(scope="module")
def runs(sample_built, tmp_path_factory):
    """Three materialisations of quality + dashboards: first, unchanged, as-of date moved by a day."""
    from dagster_project import stage_state
    from dagster_project.publish.assets import dashboards
    from dagster_project.quality.assets import quality_findings
    from dagster_project.transform.assets import dbt_inputs_fingerprint

    built, _, _ = sample_built
    tmp = tmp_path_factory.mktemp("skip_unchanged")
    warehouse, out = tmp / "warehouse.duckdb", tmp / "out"
    shutil.copy(built, warehouse)
    today = dt.date.today()
    results, files, reports = [], [], []
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GONGKAI_RAW_DIR", str(SAMPLE))
        mp.setenv("GONGKAI_WAREHOUSE", str(warehouse))
        mp.setenv("GONGKAI_OUT_DIR", str(out))
        mp.setenv("GONGKAI_AS_OF", today.isoformat())  # the date sample_built was built for
        fingerprint = dbt_inputs_fingerprint()
        con = duckdb.connect(str(warehouse))
        try:
            stage_state.record(con, "dbt", fingerprint)
        finally:
            con.close()
        for as_of in (today, today, today + dt.timedelta(days=1)):
            mp.setenv("GONGKAI_AS_OF", as_of.isoformat())
            started = time.perf_counter()
            result = dg.materialize([quality_findings, dashboards], instance=dg.DagsterInstance.ephemeral())
            print(f"quality + dashboards, as of {as_of}: {time.perf_counter() - started:.1f} s")
            assert result.success
            results.append(result)
            files.append(_files(out / "dashboards"))
            reports.append((out / "quality" / "index.html").read_text(encoding="utf-8"))
        env = {"warehouse": warehouse, "out": out, "reports": reports, "as_of": as_of}
    return results, files, env


def test_unchanged_rerun_carries_quality_forward(runs):
    from dagster_project.quality.assets import FINDINGS_KEY

    (first, second, _), _, env = runs
    first_meta, second_meta = _meta(first, FINDINGS_KEY), _meta(second, FINDINGS_KEY)
    assert "quality_carried_from_run" not in first_meta
    first_run = first_meta["run_id"]
    assert second_meta["quality_carried_from_run"] == first_run
    assert second_meta["gx_seconds"] == 0.0
    second_run = second_meta["run_id"]
    assert second_run != first_run
    # appended as a run of its own: the latest run, with the first run's findings and checks under its id
    assert _scalar(env["warehouse"], "select carried_from_run, started_at > (select started_at from quality.runs "
                   "where run_id = ?) from quality.runs where run_id = ?", [first_run, second_run]) == (first_run, True)
    same = """select count(*) from (
                (select rule_id, finding_key, source_row from quality.findings where run_id = ?
                 except all select rule_id, finding_key, source_row from quality.findings where run_id = ?)
                union all
                (select rule_id, finding_key, source_row from quality.findings where run_id = ?
                 except all select rule_id, finding_key, source_row from quality.findings where run_id = ?))"""
    assert _scalar(env["warehouse"], same, [first_run, second_run, second_run, first_run]) == (0,)
    assert _scalar(env["warehouse"], "select count(*) from quality.findings where run_id = ?", [second_run])[0] > 0
    assert second_meta["findings"] == first_meta["findings"] > 0
    page = env["reports"][1]
    assert 'id="carried"' not in env["reports"][0]
    assert "no change since last run" in page and first_run in page and 'id="carried"' in page


def test_carried_integrity_checks_are_the_same_evidence(runs):
    (first, second, _), _, _ = runs

    def integrity(result):
        return {e.check_name: (e.passed, e.metadata.get("quality_carried_from_run"))
                for e in result.get_asset_check_evaluations() if e.check_name == "suite_integrity"}

    assert integrity(first) == {"suite_integrity": (True, None)}
    (passed, carried), = integrity(second).values()
    assert passed and carried.value == _meta(first, dg.AssetKey(["quality", "findings"]))["run_id"]


def test_unchanged_rerun_keeps_the_dashboard_pages(runs):
    from dagster_project.publish.assets import DASHBOARDS_KEY

    (first, second, _), (first_files, second_files, _), _ = runs
    assert "skipped" not in _meta(first, DASHBOARDS_KEY)
    assert "skipped" in _meta(second, DASHBOARDS_KEY)
    assert {"index.html", "plotly.min.js", "disclosure_compliance.html"} <= set(first_files)
    assert second_files == first_files  # same files, same inodes and times: not written again


def test_a_moved_as_of_date_runs_quality_and_dashboards_again(runs):
    from dagster_project.publish.assets import DASHBOARDS_KEY
    from dagster_project.quality.assets import FINDINGS_KEY

    (_, second, third), (_, second_files, third_files), _ = runs
    meta = _meta(third, FINDINGS_KEY)
    assert "quality_carried_from_run" not in meta and meta["gx_seconds"] > 0
    dashboards = _meta(third, DASHBOARDS_KEY)
    assert "skipped" not in dashboards  # looked at again, page by page
    # the marts were not rebuilt for the new date: a page whose relations and findings are the same is kept as it is
    page = "disclosure_compliance.html"
    assert "disclosure_compliance" in dashboards["pages_kept"]
    assert third_files[page] == second_files[page]


def test_a_damaged_page_or_other_inputs_are_not_taken_as_unchanged(runs, tmp_path):
    """The dashboards' manifest vouches for every file byte for byte; the quality fingerprint moves with the
    raw files and the dbt build it judged."""
    from dagster_project import stage_state
    from dagster_project.publish.dashboards import RENDERED_MANIFEST, rendered_unchanged
    from dagster_project.quality.carry import quality_fingerprint

    _, _, env = runs
    folder = tmp_path / "dashboards"
    shutil.copytree(env["out"] / "dashboards", folder)
    recorded = json.loads((folder / RENDERED_MANIFEST).read_text(encoding="utf-8"))["fingerprint"]
    assert rendered_unchanged(folder, recorded) is not None
    assert rendered_unchanged(folder, "another") is None
    with (folder / "disclosure_compliance.html").open("a", encoding="utf-8") as fh:
        fh.write("<!-- edited -->")
    assert rendered_unchanged(folder, recorded) is None
    (folder / "disclosure_compliance.html").unlink()
    assert rendered_unchanged(folder, recorded) is None

    warehouse = tmp_path / "w.duckdb"
    shutil.copy(env["warehouse"], warehouse)
    day = dt.date.today()
    before = quality_fingerprint(warehouse, day)
    assert before is not None and quality_fingerprint(warehouse, day) == before
    def change(action) -> str | None:
        con = duckdb.connect(str(warehouse))
        try:
            action(con)
        finally:
            con.close()
        return quality_fingerprint(warehouse, day)

    edited = change(lambda con: con.execute(
        "update raw.load_files set source_sha256 = 'edited' where source_file = "
        "(select min(source_file) from raw.load_files where is_current)"))
    rebuilt = change(lambda con: stage_state.record(con, "dbt", "rebuilt from other inputs"))
    # a dbt build under way or died half-way forgets its fingerprint: unknown, so GX runs
    unknown = change(lambda con: stage_state.forget(con, "dbt"))
    assert len({before, edited, rebuilt}) == 3 and unknown is None


def test_a_carried_integrity_failure_still_blocks_publication(runs, tmp_path):
    """The gate holds on carried evidence: a run whose pipeline check failed, carried, fails the blocking check."""
    from dagster_project.quality.assets import suite_check_result
    from dagster_project.quality.carry import carry_previous_run, quality_fingerprint
    from dagster_project.quality.suites import load_suites

    _, _, env = runs
    warehouse, out = tmp_path / "w.duckdb", tmp_path / "out"
    shutil.copy(env["warehouse"], warehouse)
    (out / "quality" / "gx_data_docs").mkdir(parents=True)
    (out / "quality" / "gx_data_docs" / "index.html").write_text("<html></html>", encoding="utf-8")
    latest = fail_one_integrity_check(warehouse)
    suites = load_suites()
    run = carry_previous_run(warehouse, out, suites, quality_fingerprint(warehouse, env["as_of"]))
    assert run is not None and run.carried_from_run == latest
    assert not run.integrity_ok
    integrity = next(s for s in suites if s.kind == "integrity")
    check = suite_check_result(integrity, run.by_suite()[integrity.name], None)
    assert check.passed is False and check.severity == dg.AssetCheckSeverity.ERROR
    assert "管道检查未通过" in run.report_path.read_text(encoding="utf-8")
    assert carry_previous_run(warehouse, out, suites, "another fingerprint") is None


def test_a_mart_changed_by_hand_is_judged_again_not_carried(runs, tmp_path):
    """A DuckDB session changes a budget line's code by hand (no dbt build, no generation moved, the dbt record
    unchanged): the mart's storage mark moves, so the quality run is not carried whole, the units reading the budget
    lines run again — the new code's CLASS_CODE_SHAPE finding is in the fresh findings — and units reading nothing
    that changed stay carried."""
    from dagster_project.quality.assets import FINDINGS_KEY, quality_findings

    _, _, env = runs
    warehouse, out = tmp_path / "w.duckdb", tmp_path / "out"
    shutil.copy(env["warehouse"], warehouse)
    shutil.copytree(env["out"], out)
    con = duckdb.connect(str(warehouse))
    try:
        (line,) = con.execute(
            "select min(budget_line_id) from marts.fct_budget_lines l where l.code is not null and not l.is_total "
            "and length(l.code) = 3 and not exists (select 1 from intermediate.int_sheets_not_evaluable n "
            "where n.source_file = l.source_file and n.sheet = l.sheet)").fetchone()
        con.execute("update marts.fct_budget_lines set code = '2X1' where budget_line_id = ?", [line])
    finally:
        con.close()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GONGKAI_RAW_DIR", str(SAMPLE))
        mp.setenv("GONGKAI_WAREHOUSE", str(warehouse))
        mp.setenv("GONGKAI_OUT_DIR", str(out))
        mp.setenv("GONGKAI_AS_OF", env["as_of"].isoformat())  # the latest run's date: only the hand edit differs
        result = dg.materialize([quality_findings], instance=dg.DagsterInstance.ephemeral())
    meta = _meta(result, FINDINGS_KEY)
    assert "quality_carried_from_run" not in meta
    ran, carried = set(meta["units_run"]), set(meta["units_carried"])
    assert "detail__marts__fct_budget_lines" in ran and carried
    assert not any("trading" in unit for unit in ran)
    assert _scalar(warehouse, "select count(*) from quality.findings where run_id = ? and rule_id = 'CLASS_CODE_SHAPE' "
                   "and observed = '2X1'", [meta["run_id"]]) == (1,)
