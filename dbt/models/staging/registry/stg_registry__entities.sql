with entities as (
    select
        e.fiscal_year,
        {{ clean_uscc('e.entity_code') }}                        as entity_code,
        {{ clean_name('e.entity_name') }}                        as entity_name,
        {{ current_region_code(region_code_as_written('e.region_code'), 'code_map') }}   as region_code,
        {# a registry without the kind column (or the cell left blank): a department is a first-level budget unit, with
           no parent; a unit names its department (DOMAIN.md 1: 所属单位) #}
        coalesce(nullif(lower(trim(e.entity_kind)), ''),
                 case when {{ clean_uscc('e.parent_entity_code') }} is null then 'department' else 'unit' end) as entity_kind,
        {{ clean_uscc('e.parent_entity_code') }}                 as parent_entity_code,
        coalesce(e.has_government_fund, false)                   as has_government_fund,
        coalesce(e.has_state_capital, false)                     as has_state_capital,
        e.budget_approved_on,
        e.final_approved_on,
        e.source_file,
        e.source_row
    from {{ source('registry', 'registry_entities') }} as e
    left join {{ ref('ref_region_code_map') }} as code_map on code_map.old_code = {{ region_code_as_written('e.region_code') }}
    where not coalesce(e.is_retired, false)
)
select
    *,
    {{ uscc_columns('entity_code', 'entity') }}
from entities
