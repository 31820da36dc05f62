-- Required explanations found in a disclosure's text, resolved to the catalogue item (book explanation)
-- of the file's publisher, year and document, with the file's publication (CONTRACTS.md §7 "Published").
with sections as (
    select * from {{ ref('stg_budget__sections') }}
),

explanations as (
    select table_key, document, {{ title_key('table_name_zh') }} as name_key
    from {{ ref('ref_disclosure_catalogue') }}
    where book = 'explanation'
)

select
    files.publisher_code,
    files.publisher_name,
    files.fiscal_year,
    files.document,
    explanations.table_key,
    sections.section_name,
    sections.heading,
    sections.body_chars,
    sections.source_file,
    sections.sheet,
    sections.source_page,
    sections.source_row,
    files.published_at,
    files.published_on,
    files.publication_title,
    files.publication_url
from sections
join {{ ref('int_disclosure_files') }} as files using (source_file)
join explanations
    on explanations.name_key = sections.section_name_key
   and explanations.document = files.document
