"""The gongkai dbt project as Dagster sees it. Only the ``DbtProject``: importing this module must stay cheap.

The manifest is prepared *before* anything imports the definitions (``@dbt_assets`` reads it at import):
``.venv/bin/dbt parse --project-dir dbt --profiles-dir dbt`` — the Makefile and the tests do this first.
"""
from __future__ import annotations

import sys
from pathlib import Path

from dagster_dbt import DbtProject

from dagster_project.paths import DBT_PROJECT_DIR

# The venv's dbt, beside the running interpreter (PATH may not hold the venv's bin/).
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))

gongkai_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def require_manifest(project: DbtProject = gongkai_dbt_project) -> Path:
    """The manifest path, or a clear error saying how to make it."""
    manifest = Path(project.manifest_path)
    if not manifest.is_file():
        raise FileNotFoundError(
            f"dbt manifest not found at {manifest}. Prepare it before loading the Dagster definitions: "
            f"`{DBT_EXECUTABLE} parse --project-dir {DBT_PROJECT_DIR} --profiles-dir {DBT_PROJECT_DIR}` "
            "(the Makefile's and the tests' first step)."
        )
    return manifest
