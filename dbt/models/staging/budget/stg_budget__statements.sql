-- Figures and years the explanations state: rename, cast, standardise only.
select
    md5(source_file || '|' || statement_key || '|' || coalesce(sheet, '') || '|' || coalesce(cast(source_page as string), '')
        || '|' || cast(source_row as string) || '|' || coalesce(value_text, ''))  as statement_id,
    source_file,
    lower(trim(statement_key))                                      as statement_key,
    {{ title_key('section_name') }}                                 as section_name_key,
    value_text,
    cast(amount_yuan as decimal(20, 2))                             as amount_yuan,
    cast(tolerance_yuan as decimal(20, 2))                          as tolerance_yuan,
    cast(year_named as integer)                                     as year_named,
    coalesce(sheet, '第' || cast(source_page as string) || '页')   as sheet,
    cast(source_page as integer)                                    as source_page,
    cast(source_row as integer)                                     as source_row,
    excerpt,
    cast(count_value as integer)                                    as count_value
from {{ source('budget', 'budget_statements') }}
where not coalesce(is_retired, false)
