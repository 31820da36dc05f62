-- Departments and units per fiscal year (the registry's entities_<year>.csv), credit code checked.
select
    cast(entity_code as string) as entity_code,
    cast(entity_name as string) as entity_name,
    cast(entity_kind as string) as entity_kind,
    cast(region_code as string) as region_code,
    cast(parent_entity_code as string) as parent_entity_code,
    cast(fiscal_year as integer) as fiscal_year,
    cast(entity_uscc_is_valid as boolean) as uscc_is_valid,
    cast(entity_uscc_invalid_reason as string) as uscc_invalid_reason,
    cast(has_government_fund as boolean) as has_government_fund,
    cast(has_state_capital as boolean) as has_state_capital,
    cast(budget_approved_on as date) as budget_approved_on,
    cast(final_approved_on as date) as final_approved_on
from {{ ref('stg_registry__entities') }}
where entity_code is not null
qualify row_number() over (partition by entity_code, fiscal_year order by source_file, source_row) = 1
