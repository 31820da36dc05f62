select
    load_id,
    family,
    source_file,
    source_sha256,
    sheet,
    source_row,
    source_column,
    raw_value,
    reason,
    source_row is null as is_file_reject
from {{ source('load_manifest', 'load_rejects') }}
where not coalesce(is_retired, false)
