-- Cells of loaded rows stored NULL because they could not be read (raw.load_blanked_cells: `bad: blank` / `damaged:
-- blank` fields of the ingest specs), one row per cell, with the publisher and year the row itself names, so the
-- bureau sees whose file lost what. The rule is the cell's kind's:
--   a code (a spreadsheet rewrote it in scientific notation, 9.16403E+17: digits lost) → QUAR_CODE_DAMAGED
--   any other kind (an impossible date 2016/2/30, a flag or word no vocabulary knows)  → QUAR_VALUE_UNREADABLE
-- (a warehouse loaded before the kind was kept blanked codes only: a NULL kind is a code). Who and when:
--   trading bulletins: the deal's publisher (its buyer) and year (int_deals_assembled), else the bulletin's year
--   registry entities: the entity itself and the registry's year
--   registry approvals: the region approved for and the year approved
--   portal publications (the publisher's own code): the publisher as the row names it (the key of its name) and
--                                                    the year published, else the year its title names
-- A row of a file that named no such record keeps publisher and year NULL.
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
    -- a cell of a 513 member row folded into its consortium's first row is that bulletin's (record_row)
    from (select distinct source_file, source_row, coalesce(record_row, source_row) as record_row
          from cells where family = 'trading') as cells
    join {{ ref('stg_trading__bulletins') }} as bulletins
      on bulletins.source_file = cells.source_file and bulletins.source_row = cells.record_row
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

approvals as (
    select approvals.source_file, approvals.source_row, approvals.region_code as publisher_code,
           approvals.fiscal_year, approvals.region_code as record_key
    from {{ ref('stg_registry__approvals') }} as approvals
    where approvals.source_file in (select source_file from cells where family = 'registry')
),

publications as (
    -- a publication whose time is the unreadable cell: the year its title names (2016年部门预算公开)
    select publications.source_file, publications.source_row, publications.publisher_code,
           coalesce(cast(year(publications.published_at) as integer),
                    cast(nullif({{ regex_extract('publications.title', "'(20[0-9][0-9])年'", 1) }}, '') as integer))
               as fiscal_year,
           cast(null as string) as record_key
    from {{ ref('stg_portal__publications') }} as publications
    where publications.source_file in (select source_file from cells where family = 'portal')
),

records as (
    select * from trading
    union all
    select * from entities
    union all
    select * from approvals
    union all
    select * from publications
)

select
    case when coalesce(cells.field_kind, 'code') = 'code' then 'QUAR_CODE_DAMAGED'
         else 'QUAR_VALUE_UNREADABLE' end                               as rule_id,
    records.publisher_code,
    records.fiscal_year,
    cells.family,
    cells.source_file,
    cells.sheet,
    cells.shown_row                                                     as source_row,
    cells.source_column                                                 as column_name,
    cells.field_name,
    coalesce(cells.field_kind, 'code')                                  as field_kind,
    cells.raw_value                                                     as observed_value,
    records.record_key,
    cells.source_file || '#' || cast(cells.shown_row as string) || '#' || cells.source_column as object_key
from cells
left join records on records.source_file = cells.source_file and records.source_row = cells.source_row
