-- Every load of every raw file, current or not: the versions of a file in the order they were loaded
-- (a replaced file's earlier versions keep their rows, flagged; CONTRACTS §2). Rename, cast only.
select
    load_id,
    source_file,
    source_sha256,
    family,
    status,
    cast(loaded_at as timestamp)    as loaded_at,
    is_current
from {{ source('load_manifest', 'load_files') }}
