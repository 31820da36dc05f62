"""The dbt project as Dagster assets: one ``@dbt_assets`` over seeds, staging, intermediate and marts.

Asset keys are the dbt node names (default); raw sources map onto the ingest assets through
``meta.dagster.asset_key`` in the sources YAML (``raw/budget``, ``raw/trading`` …), so lineage runs
ingest → dbt. dbt tests become asset checks. ``dbt build`` runs in the ``duckdb`` pool (one writer).

No partitions: the marts are small and every status is relative to one ``as_of`` date; a partitioned
``@dbt_assets`` would force every run to name a partition (STACK_NOTES) for no gain at this size.
"""


import os
from contextlib import contextmanager
from typing import Any, Iterator, Mapping

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from dagster_project.paths import settings
from dagster_project.resources import DUCKDB_POOL
from dagster_project.transform.dbt_project import DBT_EXECUTABLE, gongkai_dbt_project, require_manifest

LAYER_GROUPS = ("staging", "intermediate", "marts")


def dbt_group_name(dbt_resource_props: Mapping[str, Any]) -> "str | None":
    """Group by the dbt folder: seeds → ``seeds``; models → ``staging`` / ``intermediate`` / ``marts``."""
    if dbt_resource_props.get("resource_type") == "seed":
        return "seeds"
    fqn = list(dbt_resource_props.get("fqn") or [])
    for part in fqn[1:-1]:
        if part in LAYER_GROUPS:
            return part
    return None


class GongkaiDbtTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        # Models and seeds: the bare node name (dagster-dbt would prefix the custom schema, e.g.
        # marts/fct_deals); quality and publish address them by name. Sources: meta.dagster.asset_key.
        if dbt_resource_props.get("resource_type") in ("model", "seed", "snapshot"):
            return dg.AssetKey([dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_group_name(dbt_resource_props) or super().get_group_name(dbt_resource_props)


@contextmanager
def subprocess_environment(env: Mapping[str, str]) -> Iterator[None]:
    """DbtCliResource hands dbt a copy of os.environ: put the settings' GONGKAI_* there for the call."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@dbt_assets(
    manifest=require_manifest(),
    project=gongkai_dbt_project,
    # several raw tables of one family share the family's ingest asset (raw/budget = sheets + lines)
    dagster_dbt_translator=GongkaiDbtTranslator(
        settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_duplicate_source_asset_keys=True)
    ),
    name="gongkai_dbt",
    pool=DUCKDB_POOL,
)
def gongkai_dbt(context: AssetExecutionContext, dbt: DbtCliResource):
    with subprocess_environment(settings().env_for_subprocess()):
        yield from dbt.cli(["build"], context=context).stream()


dbt_resource = DbtCliResource(project_dir=gongkai_dbt_project, dbt_executable=DBT_EXECUTABLE)

defs = dg.Definitions(assets=[gongkai_dbt], resources={"dbt": dbt_resource})
