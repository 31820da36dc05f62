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
    {# both from the one macro stg_workbook_lines: the same columns in the same order #}
    select * from {{ ref('stg_budget__lines') }}
    union all
    select * from {{ ref('stg_debt__lines') }}
) as lines
-- `on`, not `using`: Spark would move the USING column to the front of lines.*
join {{ ref('int_sheets_resolved') }} as sheets on sheets.sheet_id = lines.sheet_id
