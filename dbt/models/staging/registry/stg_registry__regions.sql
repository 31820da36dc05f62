select
    {{ current_region_code(region_code_as_written('r.region_code'), 'code_map') }}      as region_code,
    nullif(trim(r.region_code), '')                              as region_code_as_published,
    {{ clean_name('r.region_name') }}                            as region_name,
    lower(trim(r.level))                                         as level,
    {{ current_region_code(region_code_as_written('r.parent_code'), 'parent_map') }}     as parent_code,
    code_map.new_code is null                                    as is_current_code,
    r.source_file,
    r.source_row
from {{ source('registry', 'registry_regions') }} as r
left join {{ ref('ref_region_code_map') }} as code_map on code_map.old_code = {{ region_code_as_written('r.region_code') }}
left join {{ ref('ref_region_code_map') }} as parent_map on parent_map.old_code = {{ region_code_as_written('r.parent_code') }}
where not coalesce(r.is_retired, false)
