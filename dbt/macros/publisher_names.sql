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
