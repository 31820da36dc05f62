"""``cli prepare`` keeps dbt's parse state for the warehouse it parsed for (``transform/parse_state.py``).

dbt's partial-parse state is valid only for the warehouse path it was parsed with; ``dbt/target``'s is that of
whichever warehouse was prepared last. ``prepare`` now seeds its parse with the state kept for the current warehouse
(which the dbt build keeps too) and keeps what dbt wrote there, so a run on one warehouse after a prepare for another
(another deployment, a benchmark, another test) is not a whole parse again. Real dbt, one ``dbt parse``.
"""
from __future__ import annotations

from dataclasses import replace

from dagster_project import cli
from dagster_project.paths import DBT_PROJECT_DIR, settings
from dagster_project.transform import parse_state


def test_prepare_keeps_the_parse_state_of_its_warehouse_where_the_dbt_build_seeds_from(tmp_path, monkeypatch):
    monkeypatch.setenv("GONGKAI_WAREHOUSE", str(tmp_path / "w" / "warehouse.duckdb"))
    # prepare's `dbt parse` uses the profile's default target whatever GONGKAI_DBT_TARGET says
    monkeypatch.setenv("GONGKAI_DBT_TARGET", "spark_ci")
    kept = parse_state.state_file(replace(settings(), dbt_target="local"))
    assert not kept.exists()
    assert cli.prepare() == 0
    assert kept.is_file()
    assert not parse_state.state_file().exists()  # nothing under the Spark target's name
    # dbt/target holds the same state, unless another process prepared since: then only its manifest is newer
    written = DBT_PROJECT_DIR / "target" / parse_state.PARTIAL_PARSE_FILE
    assert written.is_file() and kept.stat().st_size > 0
    monkeypatch.setenv("GONGKAI_DBT_TARGET", "local")
    assert parse_state.seed(tmp_path / "invocation")  # what the dbt asset puts into its invocation folder
    assert (tmp_path / "invocation" / parse_state.PARTIAL_PARSE_FILE).read_bytes() == kept.read_bytes()
