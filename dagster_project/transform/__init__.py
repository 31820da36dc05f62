"""The dbt stage. Every module here imports dagster-dbt, which is first imported without dbt-core (dagster_dbt_import)."""
from dagster_project.transform.dagster_dbt_import import import_dagster_dbt

import_dagster_dbt()
