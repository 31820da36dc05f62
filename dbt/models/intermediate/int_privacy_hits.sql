-- Personal data found in what is published (PRIV_*), in any written form (macros/personal_numbers.sql,
-- generated from dagster_project/personal_numbers.py: the same definition masking and the release's
-- privacy gate use). Texts looked into: every free-text column of trading bulletins (title, content,
-- contact, the names of buyer, agency, winner, candidates and project manager, and the
-- national standard's contact persons and agency phone, never published themselves), portal titles, and the
-- workbooks' titles, notes, item names and text cells. One row per hit, the value already masked.
-- PM_CODE is an ID field by definition: never a finding here (it is masked in extracts).
-- Texts that cannot hold a personal number are dropped first (a cheap test): at 10 M bulletins almost
-- every notice is such a text.
-- The bulletins' hits are int_bulletin_privacy_hits (built incrementally by load: the costly part); the portal's and
-- the workbooks' are found here.
with sheet_texts as (
    {{ columns_as_rows(ref('int_sheets_resolved'), 'sheets', [('title', 'sheets.title'), ('note_text', 'sheets.note_text')],
                       ['sheets.sheet_id', 'cast(null as integer) as source_row'], 'column_name', 'text_value',
                       value_filter=personal_number_prefilter('{value}')) | indent(4) }}
    union all
    {{ columns_as_rows(ref('int_lines_resolved'), 'lines', [('item_name', 'lines.item_name'), ('text_value', 'lines.text_value')],
                       ['lines.sheet_id', 'lines.source_row'], 'column_name', 'text_value',
                       value_filter=personal_number_prefilter('{value}')) | indent(4) }}
),

texts as (
    select
        cast(null as string) as bulletin_key,
        cast(null as string) as deal_key,
        publisher_code,
        -- a portal row has no fiscal year of its own: the year it was published
        cast(year(published_at) as integer) as fiscal_year,
        source_file || '#' || cast(source_row as string) as object_key,
        'title' as column_name,
        title as text_value,
        source_file,
        cast(null as string) as sheet,
        source_row
    from {{ ref('stg_portal__publications') }}
    where {{ personal_number_prefilter('title') }}
    union all
    select
        null, null,
        sheets.publisher_code,
        sheets.fiscal_year,
        coalesce(sheets.table_key, sheets.sheet),
        sheet_texts.column_name, sheet_texts.text_value, sheets.source_file, sheets.sheet, sheet_texts.source_row
    from sheet_texts
    join {{ ref('int_sheets_resolved') }} as sheets using (sheet_id)
),

hits as (
    select texts.*, {{ unnest_list(personal_number_hits('texts.text_value')) }} as hit
    from texts
)

select
    bulletin_key, deal_key, publisher_code, fiscal_year, object_key, rule_id, column_name, kind, masked_match,
    source_file, sheet, source_row
from {{ ref('int_bulletin_privacy_hits') }}
where rule_id is not null  -- not its watermark marker row
union all
select
    bulletin_key,
    deal_key,
    publisher_code,
    fiscal_year,
    object_key,
    {{ privacy_rule_id('hit.kind') }} as rule_id,
    column_name,
    hit.kind as kind,
    hit.masked as masked_match,
    source_file,
    sheet,
    source_row
from hits
