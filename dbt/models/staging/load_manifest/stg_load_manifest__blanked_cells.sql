-- Cells of loaded rows stored NULL because they could not be read (raw.load_blanked_cells: a code a spreadsheet
-- damaged, an impossible date …), of current raw files. Rename, cast only; a cell kept before its kind was (only codes
-- were blanked then) is a code.
select
    load_id,
    family,
    source_file,
    source_sha256,
    sheet,
    source_row,
    -- the row whose record the cell belongs to (a 513 member row folded into its consortium's first row)
    cast(coalesce(record_row, source_row) as integer) as record_row,
    cast(coalesce(sheet_row, source_row) as integer) as shown_row,
    source_column,
    field_name,
    coalesce(field_kind, 'code') as field_kind,
    raw_value
from {{ source('load_manifest', 'load_blanked_cells') }}
where not coalesce(is_retired, false)
