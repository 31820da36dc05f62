{#- The budget/debt chain (int_lines_resolved → int_line_items → int_reconciliation_checks, and int_figure_versions)
    is built incrementally by load on DuckDB (issue 16), one REBUILD UNIT at a time:
    - a publisher-year (publisher_code|fiscal_year of the resolved sheet) for the line chain: every identity, the
      "first published copy" of a table (is_primary_sheet) and a line's resolution are decided within one
      publisher's sheets of one year, so a unit's rows depend only on that unit's sheets;
    - a file (source_file) for int_figure_versions: a figure is compared across the versions of its own file.

    Which units a build rebuilds is not reasoned from which raw families changed (a portal or registry load may
    change any sheet's publisher, a duplicate copy may change which sheet is kept): it is read from the inputs
    themselves. Every row carries its unit (rebuild_unit) and the unit's input fingerprint (unit_fingerprint): a
    hash over the unit's resolved sheets as int_sheets_resolved gives them now (the file's bytes, source_sha256,
    stand for its lines), and for a file unit also its versions in the load manifest. A unit whose fingerprint
    now differs from the one its rows carry — a re-published or removed file, a new year, a sheet that changed
    publisher, became a duplicate or lost its rejects — is deleted and rebuilt; a unit absent from the table
    (new, or one that yields no rows) is built; the others keep their rows. The fingerprint is a function of the
    inputs only, so an incremental build and a full refresh write equal rows.

    Reference data (seeds) and dbt code are not in the fingerprint: when they change the build is a full refresh
    (Dagster's transform asset decides it from the dbt code digest). On Spark these models are plain tables (the
    fingerprint columns are still computed, equal on both engines): the incremental path is DuckDB's. -#}

{#- The resolved sheet's columns a downstream model reads (the lines themselves are stood for by the file's bytes). -#}
{% macro budget_sheet_fingerprint(sheets) -%}
  {%- set columns = ['sheet_id', 'source_file', 'source_sha256', 'sheet', 'sheet_index', 'table_name', 'table_key',
                     'publisher_kind', 'publisher_code', 'publisher_name', 'region_code', 'fiscal_year', 'phase',
                     'required_detail', 'unit_multiplier', 'is_evaluable', 'published_at'] -%}
md5(concat_ws('|'
  {%- for column in columns %}, coalesce(cast({{ sheets }}.{{ column }} as string), '~'){% endfor %}))
{%- endmacro %}

{#- A publisher-year unit key. Never NULL: a sheet whose publisher could not be resolved (an unknown publisher) is
    a unit of its own ('~|<year>'), so its lines are kept by the joins on the unit and rebuilt like any other's. -#}
{% macro budget_publisher_year_unit(publisher_code, fiscal_year) -%}
(coalesce({{ publisher_code }}, '~') || '|' || coalesce(cast({{ fiscal_year }} as string), ''))
{%- endmacro %}

{#- One row per publisher-year unit: rebuild_unit, unit_fingerprint (order-free: the sorted list of its sheets'
    fingerprints, hashed). -#}
{% macro budget_publisher_year_fingerprints() -%}
select
    {{ budget_publisher_year_unit('sheets.publisher_code', 'sheets.fiscal_year') }} as rebuild_unit,
    md5({{ list_join(sorted_distinct_list(budget_sheet_fingerprint('sheets')), "','") }}) as unit_fingerprint
from {{ ref('int_sheets_resolved') }} as sheets
group by {{ budget_publisher_year_unit('sheets.publisher_code', 'sheets.fiscal_year') }}
{%- endmacro %}

{#- One row per budget/debt file unit: its versions in the load manifest and its resolved sheets. -#}
{% macro budget_file_fingerprints() -%}
select
    rebuild_unit,
    md5({{ list_join(sorted_distinct_list('part'), "','") }}) as unit_fingerprint
from (
    select source_file as rebuild_unit,
           concat_ws('|', 'v', load_id, coalesce(source_sha256, '~'), coalesce(status, '~')) as part
    from {{ ref('stg_load_manifest__file_versions') }}
    where family in ('budget', 'debt')
    union all
    select sheets.source_file, 's|' || {{ budget_sheet_fingerprint('sheets') }}
    from {{ ref('int_sheets_resolved') }} as sheets
) as parts
group by rebuild_unit
{%- endmacro %}

{#- Incremental on DuckDB (delete+insert keyed by rebuild_unit; the units to rebuild are emptied first by the
    pre-hook, so a unit whose rows all vanished is emptied too); a table on Spark. -#}
{% macro budget_unit_incremental_config() -%}
  {%- if target.type == 'spark' -%}
    {{ return({'materialized': 'table'}) }}
  {%- else -%}
    {{ return({'materialized': 'incremental', 'incremental_strategy': 'delete+insert', 'unique_key': 'rebuild_unit',
               'on_schema_change': 'fail'}) }}
  {%- endif -%}
{%- endmacro %}

{#- The fingerprints of a unit kind: 'publisher_year' or 'file'. -#}
{% macro budget_unit_fingerprints(kind) -%}
  {%- if kind == 'publisher_year' -%}{{ return(budget_publisher_year_fingerprints()) }}
  {%- elif kind == 'file' -%}{{ return(budget_file_fingerprints()) }}
  {%- else -%}{{ exceptions.raise_compiler_error("unknown budget unit kind " ~ kind) }}
  {%- endif -%}
{%- endmacro %}

{#- Units to rebuild (strings, sorted); none = no filter (first build, full refresh, parsing, unit tests, Spark). -#}
{% macro budget_units_to_rebuild(kind) -%}
  {%- if not execute or this is none or not is_incremental() -%}
    {{ return(none) }}
  {%- endif -%}
  {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
  {%- if 'rebuild_unit' not in columns or 'unit_fingerprint' not in columns -%}
    {{ exceptions.raise_compiler_error(this ~ " was built before incremental budget units: run dbt build --full-refresh") }}
  {%- endif -%}
  {%- set query -%}
    with now_units as ({{ budget_unit_fingerprints(kind) }}),
    built_units as (select distinct rebuild_unit, unit_fingerprint from {{ this }})
    select
        coalesce(now_units.rebuild_unit, built_units.rebuild_unit) as rebuild_unit,
        -- a unit without rows in the table (it yields none, or is new): built again, which costs little
        bool_and(built_units.rebuild_unit is null) as is_absent
    from now_units
    full outer join built_units on built_units.rebuild_unit = now_units.rebuild_unit
    where now_units.unit_fingerprint is distinct from built_units.unit_fingerprint
    group by 1
    order by 1
  {%- endset -%}
  {%- set result = run_query(query) -%}
  {%- set units = result.columns[0].values() | list -%}
  {%- set changed = result.columns[1].values() | reject | list | length -%}
  {{ log(this.identifier ~ ": rebuilding " ~ (units | length) ~ " units, " ~ changed ~ " of them built before"
         ~ (" (" ~ (units[:3] | join(', ')) ~ (" …" if units | length > 3 else "") ~ ")" if units else ""), info=True) }}
  {{ return(units) }}
{%- endmacro %}

{#- Pre-hook: empty the units about to be rebuilt (DuckDB only: on Spark the models are tables). -#}
{% macro budget_clear_rebuilt_units(kind) -%}
  {%- set units = budget_units_to_rebuild(kind) -%}
  {%- if units -%}
delete from {{ this }} where {{ in_keys('rebuild_unit', units) }}
  {%- endif -%}
{%- endmacro %}
