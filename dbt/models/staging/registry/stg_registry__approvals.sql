select
    {{ current_region_code(region_code_as_written('a.region_code'), 'code_map') }}   as region_code,
    cast(a.fiscal_year as integer)                           as fiscal_year,
    lower(trim(a.document))                                  as document,
    a.approved_on,
    a.source_file,
    a.source_row
from {{ source('registry', 'registry_approvals') }} as a
left join {{ ref('ref_region_code_map') }} as code_map on code_map.old_code = {{ region_code_as_written('a.region_code') }}
where not coalesce(a.is_retired, false)
