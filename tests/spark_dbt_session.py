"""dbt calls on Spark, one after another, in ONE Python process: one JVM and one Spark session for all of them.

dbt-spark's ``session`` method takes the process's Spark session (``SparkSession.builder.getOrCreate()`` at every
query) and never stops it, so dbt calls made through dbt's programmatic entry (``dbtRunner``) in one process share
it: the JVM starts once, its classes are loaded and compiled once, and the in-memory catalog of ``spark_ci`` keeps
what one call built for the next (as ``spark_local``'s Derby metastore does across processes, without Derby).
Each ``dbt`` CLI call of a test started a JVM of its own: on test-sized data that start and the catalog's set-up
were most of a call's cost (benchmarks/RESULTS.md, "Wave 15 S1").

``SparkDbtSession(env, cwd, stderr)`` starts the process (tests/dbt_session.py's, which DuckDB calls use too) with
``env`` — JVM options must be there before the JVM starts (``spark_parity.with_test_jvm``); ``run(args, env=…)``
sends one dbt call (``env`` entries are set in the process before the call, ``None`` removes one) and returns dbt's
success and its log (what dbt printed, up to the line that ends the call); ``close()`` ends the process and its JVM.
"""
from __future__ import annotations

from dbt_session import DbtSession


class SparkDbtSession(DbtSession):
    """A kept dbt process whose calls share one Spark session (the module docstring)."""
