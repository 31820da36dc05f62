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
    and the load that read them stand for its lines), and for a file unit also its versions in the load manifest. A unit whose fingerprint
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
    fingerprints, hashed). A sheet's lines are stood for by its file's bytes AND the load that read them: the same
    bytes read again by changed readers (ingest/reread.py) are other lines, and the unit is rebuilt with them. -#}
{% macro budget_publisher_year_fingerprints() -%}
{%- set sheet_reading = "concat_ws('|', " ~ budget_sheet_fingerprint('sheets') ~ ", coalesce(readings.load_id, '~'))" %}
select
    {{ budget_publisher_year_unit('sheets.publisher_code', 'sheets.fiscal_year') }} as rebuild_unit,
    md5({{ list_join(sorted_distinct_list(sheet_reading), "','") }}) as unit_fingerprint
from {{ ref('int_sheets_resolved') }} as sheets
left join (
    {#- the raw manifest, not its staging view: this macro also runs in marts' hooks, where a ref dbt did not see
        when parsing is refused (a source is not) -#}
    select source_file, load_id from {{ source('load_manifest', 'load_files') }} where is_current
) as readings on readings.source_file = sheets.source_file
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

{#- Units to rebuild (strings, sorted); none = no filter (first build, full refresh, parsing, unit tests, Spark).
    Worked out once per model, when its SQL is compiled: the model writes the answer into its SQL
    (budget_rebuild_marker) and its pre-hook, rendered when the compiled model runs, reads it back
    (budget_units_marked), so the units emptied are exactly those the SELECT rebuilds and the fingerprint query,
    which reads every resolved sheet, runs once per model instead of twice (the trading chain's way). -#}
{% macro budget_units_to_rebuild(kind) -%}
  {%- if not execute or this is none or not is_incremental() -%}
    {{ return(none) }}
  {%- endif -%}
  {%- set marked = budget_units_marked() -%}
  {%- if marked is not none -%}
    {{ return(marked) }}
  {%- endif -%}
  {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
  {%- if 'rebuild_unit' not in columns or 'unit_fingerprint' not in columns -%}
    {{ exceptions.raise_compiler_error(this ~ " was built before incremental budget units: run dbt build --full-refresh") }}
  {%- endif -%}
  {#- a unit without rows in the table (it yields none, or is new): built again, which costs little -#}
  {{ return(budget_moved_units(budget_unit_fingerprints(kind),
                               'select distinct rebuild_unit, unit_fingerprint from ' ~ this)) }}
{%- endmacro %}

{#- The units whose fingerprint now (now_sql: rebuild_unit, unit_fingerprint) differs from the one they were built
    with (built_sql: the same columns), or that are on one side only — sorted, and logged once. -#}
{% macro budget_moved_units(now_sql, built_sql) -%}
  {%- set query -%}
    with now_units as ({{ now_sql }}),
    built_units as ({{ built_sql }})
    select
        coalesce(now_units.rebuild_unit, built_units.rebuild_unit) as rebuild_unit,
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

{#- The units to rebuild written into the model's SQL as a comment (JSON; '*/' inside a key is written '*\/', which
    JSON reads back as '*/'), for its pre-hook (budget_units_marked). -#}
{% macro budget_rebuild_marker(units) -%}
/* gongkai_budget_units: {{ 'all' if units is none else tojson(units) | replace('*/', '*\\/') }} */
{%- endmacro %}

{#- The units the compiled SQL of the running model was built for (its budget_rebuild_marker); none when the model
    is not compiled yet (while it compiles) or carries no marker. -#}
{% macro budget_units_marked() -%}
  {%- set code = (model or {}).get('compiled_code') or '' -%}
  {%- set tag = 'gongkai_budget_units: ' -%}
  {%- if tag not in code -%}
    {{ return(none) }}
  {%- endif -%}
  {%- set value = code.split(tag, 1)[1].split(' */', 1)[0] -%}
  {%- if value == 'all' -%}
    {{ return(none) }}
  {%- endif -%}
  {{ return(fromjson(value)) }}
{%- endmacro %}

{#- The files whose sheets belong to the given publisher-year units (none = every file): a filter on the files'
    lines that reaches the raw tables under the staging views, so that rebuilding one unit standardises that
    unit's lines only, not every line (the lines of a sheet are in the sheet's file). -#}
{% macro budget_unit_files(units) -%}
  {%- if units is none or not execute -%}
    {{ return(none) }}
  {%- elif units | length == 0 -%}
    {{ return([]) }}
  {%- endif -%}
  {%- set query -%}
    select distinct source_file from {{ ref('int_sheets_resolved') }} as sheets
    where {{ in_keys(budget_publisher_year_unit('sheets.publisher_code', 'sheets.fiscal_year'), units) }}
    order by 1
  {%- endset -%}
  {{ return(run_query(query).columns[0].values() | list) }}
{%- endmacro %}

{#- Pre-hook: empty the units about to be rebuilt (DuckDB only: on Spark the models are tables). -#}
{% macro budget_clear_rebuilt_units(kind) -%}
  {%- set units = budget_units_to_rebuild(kind) -%}
  {%- if units -%}
delete from {{ this }} where {{ in_keys('rebuild_unit', units) }}
  {%- endif -%}
{%- endmacro %}

{#- A mart built from int_lines_resolved rows alone (fct_budget_lines), incremental by the same publisher-year units
    without unit columns of its own (its columns are its contract): the fingerprints of the units it was built from
    are kept beside it, in <mart>__built_units (rebuild_unit, unit_fingerprint), rewritten by its post-hook in the
    same transaction as its rows, so the two never disagree. A unit whose fingerprint in int_lines_resolved differs
    from the kept one, or that is on one side only, is deleted from the mart (by its publisher and year, which
    make the unit key: budget_publisher_year_unit) and rebuilt. Seeds and code changes are full refreshes, as for
    the units above; on Spark the mart is a table.
    units_of: 'lines' (the units int_lines_resolved holds: a table built from lines alone) or 'sheets' (every
    publisher-year of int_sheets_resolved, budget_publisher_year_fingerprints: a table that also has rows for
    sheets without lines, as int_detail_checks for 三公 tables; such a unit is then kept and rebuilt like any other). -#}
{% macro budget_mart_state_relation() -%}
  {{ return(api.Relation.create(database=this.database, schema=this.schema, identifier=this.identifier ~ '__built_units')) }}
{%- endmacro %}

{% macro budget_mart_incremental_config(units_of='lines') -%}
  {%- if target.type == 'spark' -%}
    {{ return({'materialized': 'table'}) }}
  {%- else -%}
    {{ return({'materialized': 'incremental', 'incremental_strategy': 'append', 'on_schema_change': 'fail',
               'pre_hook': "{{ budget_mart_clear_rebuilt_units('" ~ units_of ~ "') }}",
               'post_hook': "{{ budget_mart_keep_units('" ~ units_of ~ "') }}"}) }}
  {%- endif -%}
{%- endmacro %}

{#- The publisher-year units (rebuild_unit, unit_fingerprint) such a table is built from now. -#}
{% macro budget_mart_now_units(units_of) -%}
  {%- if units_of == 'lines' -%}
select distinct rebuild_unit, unit_fingerprint from {{ ref('int_lines_resolved') }}
  {%- elif units_of == 'sheets' -%}
{{ budget_publisher_year_fingerprints() }}
  {%- else -%}{{ exceptions.raise_compiler_error("unknown budget mart units " ~ units_of) }}
  {%- endif -%}
{%- endmacro %}

{#- Units to rebuild in the mart (strings, sorted); none = no filter (first build, full refresh, parsing, Spark). -#}
{% macro budget_mart_units_to_rebuild(units_of='lines') -%}
  {%- if not execute or this is none or not is_incremental() -%}
    {{ return(none) }}
  {%- endif -%}
  {%- set marked = budget_units_marked() -%}
  {%- if marked is not none -%}
    {{ return(marked) }}
  {%- endif -%}
  {%- set state = budget_mart_state_relation() -%}
  {%- if adapter.get_relation(database=state.database, schema=state.schema, identifier=state.identifier) is none -%}
    {{ exceptions.raise_compiler_error(this ~ " has no " ~ state.identifier ~ " (built before incremental budget units): run dbt build --full-refresh") }}
  {%- endif -%}
  {{ return(budget_moved_units(budget_mart_now_units(units_of),
                               'select rebuild_unit, unit_fingerprint from ' ~ state)) }}
{%- endmacro %}

{#- Pre-hook of such a mart: delete the rows of the units about to be rebuilt (its publisher_code and fiscal_year). -#}
{% macro budget_mart_clear_rebuilt_units(units_of='lines') -%}
  {%- set units = budget_mart_units_to_rebuild(units_of) -%}
  {%- if units -%}
delete from {{ this }} where {{ in_keys(budget_publisher_year_unit('publisher_code', 'fiscal_year'), units) }}
  {%- endif -%}
{%- endmacro %}

{#- Post-hook of such a mart: the units it now holds are those it is built from as they are now (rebuilt units were
    read from there; the others had the same fingerprint). -#}
{% macro budget_mart_keep_units(units_of='lines') -%}
  {%- if execute -%}
create or replace table {{ budget_mart_state_relation() }} as
{{ budget_mart_now_units(units_of) }}
  {%- endif -%}
{%- endmacro %}
