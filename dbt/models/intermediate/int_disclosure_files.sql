-- The disclosure each department/unit file is (publisher, year, document, first publication), as its own
-- resolved tables say: the explanations and statements in the file's text belong to it.
select
    source_file,
    min(publisher_code)       as publisher_code,
    min(publisher_name)       as publisher_name,
    min(fiscal_year)          as fiscal_year,
    min(phase)                as document,
    min(published_at)         as published_at,
    min(published_on)         as published_on,
    min(publication_title)    as publication_title,
    min(publication_url)      as publication_url
from {{ ref('int_sheets_resolved') }}
where publisher_kind = 'department' and publisher_code is not null and table_key is not null
group by source_file
