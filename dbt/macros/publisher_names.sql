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

-- every name the registry or ref_regions knows, any year (registry_names_cte: is a name as written a publisher's?)
known_publisher_names as (
    select distinct entity_name as known_name from {{ ref('stg_registry__entities') }} where entity_name is not null
    union
    select region_name from region_names where region_name is not null
),
{%- endmacro %}

{#- A publisher name's own-level suffixes as publishers write them, after clean_name (half-width brackets, one space):
    X本级, X 本级, X(本级), X机关本级, X(机关本级). -#}
{% macro own_level_suffixes() -%}
{{ return(['(机关本级)', '(本级)', '机关本级', '本级']) }}
{%- endmacro %}

{#- The name expr without the given own-level suffix(es) (all of own_level_suffixes() by default), cleaned first
    (clean_name) unless it is a cleaned name already. -#}
{% macro strip_own_level(expr, suffixes=none, cleaned=false) -%}
{%- set alternatives = [] -%}
{%- for suffix in (suffixes or own_level_suffixes()) -%}
  {%- do alternatives.append(suffix | replace('(', '\\(') | replace(')', '\\)')) -%}
{%- endfor -%}
{{ regex_replace_anchored(expr if cleaned else clean_name(expr), sql_string(' ?(?:' ~ (alternatives | join('|')) ~ ')$'), "''") }}
{%- endmacro %}

{#- The publisher a file names without its own-level suffix (CONTRACTS §7): X本级 is X's own level (the department's
    own organ, 本级 = its own), so its file is X's: a unit's file naming 预算单位：X本级 under 预算主管部门：X resolves to
    X, not an unknown publisher. The key of a publisher no registry names (sheet copies, UNREG- keys); matched with
    the registry through registry_names below, which tries the name as written first. -#}
{% macro publisher_name_key(expr) -%}
{{ strip_own_level(expr) }}
{%- endmacro %}

{#- registry_names (a CTE, after publisher_name_ctes; ends with a comma): each publisher name of `sheets` (a relation
    with entity_name cleaned and its entity_name_key) → registry_name_key, the name compared with registry and region
    names. The name as written when the registry or a region has it (a registered 宁夏回族自治区财政厅本级 is that
    unit, not its department), else the name with the shortest own-level suffix off that the registry has (X机关本级
    with X机关 registered: X机关's own level, not X; own_level_suffixes() read reversed, shortest first), else
    entity_name_key (every suffix off). -#}
{% macro registry_names_cte(sheets) -%}
registry_names as (
    select
        names.entity_name,
        case
            when written.known_name is not null then names.entity_name
            {%- for suffix in own_level_suffixes() | reverse %}
            when off_{{ loop.index }}.known_name is not null then off_{{ loop.index }}.known_name
            {%- endfor %}
            else names.entity_name_key
        end as registry_name_key
    from (select distinct entity_name, entity_name_key from {{ sheets }} where entity_name is not null) as names
    left join known_publisher_names as written on written.known_name = names.entity_name
    {%- for suffix in own_level_suffixes() | reverse %}
    left join known_publisher_names as off_{{ loop.index }}
        on off_{{ loop.index }}.known_name = {{ strip_own_level('names.entity_name', [suffix], cleaned=true) }}
    {%- endfor %}
),
{%- endmacro %}
