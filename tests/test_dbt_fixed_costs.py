"""What every dbt build pays before dbt builds anything (issue 16: a small change must cost little at any scale).

A build on a warehouse other than the one ``prepare`` parsed for re-parsed the whole project every time, because
dbt's partial-parse state carries the profile, which renders the warehouse path. Each warehouse now keeps its own
state (``transform/parse_state.py``): the second invocation on a warehouse parses nothing. And the Dagster process
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
    from dagster_project.transform import parse_state
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
