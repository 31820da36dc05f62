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
    nullif(trim(replace(attachment, {{ sql_string('\\') }}, '/')), '') as attachment,
    {# the attachment may be a bare file name or a path relative to the raw root #}
    {{ regex_extract("trim(replace(attachment, " ~ sql_string('\\') ~ ", '/'))", "'[^/]+$'") }} as attachment_file_name
from {{ source('portal', 'portal_publications') }}
where not coalesce(is_retired, false)
