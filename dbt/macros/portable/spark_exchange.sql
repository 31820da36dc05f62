{#- on-run-start: make the raw tables the loaders wrote into DuckDB readable by Spark. The DuckDB tables were
    exported as Parquet (dagster_project/transform/spark_exchange.py) under the exchange folder, listed in its
    tables.json; each becomes an external Parquet table <schema>.<table> (dropped and re-created, so a new
    export or a changed layout is always what is read). DuckDB reads raw.* itself: nothing to do there. -#}
{% macro register_exchange_tables() -%}
{{ return(adapter.dispatch('register_exchange_tables', 'gongkai')()) }}
{%- endmacro %}

{% macro default__register_exchange_tables() -%}
select 1 as nothing_to_register
{%- endmacro %}

{% macro spark__register_exchange_tables() -%}
{%- if execute -%}
  {#- where the executors read the exchange folder; by default the folder itself under GONGKAI_SPARK_DIR -#}
  {%- set location = (env_var('GONGKAI_SPARK_EXCHANGE_URI', '') | trim)
                     or ('file://' ~ (env_var('GONGKAI_SPARK_DIR', '') | trim) ~ '/exchange') -%}
  {%- set location = location.rstrip('/') -%}
  {%- set listed = run_query("select `schema`, `table`, folder from json.`" ~ location ~ "/tables.json` order by 1, 2") -%}
  {%- for row in listed.rows -%}
    {%- do run_query("create schema if not exists " ~ row[0]) -%}
    {%- do run_query("drop table if exists " ~ row[0] ~ "." ~ row[1]) -%}
    {%- do run_query("create table " ~ row[0] ~ "." ~ row[1] ~ " using parquet location '" ~ location ~ "/" ~ row[2] ~ "'") -%}
  {%- endfor -%}
  {%- do log("registered " ~ (listed.rows | length) ~ " exchange tables from " ~ location, info=true) -%}
{%- endif -%}
select 1 as registered
{%- endmacro %}

{#- on-run-end: with GONGKAI_SPARK_EXPORT_DIR set, every view this run built is written as Parquet to
    <dir>/<schema>.<name>/ (its rows, as Spark computes them); tables and seeds are Parquet already, in
    <spark.sql.warehouse.dir>/<schema>.db/<name>/. tests/test_spark_parity.py compares both with DuckDB's rows. -#}
{% macro export_built_relations(results) -%}
{{ return(adapter.dispatch('export_built_relations', 'gongkai')(results)) }}
{%- endmacro %}

{% macro default__export_built_relations(results) -%}
select 1 as nothing_to_export
{%- endmacro %}

{% macro spark__export_built_relations(results) -%}
{%- set target_dir = env_var('GONGKAI_SPARK_EXPORT_DIR', '') | trim -%}
{%- if execute and target_dir -%}
  {#- tables and seeds are Parquet already (<warehouse dir>/<schema>.db/<name>/): only views are computed here -#}
  {%- for result in results if result.node.resource_type == 'model' and result.node.config.materialized == 'view'
                               and result.status == 'success' -%}
    {%- do run_query("insert overwrite directory '" ~ target_dir ~ "/" ~ result.node.schema ~ "." ~ result.node.name
                     ~ "' using parquet select * from " ~ result.node.schema ~ "." ~ result.node.alias) -%}
  {%- endfor -%}
{%- endif -%}
select 1 as exported
{%- endmacro %}
