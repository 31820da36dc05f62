"""What every dbt build pays before dbt builds anything (issue 16: a small change must cost little at any scale).

A build on a warehouse other than the one ``prepare`` parsed for re-parsed the whole project every time, because
dbt's partial-parse state carries the profile, which renders the warehouse path. Each warehouse now keeps its own
state (``parse_state.py``): the second invocation on a warehouse parses nothing. And the Dagster process
no longer makes a dbt adapter of its own, nor starts ``dbt --version``, before each invocation
(``transform/dbt_resource.py``). Real dbt, two ``dbt parse`` invocations through the resource the dbt asset uses.
"""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from dagster_project.paths import settings


def _messages(target: Path) -> list[str]:
    out = []
    for line in (target / "dbt.log").read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line)["info"]["msg"])
        except (ValueError, KeyError):
            continue
    return out


def test_a_second_build_on_a_warehouse_reuses_its_parse_and_makes_no_adapter_in_dagster(tmp_path, monkeypatch):
    from dagster_project import parse_state
    from dagster_project.transform.assets import dbt_invocation, dbt_resource, subprocess_environment

    # a warehouse path prepare never parsed for (another file name: another DuckDB catalog in every node too)
    monkeypatch.setenv("GONGKAI_WAREHOUSE", str(tmp_path / "elsewhere" / "other.duckdb"))
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    kept = parse_state.state_file()
    assert not kept.exists()
    targets = []
    with subprocess_environment(settings().env_for_subprocess()):
        for _ in range(2):
            with dbt_invocation(dbt_resource, ["parse"], None) as invocation:
                invocation.wait()
            assert invocation.is_successful()
            assert invocation.adapter is None  # no project, profile and adapter loaded in this process
            targets.append(invocation.target_path)
    assert kept.is_file() and kept.parent.parent == tmp_path / "elsewhere" / "tmp"
    first, second = (_messages(t) for t in targets)
    assert any("Unable to do partial parsing" in m or "Starting full parse" in m for m in first)
    assert not any("Unable to do partial parsing" in m or "Starting full parse" in m for m in second), second
    manifest = json.loads((targets[1] / "manifest.json").read_text(encoding="utf-8"))
    assert {n["database"] for n in manifest["nodes"].values() if n["resource_type"] == "model"} == {"other"}


def test_the_dbt_version_read_in_process_is_the_one_the_executable_reports():
    from dagster_project.transform.assets import dbt_resource

    reported = subprocess.check_output([dbt_resource.dbt_executable, "--version"], text=True)
    assert str(dbt_resource._cli_version) == re.search(r"(\d+\.\d+\.\d+)", reported).group(1)


def test_the_dbt_assets_are_those_of_dbts_own_selection_and_loading_them_needs_no_dbt_graph(monkeypatch):
    """``@dbt_assets``' default selection read from the manifest (dbt_resource.everything_selected_from_manifest) gives
    the assets and checks dbt's graph selector gives; and loading the code location no longer imports dbt's graph."""
    import importlib.metadata
    import sys

    import dagster as dg
    from dagster_dbt import DagsterDbtTranslatorSettings, dbt_assets
    from dagster_dbt import utils as dagster_dbt_utils
    from dagster_dbt.utils import select_unique_ids
    from packaging import version

    # dagster-dbt is imported without dbt-core (transform/dagster_dbt_import.py): have it ask dbt's own graph
    # selector, as it does where it sees dbt-core, to compare with
    monkeypatch.setattr(dagster_dbt_utils, "DBT_PYTHON_VERSION", version.parse(importlib.metadata.version("dbt-core")))

    from dagster_project.transform.assets import GongkaiDbtTranslator, gongkai_dbt
    from dagster_project.transform.dbt_project import gongkai_dbt_project, require_manifest
    from dagster_project.transform.dbt_resource import every_node

    manifest = json.loads(require_manifest().read_text(encoding="utf-8"))
    assert every_node(manifest) == set(select_unique_ids("fqn:*", "", "", gongkai_dbt_project, manifest))

    @dbt_assets(manifest=require_manifest(), project=gongkai_dbt_project, name="by_dbt_selector",
                dagster_dbt_translator=GongkaiDbtTranslator(settings=DagsterDbtTranslatorSettings(
                    enable_asset_checks=True, enable_duplicate_source_asset_keys=True)))
    def by_dbt_selector(context):  # noqa: ARG001
        yield from ()

    assert set(gongkai_dbt.keys) == set(by_dbt_selector.keys) and len(gongkai_dbt.keys) > 50
    assert {k: set(v) for k, v in gongkai_dbt.asset_deps.items()} == {k: set(v) for k, v in by_dbt_selector.asset_deps.items()}
    assert set(gongkai_dbt.check_keys) == set(by_dbt_selector.check_keys) and len(gongkai_dbt.check_keys) > 100
    blocking = {s.key for s in gongkai_dbt.check_specs if s.blocking}
    assert blocking == {s.key for s in by_dbt_selector.check_specs if s.blocking} and blocking

    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, dagster_project.definitions; "
                               "print(sorted(m for m in ('dbt.graph', 'networkx') if m in sys.modules))"],
        capture_output=True, text=True, check=True)
    assert loaded.stdout.strip().splitlines()[-1] == "[]", loaded.stdout
    assert isinstance(gongkai_dbt, dg.AssetsDefinition)


