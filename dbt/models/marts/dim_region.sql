-- Regions: the registry's regions.csv, completed by the reference seed, plus old codes (is_current_code
-- false) so old data still joins.
with registry as (
    select region_code, region_name, level, parent_code from {{ ref('stg_registry__regions') }}
    where region_code is not null and is_current_code
    qualify row_number() over (partition by region_code order by source_file, source_row) = 1
),
reference as (
    select trim(cast(region_code as string)) as region_code, trim(region_name) as region_name, trim(level) as level,
           nullif(trim(cast(parent_code as string)), '') as parent_code
    from {{ ref('ref_regions') }}
),
current_codes as (
    select * from registry
    union all
    select * from reference where region_code not in (select region_code from registry)
)
select
    cast(region_code as string) as region_code,
    cast(region_name as string) as region_name,
    cast(level as string) as level,
    cast(parent_code as string) as parent_code,
    true as is_current_code,
    cast(null as string) as current_code
from current_codes
union all
select
    cast(old_code as string),
    cast(old_name as string),
    cast(null as string),
    cast(null as string),
    false,
    cast(new_code as string)
from {{ ref('ref_region_code_map') }}
where old_code not in (select region_code from current_codes)
