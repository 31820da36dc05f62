-- One table once: two sheets (or PDF segments read as sheets) holding the same table of one publisher
-- and year — in one workbook or in two files — are loaded as one. One row per copy that is left out,
-- naming the copy that is kept and whether the two hold the same figures. The publisher as the title
-- names it (the same key int_sheets_resolved resolves: registry_names), else the file, so two untitled sheets of two
-- files are never taken for one table. The kept copy: one without rejected rows, published on the
-- portal, then the first by file and sheet position. "Same figures": the same lines (side, code,
-- name, row, column, amount or text, wherever they sit on the sheet), the same emptiness and note.
{% set sheet_columns = 'sheet_id, source_file, sheet, sheet_index, fiscal_year, table_name, entity_name, entity_name_key, is_empty, has_empty_note, status' %}
{% set line_columns = 'sheet_id, side, code, item_name, row_key, column_key, amount_yuan, text_value' %}
{#- only the lines of files holding a sheet with a copy are compared (macros/sheet_copies.sql: families by the staging
    entity_name_key, every own-level suffix off — coarser than registry_names' key, so a superset of the files) -#}
{%- set copy_files = sheet_copy_files(sheet_columns) %}
with sheets as (
    select {{ sheet_columns }} from {{ ref('stg_budget__sheets') }}
    union all
    select {{ sheet_columns }} from {{ ref('stg_debt__sheets') }}
),

lines as (
    select {{ line_columns }} from {{ ref('stg_budget__lines') }} where {{ in_keys('source_file', copy_files) }}
    union all
    select {{ line_columns }} from {{ ref('stg_debt__lines') }} where {{ in_keys('source_file', copy_files) }}
),

-- order-free content fingerprint of a sheet: number of lines and the sum of their hashes
fingerprints as (
    select
        sheet_id,
        count(*) as line_count,
        sum({{ hash64("concat_ws('|', coalesce(side, ''), coalesce(code, ''), coalesce(item_name, ''), coalesce(row_key, ''), coalesce(column_key, ''), coalesce(cast(amount_yuan as string), ''), coalesce(text_value, ''))") }}) as line_hash
    from lines
    group by sheet_id
),

{{ publisher_name_ctes() }}

{{ registry_names_cte('sheets') }}

rejected as (
    select distinct source_file, sheet
    from {{ ref('stg_load_manifest__load_rejects') }}
    where sheet is not null
),

published_files as (
    -- a file a publication may publish (int_attachment_sheets: not another publisher's link of the same name)
    select distinct source_file
    from {{ ref('int_attachment_sheets') }}
    where may_publish
),

candidates as (
    select
        sheets.sheet_id,
        sheets.source_file,
        sheets.sheet,
        sheets.sheet_index,
        sheets.fiscal_year,
        sheets.table_name,
        -- the publisher as int_sheets_resolved matches it with the registry (X机关本级 is X机关's, not X's)
        coalesce(registry_names.registry_name_key, sheets.entity_name_key) as entity_name_key,
        coalesce(registry_names.registry_name_key, sheets.entity_name_key, sheets.source_file) as publisher_key,
        coalesce(fingerprints.line_count, 0) as line_count,
        fingerprints.line_hash,
        sheets.is_empty,
        sheets.has_empty_note,
        rejected.sheet is not null as has_rejects,
        published_files.source_file is not null as is_published
    from sheets
    left join fingerprints using (sheet_id)
    left join registry_names on registry_names.entity_name = sheets.entity_name
    left join rejected on rejected.source_file = sheets.source_file and rejected.sheet = sheets.sheet
    left join published_files on published_files.source_file = sheets.source_file
    where sheets.status = 'parsed' and sheets.table_name is not null
),

ranked as (
    select
        candidates.*,
        row_number() over (
            partition by family_key
            order by has_rejects, is_published desc, source_file, sheet_index nulls last
        ) as copy_rank
    from (
        select *, {{ sheet_family_key('candidates') }} as family_key
        from candidates
    ) as candidates
)

select
    copies.sheet_id,
    copies.source_file,
    copies.sheet,
    copies.fiscal_year,
    copies.table_name,
    kept.sheet_id as kept_sheet_id,
    kept.source_file as kept_source_file,
    kept.sheet as kept_sheet,
    (copies.line_count = kept.line_count
     and copies.line_hash is not distinct from kept.line_hash
     and copies.is_empty = kept.is_empty
     and copies.has_empty_note = kept.has_empty_note) as is_identical,
    copies.line_count,
    kept.line_count as kept_line_count
from ranked as copies
join ranked as kept on kept.family_key = copies.family_key and kept.copy_rank = 1
where copies.copy_rank > 1
