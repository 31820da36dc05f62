"""A subset of the dbt assets (a UI selection) is not a whole build: the next whole build rebuilds what it left.

``gongkai_dbt`` took a run for a whole-project build when the selected keys equalled ``context.assets_def.keys``; in
a subset run that is the subset itself, so a UI run of ``raw/portal, stg_portal__publications,
int_attachment_sheets`` after a new portal row planned a "selected" build, dbt built the three chosen nodes, and the
step recorded the portal family's digest as built: the next whole run skipped dbt, ``stg_portal__attachments`` (and
every other table the portal feeds) never got the row. Here, through Dagster's own API on a copy of the sample
warehouse: that subset, then the whole dbt asset — which must build what the portal family feeds and the subset
did not, and end with the new publication's attachment; the subset moves only the generations of what it wrote.
Then the main job's ingest and dbt assets once more with nothing changed: the dbt asset skips `dbt build`, since
nothing it reads changed since the whole build recorded its state (was test_stage_state's own three runs on a root of
its own: a fresh build, an unchanged run, a run after a new portal row — the last two are these runs' own).
"""
from __future__ import annotations

import csv
import json

import dagster as dg
import duckdb
import pytest

from dagster_project.paths import DBT_PROJECT_DIR
from dbt_fixed_path import sample_copy_in_dagster

pytestmark = pytest.mark.slow
MISSING = "不存在的附件.xlsx"
SUBSET = ("stg_portal__publications", "int_attachment_sheets")


def _read(warehouse, fn):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return fn(con)
    finally:
        con.close()


def _generations(con) -> dict:
    from dagster_project.transform import generations

    return dict(con.execute("SELECT stage, fingerprint FROM raw.stage_state WHERE starts_with(stage, ?)",
                            [generations.STAGE_PREFIX]).fetchall())


def _attachments_of_new_row(con) -> int:
    schema = con.execute("SELECT table_schema FROM information_schema.tables "
                         "WHERE table_name = 'stg_portal__attachments'").fetchone()[0]
    return con.execute(f"SELECT count(*) FROM {schema}.stg_portal__attachments WHERE publication_id IN "
                       f"(SELECT publication_id FROM {schema}.stg_portal__publications "
                       "WHERE attachment_as_published = ?)", [MISSING]).fetchone()[0]


def _append_publication(raw) -> None:
    """One more row in the portal's budget publications, as the portal lists one: a copy of the last row's
    publisher, a later time, an attachment no file in the raw root has."""
    path = raw / "portal" / "publications_budget.csv"
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    row = dict(rows[-1], title=rows[-1]["title"] + "（更正）", attachment=MISSING,
               url=rows[-1]["url"].replace(".html", "-2.html"))
    with path.open("a", encoding="utf-8", newline="") as f:
        csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n").writerow(row)  # the file's own line ends


