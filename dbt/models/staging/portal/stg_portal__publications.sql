select
    md5(source_file || '|' || source_row)                 as publication_id,
    source_file,
    source_row,
    {# a row without a publisher code keeps a key derived from the name it gives (never NULL: findings are keyed by it) #}
    coalesce({{ clean_uscc('publisher_code') }},
             {{ unregistered_publisher_key(clean_name('publisher_name')) }}) as publisher_code,
    {{ clean_name('publisher_name') }}                    as publisher_name,
    {{ clean_name('portal_column') }}                     as portal_column,
    {{ clean_name('title') }}                             as title,
    published_at,
    cast(published_at as date)                            as published_on,
    trim(url)                                             as url,
    {# a bare file name or a path relative to the raw root; a URL, a path on another disk or a percent-encoded name
       as the file name it names (macros/attachments.sql) #}
    {{ attachment_in_raw_root('attachment') }} as attachment,
    {{ regex_extract(attachment_in_raw_root('attachment'), "'[^/]+$'") }} as attachment_file_name,
    nullif(trim(attachment), '')                          as attachment_as_published
from {{ source('portal', 'portal_publications') }}
where not coalesce(is_retired, false)
