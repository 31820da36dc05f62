-- Sheets whose figures are incomplete (a row was rejected on load): reconciliation, detail, class and
-- debt rules skip them and list them here instead of raising findings (CONTRACTS.md §7).
select
    sheets.sheet_id,
    sheets.publisher_code,
    sheets.publisher_name,
    sheets.fiscal_year,
    sheets.table_key,
    sheets.source_file,
    sheets.sheet,
    count(rejects.source_row) as rejected_rows,
    {{ ordered_string_agg('rejects.reason', "'; '", ['rejects.source_row']) }} as reasons
from {{ ref('int_sheets_resolved') }} as sheets
join {{ ref('stg_load_manifest__load_rejects') }} as rejects
    on rejects.source_file = sheets.source_file and rejects.sheet = sheets.sheet
where sheets.has_rejects
group by all