# Run in a fresh interpreter: in the test process dagster_dbt may already be imported (with dbt-core, by whatever ran
# before, or by the comparison's own import when this test runs alone), and its compat enums would be dbt-core's own,
# compared with themselves.
_STATUSES_AS_LOADED = """
import json, sys
import dagster_project.definitions
before = sorted(m for m in sys.modules if m == 'dbt' or m.startswith('dbt.'))
from dagster_dbt import compat
from dbt.artifacts.schemas.results import NodeStatus, TestStatus
from dbt.node_types import REFABLE_NODE_TYPES, NodeType
pairs = []
for ours, dbts in ((compat.NodeStatus, NodeStatus), (compat.TestStatus, TestStatus), (compat.NodeType, NodeType)):
    known = set(dbts.__members__) if ours is not compat.NodeType else {'Model', 'Seed', 'Snapshot', 'Test', 'Unit'}
    pairs.append(dict(dbt_cores=ours is dbts, ours={n: ours[n].value if n in ours.__members__ else None for n in known},
                      dbts={n: dbts[n].value for n in known}, str_is_value=all(str(m) == m.value for m in ours)))
print(json.dumps(dict(before=before, pairs=pairs, refable=sorted(str(t) for t in compat.REFABLE_NODE_TYPES),
                      dbts_refable=sorted(str(t) for t in REFABLE_NODE_TYPES))))
"""


def test_loading_the_code_location_imports_no_dbt_core_and_dagster_dbt_reads_dbts_statuses_alike():
    """Every process that loads the code location (each job run) paid 1.6 s for dagster-dbt's import of dbt-core,
    which that process never uses: dbt runs as its own process (transform/dagster_dbt_import.py). The status values
    dagster-dbt then compares dbt's JSON log lines with are those of dbt-core's enums."""
    import sys

    loaded = subprocess.run([sys.executable, "-c", _STATUSES_AS_LOADED], capture_output=True, text=True, check=True)
    found = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert found["before"] == [], found["before"]
    for pair in found["pairs"]:
        # compat's own enums (dbt-core hidden at the import), not dbt-core's: else this compares dbt-core with itself
        assert not pair["dbt_cores"]
        # every status dbt-core can report is known, with dbt-core's value; node types: those dagster-dbt compares
        assert pair["ours"] == pair["dbts"] and pair["str_is_value"]
    assert found["refable"] == found["dbts_refable"]


def test_a_budget_load_builds_the_attachments_relation_once_for_its_readers():
    """``stg_portal__attachments`` reads the budget and debt sheets, the load manifest and the registry; two dbt tests,
    ``int_attachment_sheets`` and a quality unit read it. As a view each of them evaluated it whole after every budget
    load (the tests alone ≈ 1.8 s of node time at 100 k rows, loaded). A table: a budget load rebuilds it once, and
    its tests still run on what it now holds."""
    from dagster_project.ingest.framework import FAMILY_TABLES
    from dagster_project.transform import selection
    from dagster_project.transform.dbt_project import require_manifest

    manifest = json.loads(require_manifest().read_text(encoding="utf-8"))
    uid = "model.gongkai.stg_portal__attachments"
    readers = {u for u, n in manifest["nodes"].items() if uid in n.get("depends_on", {}).get("nodes", [])}
    assert len(readers) >= 3  # what makes a view of it costly
    plan = selection.plan_build(manifest, FAMILY_TABLES, full_refresh=False, current_families={"budget": "2"},
                                previous_families={"budget": "1"}, previous_as_of="2026-12-05", as_of="2026-12-05")
    assert plan.mode == "selected" and "stg_portal__attachments" in plan.select  # rebuilt, not left out as a view
    assert {manifest["nodes"][r]["name"] for r in readers if manifest["nodes"][r]["resource_type"] == "test"} \
        <= set(plan.select)
