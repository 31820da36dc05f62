"""One budget figure changes: after dbt, only the work that figure feeds is done again.

Real DuckDB, GX, plotly and the publication code on a copy of the session's sample warehouse (``sample_built``).
The figure is changed the way a re-published workbook reaches quality and publication — one amount of
``marts.fct_budget_lines`` differs and the dbt stage records a new fingerprint, as the dbt asset does after a
build — then quality, OCDS, the release and the dashboards are materialised again, and once more with
``GONGKAI_NO_CARRY=1`` (everything runs) for the comparison. Required: only the suites that read the budget lines
ran (the others carried, under the new run, with their Data Docs pages still listed); the findings and check
results equal those of the run with carrying disabled; OCDS was not rebuilt; the trading parts of the release and
the trading dashboard were carried byte for byte.
"""
from __future__ import annotations

import datetime as dt
import shutil

import dagster as dg
import duckdb
import pytest

from dagster_project.paths import REPO_ROOT
from dagster_support import materialization_metadata
from quality_support import fail_one_integrity_check

SAMPLE = REPO_ROOT / "data" / "raw"
CHANGED = "marts.fct_budget_lines"
RECONCILIATION = "intermediate.int_reconciliation_checks"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (SAMPLE / "ground_truth.json").is_file(), reason="the bundled sample is not generated yet"),
]


_meta = materialization_metadata


