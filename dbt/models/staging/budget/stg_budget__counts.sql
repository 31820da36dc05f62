-- Counts a budget table gives beside its amounts (the 三公 detail of a final): rename, cast, standardise only.
select
    md5(source_file || '|' || sheet || '|' || coalesce(cast(source_page as string) || ':', '') || cast(source_row as string)
        || '|' || column_key || '|' || source_column || '|' || count_key)   as count_id,
    md5(source_file || '|' || sheet)                                          as sheet_id,
    source_file,
    sheet,
    cast(source_page as integer)                                              as source_page,
    cast(source_row as integer)                                               as source_row,
    {{ clean_name('line_label') }}                                            as item_name,
    lower(trim(count_key))                                                    as count_key,
    lower(trim(column_key))                                                   as column_key,
    source_column,
    value_text,
    cast(count_value as integer)                                              as count_value
from {{ source('budget', 'budget_counts') }}
where not coalesce(is_retired, false)