@pytest.fixture(scope="module")
def runs(sample_built, tmp_path_factory):
    from dagster_project.ingest.assets import ingest_assets
    from dagster_project.ingest.framework import FAMILY_TABLES
    from dagster_project.resources import WarehouseResource
    from dagster_project.transform import selection
    from dagster_project.transform.assets import FAMILY_STAGE_PREFIX, dbt_resource, gongkai_dbt, read_build_state

    warehouse0, _, _ = sample_built
    instance = dg.DagsterInstance.ephemeral()
    resources = {"warehouse": WarehouseResource(), "dbt": dbt_resource}
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text(encoding="utf-8"))
    with sample_copy_in_dagster(warehouse0, tmp_path_factory.mktemp("subset_runs")) as (raw, warehouse, target):
        before = _read(warehouse, _generations)
        _append_publication(raw)
        subset = dg.materialize([*ingest_assets, gongkai_dbt], resources=resources, instance=instance,
                                selection=[dg.AssetKey(["raw", "portal"]), *(dg.AssetKey([n]) for n in SUBSET)])
        assert subset.success
        after_subset = _read(warehouse, _generations)
        state = read_build_state()
        recorded_portal = _read(warehouse, lambda con: con.execute(
            "SELECT fingerprint FROM raw.stage_state WHERE stage = ?", [FAMILY_STAGE_PREFIX + "portal"]).fetchone()[0])
        whole = dg.materialize([gongkai_dbt], resources=resources, instance=instance)
        assert whole.success
        unchanged = dg.materialize([*ingest_assets, gongkai_dbt], resources=resources, instance=instance)
        assert unchanged.success
    results = {run.run_id: run for run in (subset, whole)}
    fed = selection.without_views(manifest, selection.nodes_fed_by(manifest, FAMILY_TABLES, {"portal"}))
    # every dbt call of a Dagster run has its invocation folder (dbt.log; the build writes no JSON artifacts)
    unchanged_dbt_calls = list(target.glob(f"gongkai_dbt-{unchanged.run_id[:7]}-*"))
    whole_dbt_calls = list(target.glob(f"gongkai_dbt-{whole.run_id[:7]}-*"))
    return dict(subset=subset, whole=whole, unchanged=unchanged, unchanged_dbt_calls=unchanged_dbt_calls,
                whole_dbt_calls=whole_dbt_calls,
                results=results, before=before, after_subset=after_subset, state=state,
                recorded_portal=recorded_portal, warehouse=warehouse, manifest=manifest, fed=fed)


def _built_models(run) -> set[str]:
    """The models dbt built in ``run`` (the build writes no run_results.json): dagster-dbt's materialisations carry
    dbt's invocation id, a not-rebuilt asset's does not."""
    metadata = [e.materialization.metadata for e in run.get_asset_materialization_events()]
    return {m["unique_id"].value for m in metadata
            if "invocation_id" in m and m["unique_id"].value.startswith("model.")}


def test_the_subset_built_only_its_selection_and_recorded_no_family_as_built(runs):
    subset_built = _built_models(runs["results"][runs["subset"].run_id])
    assert {uid.split(".")[-1] for uid in subset_built} == set(SUBSET)
    # the portal family's digest is still that of the last whole build: the portal's new row is still to build
    assert runs["recorded_portal"] != runs["state"].current_families["portal"]


def test_the_whole_run_after_it_builds_what_the_subset_left(runs):
    built = _built_models(runs["results"][runs["whole"].run_id])
    left = {uid for uid in runs["fed"].nodes if uid.startswith("model.")} - _built_models(
        runs["results"][runs["subset"].run_id])
    assert "model.gongkai.stg_portal__attachments" in left
    assert left <= built
    assert _read(runs["warehouse"], _attachments_of_new_row) == 1


def _skipped(result) -> bool:
    """The dbt asset reported ``fct_disclosure_status`` (the portal feeds it) as not rebuilt: its materialisation
    names the build it is from (``dbt_build``)."""
    events = [e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey("fct_disclosure_status")]
    return events[0].materialization.metadata.get("dbt_build") is not None


def test_the_dbt_asset_rebuilds_after_a_change_and_skips_an_unchanged_run(runs):
    """Skipping an unchanged stage: the whole run after the new portal row rebuilt what the row feeds; the run after
    it, nothing changed, skipped `dbt build` and reported what the portal feeds as not rebuilt."""
    assert not _skipped(runs["whole"]) and _skipped(runs["unchanged"])
    assert runs["whole_dbt_calls"]   # a run that starts dbt leaves its invocation folder …
    assert runs["unchanged_dbt_calls"] == []   # … the unchanged run left none: dbt was not started


def test_the_subset_moved_only_the_generations_of_what_it_wrote(runs):
    from dagster_project.transform import generations

    moved = {stage[len(generations.STAGE_PREFIX):] for stage, token in runs["after_subset"].items()
             if runs["before"].get(stage) != token}
    assert moved == generations.written_by_subset(runs["manifest"], SUBSET)
    assert set(SUBSET) <= moved and "stg_portal__attachments" not in moved and "fct_deals" not in moved
