"""The dbt CLI resource, without the work dagster-dbt does in the Dagster process that gongkai never uses.

Before each dbt invocation dagster-dbt also starts ``dbt --version`` as a process of its own, to tell dbt Core from
the Fusion engine (``_cli_version``): one more dbt start-up per build (1.8 s idle, 3–4 s loaded). gongkai's dbt is
the ``dbt`` beside this interpreter (``DBT_EXECUTABLE``), whose version is the installed dbt-core's: read in process.
Any other executable is still asked.

Before each dbt invocation ``DbtCliResource.cli`` loads the dbt project and profile *in the Dagster process* and
registers a dbt adapter (``_initialize_dbt_core_adapter``): 2–7 s per build measured at 1 M trading rows (idle to
loaded machine), paid again by every build. That adapter serves only ``DbtEventIterator.fetch_row_counts()`` and
``fetch_column_metadata()``, which read the warehouse from the Dagster process while dbt writes it; gongkai calls
neither (and DuckDB's single writer would make them wait). dbt itself runs in its own process as before and
builds, tests and reports exactly the same; only the unused handle is not made. Overrides a private method of
dagster-dbt (pinned by pyproject); tests/test_dbt_fixed_costs.py fails if a build again pays for it.

And every process that loads the code location (each run, each UI run worker) had ``@dbt_assets`` evaluate its
default selection, ``fqn:*``, through dbt's own graph selector: importing ``dbt.graph`` and networkx and building
dbt's graph of the manifest (0.3–0.5 s) to learn that everything is selected. ``everything_selected_from_manifest``
answers that one selection from the manifest itself (every node and unit test: what dbt's selector returns for
``fqn:*``, compared on this project's manifest by tests/test_dbt_fixed_costs.py); any other selection still goes to dbt.
"""
from __future__ import annotations

import importlib.metadata
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from dagster_dbt import DbtCliResource
from packaging import version

from dagster_project.transform.dbt_project import DBT_EXECUTABLE


class GongkaiDbtCliResource(DbtCliResource):
    @cached_property
    def _cli_version(self) -> version.Version:
        if Path(self.dbt_executable) == Path(DBT_EXECUTABLE):
            # dbt-core of this venv: what its `dbt` runs; from its metadata, not by importing dbt (dagster_dbt_import)
            return version.parse(importlib.metadata.version("dbt-core"))
        return DbtCliResource._cli_version.func(self)

    def _initialize_dbt_core_adapter(self, args: Sequence[str]):  # noqa: ARG002 — the signature dagster-dbt calls
        return None


def every_node(manifest: Mapping[str, Any]) -> set[str]:
    """What ``fqn:*`` (dagster-dbt's default selection) selects: every node and unit test of the manifest."""
    return set(manifest["nodes"]) | set(manifest.get("unit_tests") or {})


@contextmanager
def everything_selected_from_manifest() -> Iterator[None]:
    """While ``@dbt_assets`` builds its specs: the default selection (``fqn:*``, no exclude, no selector) is read from
    the manifest instead of dbt's graph selector; any other selection is dbt's. dagster-dbt is restored after."""
    from dagster_dbt import asset_utils

    dbt_select = asset_utils.select_unique_ids

    def select_unique_ids(select: str, exclude: str, selector: str, project, manifest_json):
        if select in ("", "fqn:*") and not exclude and not selector:
            return every_node(manifest_json)
        return dbt_select(select=select, exclude=exclude, selector=selector, project=project,
                          manifest_json=manifest_json)

    asset_utils.select_unique_ids = select_unique_ids
    try:
        yield
    finally:
        asset_utils.select_unique_ids = dbt_select
