"""Fiscal-year partitions: which assets carry them, which years become partitions, what a run publishes."""
from __future__ import annotations

import dagster as dg
import duckdb

from dagster_project import partitions


def test_a_run_without_partition_or_over_every_year_publishes_every_year():
    known = ["2017", "2018", "2019"]
    assert partitions.selected_fiscal_years(None, known) is None
    assert partitions.selected_fiscal_years([], known) is None
    assert partitions.selected_fiscal_years(["2017", "2018", "2019"], known) is None
    assert partitions.selected_fiscal_years(["2019"], known) == {2019}
    assert partitions.selected_fiscal_years(["2017", "2018"], known) == {2017, 2018}


def test_years_in_the_marts_become_partitions_once(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create schema marts")
    con.execute("create table marts.fct_budget_lines as select * from (values (2018), (2019), (null)) t(fiscal_year)")
    con.execute("create table marts.fct_deals as select * from (values (2019), (2020), (20190)) t(fiscal_year)")
    years = partitions.years_in_warehouse(con)
    con.close()
    assert years == [2018, 2019, 2020]  # NULL and a typed-in 20190 are no partitions
    with dg.DagsterInstance.ephemeral() as instance:
        assert partitions.register(instance, years) == ["2018", "2019", "2020"]
        assert partitions.register(instance, [2019, 2021]) == ["2021"]
        assert sorted(instance.get_dynamic_partitions(partitions.FISCAL_YEAR_PARTITIONS)) == ["2018", "2019", "2020", "2021"]


def test_publication_is_partitioned_by_fiscal_year_and_the_rest_is_not():
    from dagster_project.definitions import defs

    graph = defs.resolve_asset_graph()
    partitioned = {k.to_user_string() for k in graph.get_all_asset_keys()
                   if graph.get(k).partitions_def is not None}
    assert partitioned == {"publish/open_data_release"}
    for key in partitioned:
        assert graph.get(dg.AssetKey.from_user_string(key)).partitions_def == partitions.fiscal_year_partitions
    # the all-years job still resolves with every asset in it
    job = defs.resolve_job_def("gongkai_all")
    assert job.partitions_def == partitions.fiscal_year_partitions


def test_a_one_year_run_hands_its_year_to_the_publication_functions():
    from dagster_project.publish.assets import call_for_years

    seen = []

    def publish_by_year(warehouse, fiscal_years=None):
        seen.append((warehouse, fiscal_years))

    def publish_every_year(warehouse):
        seen.append((warehouse, "all"))

    # an asset partitioned like the publication assets, run through Dagster itself
    @dg.asset(partitions_def=partitions.fiscal_year_partitions, backfill_policy=dg.BackfillPolicy.single_run())
    def publication(context):
        call_for_years(context, publish_by_year, "w")
        call_for_years(context, publish_every_year, "w")  # the seam: a function not yet by year rebuilds all
        return dg.MaterializeResult()

    # upstream of it, unpartitioned like the OCDS packages: the run's year all the same
    @dg.asset
    def packages(context):
        call_for_years(context, publish_by_year, "p")
        return dg.MaterializeResult()

    @dg.asset(deps=[packages], partitions_def=partitions.fiscal_year_partitions,
              backfill_policy=dg.BackfillPolicy.single_run())
    def release(context):
        call_for_years(context, publish_by_year, "r")
        return dg.MaterializeResult()

    with dg.DagsterInstance.ephemeral() as instance:
        partitions.register(instance, [2018, 2019])
        assert dg.materialize([publication], partition_key="2019", instance=instance).success
        tags = {"dagster/asset_partition_range_start": "2018", "dagster/asset_partition_range_end": "2019"}
        assert dg.materialize([publication], tags=tags, instance=instance).success
        assert seen == [("w", {2019}), ("w", "all"), ("w", None), ("w", "all")]
        seen.clear()
        assert dg.materialize([packages, release], partition_key="2018", instance=instance).success
        assert dg.materialize([packages, release], instance=instance).success  # the all-years run
    assert seen == [("p", {2018}), ("r", {2018}), ("p", None), ("r", None)]
