-- Personal data found in what is published (PRIV_*), in any written form (macros/personal_numbers.sql,
-- generated from dagster_project/personal_numbers.py: the same definition masking and the release's
-- privacy gate use). Texts looked into: every free-text column of trading bulletins (title, content,
-- contact, the names of buyer, agency, winner, candidates and project manager, and the
-- national standard's contact persons and agency phone, never published themselves), portal titles, and the
-- workbooks' titles, notes, item names and text cells. One row per hit, the value already masked.
-- PM_CODE is an ID field by definition: never a finding here (it is masked in extracts).
-- Texts that cannot hold a personal number are dropped first (a cheap test): at 10 M bulletins almost
-- every notice is such a text.
with bulletin_texts as (
    select
        bulletins.bulletin_key,
        bulletins.deal_key,
        columns.column_name,
        columns.text_value,
        bulletins.source_file,
        bulletins.source_row
    from {{ ref('int_bulletins_deduplicated') }} as bulletins
    {{ lateral_columns([
        ('notice_name', 'bulletins.notice_name'),
        ('notice_content', 'bulletins.notice_content'),
        ('contact_phone', 'bulletins.contact_phone'),
        ('tenderer_name', 'bulletins.tenderer_name'),
        ('tender_agency_name', 'bulletins.tender_agency_name'),
        ('win_bidder_name', 'bulletins.win_bidder_name'),
        ('win_candidate_name', 'bulletins.win_candidate_name'),
        ('pm_name', 'bulletins.pm_name'),
        ('contact_person', 'bulletins.contact_person'),
        ('agency_contact_person', 'bulletins.agency_contact_person'),
        ('agency_contact_phone', 'bulletins.agency_contact_phone')], 'columns', 'column_name', 'text_value') }}
    where {{ personal_number_prefilter('columns.text_value') }}
),

sheet_texts as (
    select sheets.sheet_id, columns.column_name, columns.text_value, cast(null as integer) as source_row
    from {{ ref('int_sheets_resolved') }} as sheets
    {{ lateral_columns([('title', 'sheets.title'), ('note_text', 'sheets.note_text')], 'columns', 'column_name', 'text_value') }}
    where {{ personal_number_prefilter('columns.text_value') }}
    union all
    select lines.sheet_id, columns.column_name, columns.text_value, lines.source_row
    from {{ ref('int_lines_resolved') }} as lines
    {{ lateral_columns([('item_name', 'lines.item_name'), ('text_value', 'lines.text_value')], 'columns', 'column_name', 'text_value') }}
    where {{ personal_number_prefilter('columns.text_value') }}
),

texts as (
    select
        bulletin_texts.bulletin_key,
        bulletin_texts.deal_key,
        deals.publisher_code,
        deals.fiscal_year,
        -- privacy findings are reported per deal (CONTRACTS.md §3)
        bulletin_texts.deal_key as object_key,
        bulletin_texts.column_name,
        bulletin_texts.text_value,
        bulletin_texts.source_file,
        cast(null as string) as sheet,
        bulletin_texts.source_row
    from bulletin_texts
    join {{ ref('int_deals_assembled') }} as deals using (deal_key)
    union all
    select
        null, null,
        publisher_code,
        -- a portal row has no fiscal year of its own: the year it was published
        cast(year(published_at) as integer),
        source_file || '#' || cast(source_row as string),
        'title', title, source_file, null, source_row
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
    bulletin_key,
    deal_key,
    publisher_code,
    fiscal_year,
    object_key,
    case hit.kind when 'id_number' then 'PRIV_ID_NUMBER' when 'mobile' then 'PRIV_MOBILE' when 'bank_card' then 'PRIV_BANK_CARD' end as rule_id,
    column_name,
    hit.kind as kind,
    hit.masked as masked_match,
    source_file,
    sheet,
    source_row
from hits
