{#- The publishers a sheet's title may name, as CTEs for a model's `with` (int_attachment_sheets,
    int_sheets_resolved: one text, so the two never disagree on who a title names):
    registered_publishers  every code the registry or ref_regions knows (entities and regions);
    region_names           each region's names (the registry's and ref_regions'), region_by_name the name → code of
                           a name one region has;
    entity_by_name         a year's entity name → its code, region and parent, where one code has that name that
                           year. A name two codes share (two 交通运输厅 rows, one under another region) names no one:
                           taking either code would make the other's own file "another publisher's".
    Ends with a comma: the model's own CTEs follow. -#}
{% macro publisher_name_ctes() -%}
registered_publishers as (
    select entity_code as publisher_code from {{ ref('stg_registry__entities') }} where entity_code is not null
    union
    select region_code from {{ ref('stg_registry__regions') }} where region_code is not null
    union
    select cast(region_code as string) from {{ ref('ref_regions') }}
),

region_names as (
    select region_name, region_code from {{ ref('stg_registry__regions') }}
    union
    select trim(region_name), cast(region_code as string) from {{ ref('ref_regions') }}
),

-- a region known under one name only (two codes with one name would be ambiguous: not used)
region_by_name as (
    select region_name, min(region_code) as region_code
    from region_names
    group by region_name
    having count(distinct region_code) = 1
),

-- an entity known under one code that year (two codes with one name would be ambiguous: not used)
entity_by_name as (
    select fiscal_year, entity_name, min(entity_code) as entity_code, min(region_code) as region_code,
           min(parent_entity_code) as parent_entity_code
    from {{ ref('stg_registry__entities') }}
    where entity_code is not null
    group by fiscal_year, entity_name
    having count(distinct entity_code) = 1
),
{%- endmacro %}

{#- The publisher a file names, as compared with registry names (CONTRACTS §7): the name without its own-level
    suffix. X本级 is X's own level (the department's own organ, 本级 = its own), so its file is X's: a unit's file
    naming 预算单位：X本级 under 预算主管部门：X resolves to X, not an unknown publisher. Written as publishers write it,
    after clean_name (half-width brackets, one space): X本级, X 本级, X(本级), X机关本级, X(机关本级) — the list below,
    longest first. Before, only a bare 本级 was dropped: X(本级) was compared as 'X(' and X机关本级 as 'X机关'. -#}
{% macro publisher_name_key(expr) -%}
{%- set own_level_suffixes = ['(机关本级)', '(本级)', '机关本级', '本级'] -%}
{%- set alternatives = [] -%}
{%- for suffix in own_level_suffixes -%}
  {%- do alternatives.append(suffix | replace('(', '\\(') | replace(')', '\\)')) -%}
{%- endfor -%}
{{ regex_replace_anchored(clean_name(expr), sql_string(' ?(?:' ~ (alternatives | join('|')) ~ ')$'), "''") }}
{%- endmacro %}
