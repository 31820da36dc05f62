{#- int_sheet_duplicates: which sheets are copies of one table. A table family is one publisher (as the title names
    it, else the file), year and table title; a family of one sheet has no copy, and only copies are compared line
    by line. -#}
{% macro sheet_family_key(sheets) -%}
concat_ws('|', coalesce({{ sheets }}.entity_name_key, {{ sheets }}.source_file), coalesce(cast({{ sheets }}.fiscal_year as string), ''),
          {{ title_key(sheets ~ '.table_name') }})
{%- endmacro %}

{#- The files holding a sheet of a family of two sheets or more (sorted), worked out before the model runs: the lines
    hashed to compare copies are those files' lines, a filter that reaches the raw tables under the staging views
    (every line of every workbook was standardised and hashed to compare the few copies there are; at 1 M trading
    rows there were none). none: no filter (parsing, Spark). -#}
{% macro sheet_copy_files(sheet_columns) -%}
  {%- if not execute or target.type == 'spark' -%}
    {{ return(none) }}
  {%- endif -%}
  {#- compiled before the staging views exist (dbt compile / docs on a new warehouse): no filter -#}
  {%- for name in ['stg_budget__sheets', 'stg_debt__sheets'] -%}
    {%- set view = ref(name) -%}
    {%- if adapter.get_relation(database=view.database, schema=view.schema, identifier=view.identifier) is none -%}
      {{ return(none) }}
    {%- endif -%}
  {%- endfor -%}
  {%- set query -%}
    with sheets as (
        select {{ sheet_columns }} from {{ ref('stg_budget__sheets') }}
        union all
        select {{ sheet_columns }} from {{ ref('stg_debt__sheets') }}
    ),
    families as (
        select source_file, count(*) over (partition by {{ sheet_family_key('sheets') }}) as copies
        from sheets
        where sheets.status = 'parsed' and sheets.table_name is not null
    )
    select distinct source_file from families where copies > 1 order by 1
  {%- endset -%}
  {{ return(run_query(query).columns[0].values() | list) }}
{%- endmacro %}
