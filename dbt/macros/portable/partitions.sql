{#- Incremental models rebuilt a whole partition at a time (issue 16): which strategy each engine runs, and how a
    partition that must become empty is emptied. One meaning — "replace these partitions with the model's rows for
    them" — on both engines:
    - DuckDB: delete+insert keyed by the partition column (dbt-duckdb deletes the partitions the new rows name,
      then inserts them, in one transaction);
    - Spark (Parquet, no Delta): insert_overwrite with partition_by (dynamic partition overwrite).
    Both replace only the partitions the new rows name, so a partition whose every row vanished (a removed file
    held a year's only deal) would keep its old rows: clear_partitions empties the rebuilt partitions first. -#}

{% macro partitioned_incremental_config(column) -%}
  {%- if target.type == 'spark' -%}
    {{ return({'materialized': 'incremental', 'incremental_strategy': 'insert_overwrite', 'partition_by': [column],
               'on_schema_change': 'fail'}) }}
  {%- else -%}
    {{ return({'materialized': 'incremental', 'incremental_strategy': 'delete+insert', 'unique_key': column,
               'on_schema_change': 'fail'}) }}
  {%- endif -%}
{%- endmacro %}

{#- SQL that empties the given partitions of an existing relation ('' when there is nothing to clear). Run as a
    pre-hook: on DuckDB inside the model's transaction, so a failed build leaves the old rows. -#}
{% macro clear_partitions(relation, column, values) -%}
  {{ return(adapter.dispatch('clear_partitions')(relation, column, values)) }}
{%- endmacro %}

{% macro default__clear_partitions(relation, column, values) -%}
  {%- if values -%}
delete from {{ relation }} where {{ column }} in ({{ values | join(', ') }})
  {%- endif -%}
{%- endmacro %}

{#- Parquet tables take no DELETE on Spark; a partition of a partitioned table is dropped from the catalog and its
    files (not atomic with the insert that follows: a failed Spark run is repaired by a --full-refresh). -#}
{% macro spark__clear_partitions(relation, column, values) -%}
  {%- if values -%}
alter table {{ relation }} drop if exists
    {%- for value in values %} partition ({{ column }} = {{ value }}){{ ',' if not loop.last }}{% endfor %}
  {%- endif -%}
{%- endmacro %}

{#- `with x as {{ cte_inlined(...) }} (…)`: asks DuckDB to inline a CTE read more than once instead of materialising
    it (DuckDB materialises such a CTE by default since 1.1; a wide one costs a copy of every row). Spark inlines
    CTEs and takes no such keyword: ''. Only a hint, never a change of rows. enabled=false: '' on both. -#}
{% macro cte_inlined(enabled=true) -%}
  {{ return(adapter.dispatch('cte_inlined', 'gongkai')(enabled)) }}
{%- endmacro %}
{% macro default__cte_inlined(enabled) -%}{{ 'not materialized' if enabled else '' }}{%- endmacro %}
{% macro spark__cte_inlined(enabled) -%}{%- endmacro %}
