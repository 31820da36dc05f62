-- The present state of every file under the raw root (load_files has no is_retired column: its
-- current row carries status 'retired' instead).
select
    load_id,
    source_file,
    {{ regex_extract('source_file', "'[^/]+$'") }} as file_name,
    source_sha256,
    bytes,
    family,
    file_format,
    encoding,
    detected_kind,
    status,
    reason,
    rows_in,
    rows_loaded,
    rows_rejected,
    loaded_at
from {{ source('load_manifest', 'load_files') }}
where is_current and status <> 'retired'
