"""Which dbt tests the Spark parity build runs (``spark_parity.spark_tests``), on a manifest shaped as dbt writes it.

The rule is data, computed from the manifest: a unit test goes to Spark when its model's SQL reaches a dispatch macro
(one with a ``spark__`` form) that no portable singular test checks — never for a macro only its model's hooks call —
and each generic test SQL the project defines runs once. No Spark is needed here: the parity module runs the result.
"""
from __future__ import annotations

from spark_parity import spark_tests


def _macro(name: str, calls: "list[str]" = (), package: str = "gongkai") -> tuple[str, dict]:
    return f"macro.{package}.{name}", {"depends_on": {"macros": [f"macro.gongkai.{c}" if "." not in c else c
                                                               for c in calls]}}


def _manifest(model_calls: "list[str]", hook: str = "") -> dict:
    macros = dict([
        _macro("regex_search", ["default__regex_search"]), _macro("default__regex_search"),
        _macro("spark__regex_search"),
        _macro("paired_pieces", ["default__paired_pieces"]), _macro("default__paired_pieces"),
        _macro("spark__paired_pieces"),
        _macro("clear_partitions", ["default__clear_partitions"]), _macro("default__clear_partitions"),
        _macro("spark__clear_partitions"),
        _macro("trading_clear_rebuilt_partitions", ["clear_partitions"]),
        _macro("test_unique", ["macro.gongkai.default__test_unique"], package="dbt"),
        _macro("default__test_unique", ["regex_search"]),
        _macro("test_not_null", ["macro.dbt.default__test_not_null"], package="dbt"),
        _macro("default__test_not_null", package="dbt"),
    ])
    config = {"pre-hook": [{"sql": hook}]} if hook else {}
    nodes = {
        "model.gongkai.m": {"resource_type": "model", "name": "m", "tags": ["portable"], "config": config,
                            "depends_on": {"macros": [f"macro.gongkai.{c}" for c in model_calls], "nodes": []}},
        "test.gongkai.assert_portable_macros": {
            "resource_type": "test", "name": "assert_portable_macros", "tags": ["portable"],
            "depends_on": {"macros": ["macro.gongkai.regex_search"], "nodes": []}},
    }
    for column in ("a", "b"):
        for kind in ("unique", "not_null"):
            nodes[f"test.gongkai.{kind}_m_{column}.x"] = {
                "resource_type": "test", "name": f"{kind}_m_{column}", "tags": ["portable"],
                "test_metadata": {"name": kind}, "depends_on": {"macros": [f"macro.dbt.test_{kind}"],
                                                                "nodes": ["model.gongkai.m"]}}
    units = {"unit_test.gongkai.m.u1": {"model": "m", "given": [], "expect": {"rows": []}}}
    return {"metadata": {"project_name": "gongkai"}, "macros": macros, "nodes": nodes, "unit_tests": units}


def test_a_unit_test_runs_on_spark_when_its_model_reaches_a_dispatch_macro_no_singular_test_checks():
    chosen = spark_tests(_manifest(["regex_search", "paired_pieces"]), {"model.gongkai.m"})
    assert "unit_test.gongkai.m.u1" in chosen


def test_a_unit_test_stays_on_duckdb_when_the_singular_tests_check_every_dispatch_macro_its_model_reaches():
    chosen = spark_tests(_manifest(["regex_search"]), {"model.gongkai.m"})
    assert "unit_test.gongkai.m.u1" not in chosen
    assert "test.gongkai.assert_portable_macros" in chosen


def test_a_macro_only_a_hook_calls_brings_no_unit_test_to_spark():
    hooked = _manifest(["regex_search", "trading_clear_rebuilt_partitions"],
                       hook="{{ trading_clear_rebuilt_partitions() }}")
    assert "unit_test.gongkai.m.u1" not in spark_tests(hooked, {"model.gongkai.m"})
    called = _manifest(["regex_search", "trading_clear_rebuilt_partitions"])   # the same macro in the SQL itself
    assert "unit_test.gongkai.m.u1" in spark_tests(called, {"model.gongkai.m"})


def test_each_generic_test_sql_the_project_defines_runs_once_and_dbts_own_do_not():
    chosen = spark_tests(_manifest(["regex_search"]), {"model.gongkai.m"})
    assert {k for k in chosen if ".unique_" in k} == {"test.gongkai.unique_m_a.x"}
    assert not {k for k in chosen if ".not_null_" in k}
