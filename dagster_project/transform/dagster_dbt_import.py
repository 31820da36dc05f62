"""dagster-dbt imported without dbt-core in the Dagster process: dbt runs in its own process, never in this one.

``dagster_dbt.compat`` imports dbt-core at the package's import when it is installed (``dbt.version``, then dbt's
adapters, results and node types — mashumaro's JSON schemas, dbt's artifacts): 1.6 s of the 2.9 CPU-s it takes to load
the code location, measured on this machine idle, paid by every process that loads it (each job run, each UI run
worker, each of the suite's pipeline runs) and ≈ 2.5 CPU-s of a loaded 1 M changed-figure run's start (RESULTS, C4).
The Dagster process uses none of it: gongkai's dbt is the ``dbt`` executable, run as a process of its own
(``DbtCliResource.cli``); the adapter handle dagster-dbt would make in process is not made (``dbt_resource``), and
``@dbt_assets``' default selection is read from the manifest (``dbt_resource.everything_selected_from_manifest``).

So dagster-dbt is imported with ``dbt`` hidden: its compat module then takes the branch it has for an environment
without dbt-core (dbt Fusion) — string enums for ``NodeStatus``/``TestStatus``/``NodeType`` with the same values as
dbt-core's (they are compared with the strings of dbt's JSON log lines), ``REFABLE_NODE_TYPES`` model/seed/snapshot
(dbt-core's own list in 1.11). What that mode changes elsewhere in dagster-dbt, and why gongkai is not affected:
  * ``select_unique_ids`` for a selection other than the default would ask the dbt CLI (Fusion only) and fail:
    gongkai selects nothing by dbt selector in process (a build's ``--select`` is handed to dbt itself).
  * ``DbtCliResource``'s dbt-version check is skipped: ``dbt_resource._cli_version`` reads the installed dbt-core's
    version from its package metadata, and the Fusion switch (``cli_version.major >= 2``) stays off.
  * dbt-core is not listed among the libraries Dagster's UI shows.
Only the import of dagster-dbt is affected: ``dbt`` is importable again afterwards (tests ask dbt's own selector).
tests/test_dbt_fixed_costs.py fails if loading the code location imports any ``dbt`` module again.
"""
from __future__ import annotations

import importlib.abc
import sys
from contextlib import contextmanager
from typing import Iterator


class _HideDbtCore(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):  # noqa: ARG002 — the finder protocol's signature
        if fullname == "dbt" or fullname.startswith("dbt."):
            raise ModuleNotFoundError(f"No module named {fullname!r} (hidden while dagster_dbt is imported)",
                                      name=fullname)
        return None


@contextmanager
def _dbt_core_hidden() -> Iterator[None]:
    finder = _HideDbtCore()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def import_dagster_dbt() -> None:
    """Import dagster-dbt without dbt-core, unless this process imported either already (then nothing changes)."""
    if "dagster_dbt" in sys.modules or "dbt.version" in sys.modules:
        return
    with _dbt_core_hidden():
        import dagster_dbt  # noqa: F401
