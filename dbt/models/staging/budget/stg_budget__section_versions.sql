-- Headings of the explanations of every version of a budget disclosure (present and superseded): where a
-- correction note (更正/修订/调整说明) can stand. Rename, cast, standardise only.
select
    load_id,
    source_file,
    {{ clean_name('section_name') }}    as section_name,
    {{ clean_name('heading') }}         as heading
from {{ source('budget', 'budget_sections') }}
