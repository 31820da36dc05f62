-- Cells of loaded rows stored NULL because a spreadsheet damaged them (raw.load_blanked_cells), of current raw
-- files. Rename, cast only.
select
    load_id,
    family,
    source_file,
    source_sha256,
    sheet,
    source_row,
    cast(coalesce(sheet_row, source_row) as integer) as shown_row,
    source_column,
    field_name,
    raw_value
from {{ source('load_manifest', 'load_blanked_cells') }}
where not coalesce(is_retired, false)