def _tree(folder) -> dict[str, tuple[int, int, bytes]]:
    """relative path -> (inode, mtime ns, bytes) of every file below a folder."""
    return {p.relative_to(folder).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _current(root):
    from dagster_project.publish import atomic

    return atomic.current_release_dir(root)


@pytest.fixture(scope="module")
def runs(sample_built, tmp_path_factory):
    from dagster_project import stage_state
    from dagster_project.publish.assets import dashboards, ocds, open_data_release
    from dagster_project.quality.assets import quality_findings
    from dagster_project.transform.assets import dbt_inputs_fingerprint

    tmp = tmp_path_factory.mktemp("carry_by_input")
    warehouse, out = tmp / "warehouse.duckdb", tmp / "out"
    shutil.copy(sample_built[0], warehouse)
    assets = [quality_findings, ocds, open_data_release, dashboards]
    seen = {}
    with pytest.MonkeyPatch.context() as mp:
        for name, value in (("GONGKAI_RAW_DIR", SAMPLE), ("GONGKAI_WAREHOUSE", warehouse), ("GONGKAI_OUT_DIR", out),
                            ("GONGKAI_AS_OF", dt.date.today().isoformat())):
            mp.setenv(name, str(value))
        mp.delenv("GONGKAI_NO_CARRY", raising=False)
        fingerprint = dbt_inputs_fingerprint()
        con = duckdb.connect(str(warehouse))
        try:
            stage_state.record(con, "dbt", fingerprint)
        finally:
            con.close()
        first = dg.materialize(assets, instance=dg.DagsterInstance.ephemeral())
        assert first.success
        seen["first"] = {"ocds": _current(out / "ocds"), "release": _current(out / "open-data"),
                         "ocds_files": _tree(_current(out / "ocds")), "dashboards": _tree(out / "dashboards")}
        con = duckdb.connect(str(warehouse))
        try:  # one line amount of the latest year's budgets, one yuan more; dbt then records its new build
            year, line = con.execute(
                f"select fiscal_year, min(budget_line_id) from {CHANGED} where amount_yuan is not null "
                f"and fiscal_year = (select max(fiscal_year) from {CHANGED}) group by 1").fetchone()
            con.execute(f"update {CHANGED} set amount_yuan = amount_yuan + 1 where budget_line_id = ?", [line])
            seen["reconciliation"] = _fix_one_and_break_one(con)
            stage_state.record(con, "dbt", fingerprint + " with one budget figure rebuilt")
        finally:
            con.close()
        second = dg.materialize(assets, instance=dg.DagsterInstance.ephemeral())
        assert second.success
        seen["second"] = {"ocds": _current(out / "ocds"), "release": _current(out / "open-data"),
                          "dashboards": _tree(out / "dashboards"),
                          "docs_index": (out / "quality" / "gx_data_docs" / "index.html").read_text(encoding="utf-8"),
                          "report": (out / "quality" / "index.html").read_text(encoding="utf-8")}
        mp.setenv("GONGKAI_NO_CARRY", "1")
        forced = dg.materialize([quality_findings], instance=dg.DagsterInstance.ephemeral())
        assert forced.success
    return {"results": (first, second, forced), "warehouse": warehouse, "year": year, **seen}


def _fix_one_and_break_one(con) -> dict:
    """In one publisher-year with a reconciliation finding: that finding fixed (every row behind it) and a new one
    made from an identity of the same publisher-year that held (dbt's verdict columns set as dbt sets them), as a
    re-published workbook would."""
    identities = con.execute(f"""
        select publisher_code, fiscal_year, rule_id, object_key, bool_and(is_consistent), min(rowid)
        from {RECONCILIATION}
        where comparison = 'eq' and rule_id like 'RECON_%' and rule_id <> 'RECON_ROUNDING' and is_consistent is not null
        group by all order by all""").fetchall()
    by_slice: dict[tuple, dict[bool, list]] = {}
    for publisher, year, rule, obj, holds, rowid in identities:
        by_slice.setdefault((publisher, year), {True: [], False: []})[holds].append((rule, obj, rowid))
    (publisher, year), split = next((k, v) for k, v in by_slice.items() if v[True] and v[False])
    (fixed_rule, fixed_obj, _), (new_rule, new_obj, new_row) = split[False][0], split[True][0]
    con.execute(f"update {RECONCILIATION} set actual_yuan = expected_yuan, difference_yuan = 0, is_consistent = true, "
                f"is_rounding = false where publisher_code = ? and fiscal_year = ? and rule_id = ? and object_key = ? "
                f"and not is_consistent", [publisher, year, fixed_rule, fixed_obj])
    con.execute(f"update {RECONCILIATION} set actual_yuan = coalesce(expected_yuan, 0) + tolerance_yuan + 1000, "
                f"difference_yuan = tolerance_yuan + 1000, is_consistent = false, is_rounding = false where rowid = ?",
                [new_row])
    key = lambda r, o: f"{r}|{publisher}|{year}|{o}"  # noqa: E731 — quality.findings.finding_key
    return {"fixed": key(fixed_rule, fixed_obj), "new": key(new_rule, new_obj), "slice": f"{publisher}|{year}"}


def _budget_suites() -> set[str]:
    """Suites whose expectations declare the changed relations as batch or requirement (read from the suite files)."""
    from dagster_project.quality.suites import load_suites

    return {s.name for s in load_suites() if any(t in e.tables() for e in s.expectations for t in (CHANGED, RECONCILIATION))}


def test_only_the_suites_reading_the_budget_lines_ran(runs):
    from dagster_project.quality.assets import FINDINGS_KEY
    from dagster_project.quality.suites import load_suites

    first, second, forced = runs["results"]
    every = {s.name for s in load_suites()}
    assert set(_meta(first, FINDINGS_KEY)["suites_run"]) == every
    meta = _meta(second, FINDINGS_KEY)
    expected = _budget_suites()
    assert {"detail", "integrity", "reconciliation"} <= expected and "trading" not in expected
    assert set(meta["suites_run"]) == expected
    assert set(meta["suites_carried"]) == every - expected
    assert set(meta["suites_carried"].values()) == {_meta(first, FINDINGS_KEY)["run_id"]}
    assert _meta(forced, FINDINGS_KEY)["suites_carried"] == {}
    # carried by validation unit (one suite on one batch): the pipeline checks of the trading marts did not run again
    assert "integrity__marts__fct_deals" in meta["units_carried"]
    # its key checks read budget_line_id only, which the changed figure did not move (suite_carry.columns_read)
    assert "integrity__marts__fct_budget_lines" in meta["units_carried"]
    assert "integrity__intermediate__int_reconciliation_checks" in meta["units_run"]
    checks = {e.check_name: e for e in second.get_asset_check_evaluations()}
    assert "quality_carried_from_run" in checks["suite_trading"].metadata
    assert "quality_carried_from_run" not in checks["suite_integrity"].metadata and checks["suite_integrity"].passed
    # the carried suites' GX pages are still listed, and the report says which suites were carried
    assert "trading__" in runs["second"]["docs_index"] and "detail__" in runs["second"]["docs_index"]
    assert 'id="carried-suites"' in runs["second"]["report"]


def test_carried_results_equal_a_run_with_carrying_disabled(runs):
    from dagster_project.quality.assets import FINDINGS_KEY

    _, second, forced = runs["results"]
    carried_run, forced_run = _meta(second, FINDINGS_KEY)["run_id"], _meta(forced, FINDINGS_KEY)["run_id"]
    con = duckdb.connect(str(runs["warehouse"]), read_only=True)
    try:
        def differ(table: str, columns: str) -> int:
            return con.execute(f"""select count(*) from (
                (select {columns} from {table} where run_id = ? except all select {columns} from {table} where run_id = ?)
                union all
                (select {columns} from {table} where run_id = ? except all select {columns} from {table} where run_id = ?))""",
                               [carried_run, forced_run, forced_run, carried_run]).fetchone()[0]

        findings = "* exclude (run_id)"
        checks = ("suite, expectation_id, status, success, evaluated, failed, offending_rows, insufficient, "
                  "gx_observed, detail, inputs_fingerprint")
        assert con.execute("select count(*) from quality.findings where run_id = ? and suite = 'trading'",
                           [carried_run]).fetchone()[0] > 0
        assert differ("quality.findings", findings) == 0
        assert differ("quality.check_runs", checks) == 0
        carried = con.execute("select count(*) from quality.check_runs where run_id = ? and carried_from_run is not null",
                              [carried_run]).fetchone()[0]
        assert carried > 0 and con.execute("select count(*) from quality.check_runs where run_id = ? and "
                                           "carried_from_run is not null", [forced_run]).fetchone()[0] == 0
    finally:
        con.close()


def test_touched_slices_only_are_judged_and_equal_a_full_evaluation(runs):
    """GX judged the changed units on their touched publisher-years only; the run still has the failure the change
    made in that slice and no longer the one it fixed (the equality of every finding and check row with the run
    with carrying disabled is ``test_carried_results_equal_a_run_with_carrying_disabled``)."""
    from dagster_project.quality.assets import FINDINGS_KEY

    first, second, forced = runs["results"]
    change = runs["reconciliation"]
    sliced = _meta(second, FINDINGS_KEY)["units_sliced"]
    assert sliced["reconciliation__intermediate__int_reconciliation_checks"] == change["slice"]
    assert "detail__marts__fct_budget_lines" in sliced and _meta(forced, FINDINGS_KEY)["units_sliced"] == {}
    con = duckdb.connect(str(runs["warehouse"]), read_only=True)
    try:
        def keys(result) -> set[str]:
            return {r[0] for r in con.execute("select finding_key from quality.findings where run_id = ?",
                                              [_meta(result, FINDINGS_KEY)["run_id"]]).fetchall()}
        before, after, full = keys(first), keys(second), keys(forced)
        assert change["fixed"] in before and change["fixed"] not in after
        assert change["new"] not in before and change["new"] in after
        assert after == full
        touched = f"|{change['slice']}|"  # the other publisher-years' findings are the first run's, carried
        assert {k for k in before if touched not in k} <= after and len(after & before) > len(before) // 2
    finally:
        con.close()


def test_ocds_and_trading_outputs_are_carried_byte_identical(runs):
    from dagster_project.publish.assets import DASHBOARDS_KEY, OCDS_KEY, RELEASE_KEY

    first, second, _ = runs["results"]
    assert "skipped" not in _meta(first, OCDS_KEY) and "skipped" in _meta(second, OCDS_KEY)
    assert runs["second"]["ocds"] == runs["first"]["ocds"]
    assert _tree(runs["second"]["ocds"]) == runs["first"]["ocds_files"]  # not one byte, inode or time moved

    meta = _meta(second, RELEASE_KEY)
    assert runs["second"]["release"] != runs["first"]["release"]
    year = runs["year"]
    assert f"budget_lines/{year}" in meta["parts_new"]
    carried = set(meta["parts_carried"])
    trading = {p for p in _meta(first, RELEASE_KEY)["parts_new"] if p.startswith(("trading_bulletins/", "deals/"))}
    assert trading and trading <= carried
    before, after = runs["first"]["release"], runs["second"]["release"]
    for part in trading:
        for path in (after / "data" / part.split("/")[0]).glob(f"*-{part.split('/')[1]}.*"):
            old = before / path.relative_to(after)
            assert path.stat().st_ino == old.stat().st_ino and path.read_bytes() == old.read_bytes()
    for path in (after / "ocds").iterdir():  # the release holds the same OCDS files
        assert path.stat().st_ino == (runs["first"]["ocds"] / path.name).stat().st_ino

    pages = _meta(second, DASHBOARDS_KEY)
    assert "budget_composition" in pages["pages_drawn"]
    assert {"procurement_competition", "disclosure_compliance"} <= set(pages["pages_kept"])
    first_pages, second_pages = runs["first"]["dashboards"], runs["second"]["dashboards"]
    assert second_pages["procurement_competition.html"] == first_pages["procurement_competition.html"]
    assert second_pages["plotly.min.js"] == first_pages["plotly.min.js"]
    assert second_pages["budget_composition.html"][:2] != first_pages["budget_composition.html"][:2]


def test_a_carried_integrity_failure_still_blocks(runs, tmp_path):
    """A suite carried with a failed pipeline check stays failed: the run is not a success and the blocking check
    fails (no GX runs here: the one suite asked for is carried)."""
    from dagster_project.quality.assets import suite_check_result
    from dagster_project.quality.runner import run_quality
    from dagster_project.quality.suite_carry import validation_units
    from dagster_project.quality.suites import load_suites

    warehouse = tmp_path / "w.duckdb"
    shutil.copy(runs["warehouse"], warehouse)
    integrity = [s for s in load_suites() if s.kind == "integrity"]
    latest = fail_one_integrity_check(warehouse)
    run = run_quality(warehouse, tmp_path / "out", suites=integrity, write_report=False,
                      carry={unit: latest for unit in validation_units(integrity)})
    assert run.gx_seconds < 1 and run.carried_suites == {"integrity": latest}
    assert not run.integrity_ok
    check = suite_check_result(integrity[0], run.by_suite()["integrity"], None)
    assert check.passed is False and check.severity == dg.AssetCheckSeverity.ERROR
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert con.execute("select success from quality.runs where run_id = ?", [run.run_id]).fetchone() == (False,)
    finally:
        con.close()
