-- Codes a spreadsheet rewrote in scientific notation (9.16403E+17: digits lost) in rows that were loaded without
-- them (`damaged: blank` in the ingest specs; raw.load_blanked_cells): one row per cell (QUAR_CODE_DAMAGED), with
-- the publisher and year the row itself names, so the bureau sees whose export lost its codes.
--   trading bulletins: the deal's publisher (its buyer) and year (int_deals_assembled), else the bulletin's year
--   registry entities (a parent's code): the entity itself and the registry's year
--   portal publications (the publisher's own code): the publisher as the row names it (the key of its name) and
--                                                    the year it was published
-- A row of a file that named no such record (a family without damaged-blank fields) keeps publisher and year NULL.
with cells as (
    select * from {{ ref('stg_load_manifest__blanked_cells') }}
),

bulletins as (
    -- a record listing several sections is one bulletin per section: one deal per cell (its first section's)
    select
        cells.source_file,
        cells.source_row,
        min(bulletins.deal_key)                                         as deal_key,
        cast(year(min(bulletins.notice_send_time)) as integer)          as bulletin_year
    from (select distinct source_file, source_row from cells where family = 'trading') as cells
    join {{ ref('stg_trading__bulletins') }} as bulletins
      on bulletins.source_file = cells.source_file and bulletins.source_row = cells.source_row
    group by cells.source_file, cells.source_row
),

trading as (
    select
        bulletins.source_file,
        bulletins.source_row,
        deals.publisher_code,
        coalesce(deals.fiscal_year, bulletins.bulletin_year)            as fiscal_year,
        bulletins.deal_key                                              as record_key
    from bulletins
    left join {{ ref('int_deals_assembled') }} as deals on deals.deal_key = bulletins.deal_key
),

entities as (
    select entities.source_file, entities.source_row, entities.entity_code as publisher_code,
           entities.fiscal_year, entities.entity_code as record_key
    from {{ ref('stg_registry__entities') }} as entities
    where entities.source_file in (select source_file from cells where family = 'registry')
),

publications as (
    select publications.source_file, publications.source_row, publications.publisher_code,
           cast(year(publications.published_at) as integer) as fiscal_year, cast(null as string) as record_key
    from {{ ref('stg_portal__publications') }} as publications
    where publications.source_file in (select source_file from cells where family = 'portal')
),

records as (
    select * from trading
    union all
    select * from entities
    union all
    select * from publications
)

select
    'QUAR_CODE_DAMAGED'                                                 as rule_id,
    records.publisher_code,
    records.fiscal_year,
    cells.family,
    cells.source_file,
    cells.sheet,
    cells.shown_row                                                     as source_row,
    cells.source_column                                                 as column_name,
    cells.field_name,
    cells.raw_value                                                     as observed_value,
    records.record_key,
    cells.source_file || '#' || cast(cells.shown_row as string) || '#' || cells.source_column as object_key
from cells
left join records on records.source_file = cells.source_file and records.source_row = cells.source_row
