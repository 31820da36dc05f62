-- Required explanations found in budget disclosures: rename, cast, standardise only.
select
    md5(source_file || '|' || section_name)                         as section_id,
    source_file,
    {{ clean_name('section_name') }}                                as section_name,
    {{ title_key('section_name') }}                                 as section_name_key,
    {{ clean_name('heading') }}                                     as heading,
    coalesce(sheet, '第' || cast(source_page as string) || '页')   as sheet,
    cast(source_page as integer)                                    as source_page,
    cast(source_row as integer)                                     as source_row,
    cast(body_chars as integer)                                     as body_chars
from {{ source('budget', 'budget_sections') }}
where not coalesce(is_retired, false)
