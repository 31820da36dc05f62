-- Budget and debt lines with their sheet's resolution (publisher, table_key, evaluability).
select
    lines.*,
    sheets.table_key,
    sheets.publisher_kind,
    sheets.publisher_code,
    sheets.publisher_name,
    sheets.region_code,
    sheets.fiscal_year,
    sheets.phase,
    sheets.required_detail,
    sheets.unit_multiplier,
    sheets.is_evaluable
from (
    select * from {{ ref('stg_budget__lines') }}
    union all by name
    select * from {{ ref('stg_debt__lines') }}
) as lines
join {{ ref('int_sheets_resolved') }} as sheets using (sheet_id)
