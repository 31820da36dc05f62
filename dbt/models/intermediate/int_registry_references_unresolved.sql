-- Registry rows that point at something the registry does not hold (REG_REFERENCE_UNRESOLVED): a region's parent
-- code, an entity's or an approval's region code that is neither in registry/regions.csv nor a GB/T 2260 code
-- (ref_regions, old codes included), and a unit's parent entity that the same year's entities_<year>.csv lacks
-- (said when another year's file has it: a department renamed, merged or left out of that year's list). The row
-- still loads and counts as it stands; what a rule reads through the reference (a region's name, level, parent;
-- the department a unit belongs to) it cannot find. One row per cell: file, row, column, the value.
with known_regions as (
    select region_code from {{ ref('stg_registry__regions') }} where region_code is not null
    union
    select cast(region_code as string) from {{ ref('ref_regions') }}
    union
    select cast(old_code as string) from {{ ref('ref_region_code_map') }}
),

entities as (
    select * from {{ ref('stg_registry__entities') }}
),

entity_years as (
    select entity_code, fiscal_year, min(source_file) as source_file
    from entities
    where entity_code is not null
    group by entity_code, fiscal_year
),

region_parents as (
    select
        r.region_code as publisher_code,
        cast(null as integer) as fiscal_year,
        r.source_file, r.source_row,
        'parent_code' as column_name,
        r.parent_code as observed_value,
        '上级区划不在 regions.csv 中, 也不是 GB/T 2260 代码 (the parent region is neither in regions.csv nor a GB/T 2260 code)'
            as reason
    from {{ ref('stg_registry__regions') }} as r
    where r.parent_code is not null
      and r.parent_code not in (select region_code from known_regions)
),

entity_regions as (
    select
        e.entity_code, e.fiscal_year, e.source_file, e.source_row,
        'region_code', e.region_code,
        '行政区划不在 regions.csv 中, 也不是 GB/T 2260 代码 (the region is neither in regions.csv nor a GB/T 2260 code)'
    from entities as e
    where e.region_code is not null
      and e.region_code not in (select region_code from known_regions)
),

entity_parents as (
    select
        e.entity_code, e.fiscal_year, e.source_file, e.source_row,
        'parent_entity_code', e.parent_entity_code,
        case when other_years.years is null
             then '上级单位不在 ' || cast(e.fiscal_year as string) || ' 年度登记册中 (the parent entity is not in the '
                  || cast(e.fiscal_year as string) || ' registry)'
             else '上级单位不在 ' || cast(e.fiscal_year as string) || ' 年度登记册中, 只见于 ' || other_years.years
                  || ' 年度 (the parent entity is not in the ' || cast(e.fiscal_year as string)
                  || ' registry; only in that of ' || other_years.years || ')'
        end
    from entities as e
    left join entity_years as same_year
        on same_year.entity_code = e.parent_entity_code and same_year.fiscal_year = e.fiscal_year
    left join (
        select entity_code, {{ ordered_string_agg('cast(fiscal_year as string)', "', '", ['fiscal_year']) }} as years
        from entity_years
        group by entity_code
    ) as other_years on other_years.entity_code = e.parent_entity_code
    where e.parent_entity_code is not null
      and same_year.entity_code is null
),

approval_regions as (
    select
        a.region_code, a.fiscal_year, a.source_file, a.source_row,
        'region_code', a.region_code,
        '行政区划不在 regions.csv 中, 也不是 GB/T 2260 代码 (the region is neither in regions.csv nor a GB/T 2260 code)'
    from {{ ref('stg_registry__approvals') }} as a
    where a.region_code is not null
      and a.region_code not in (select region_code from known_regions)
)

select
    cast('REG_REFERENCE_UNRESOLVED' as string) as rule_id,
    cast(publisher_code as string) as publisher_code,
    cast(fiscal_year as integer) as fiscal_year,
    cast(source_file as string) as source_file,
    cast(source_row as integer) as source_row,
    cast(column_name as string) as column_name,
    cast(observed_value as string) as observed_value,
    cast(reason as string) as reason
from (
    select * from region_parents
    union all select * from entity_regions
    union all select * from entity_parents
    union all select * from approval_regions
) as unresolved
