-- One row per bulletin: the same bulletin may arrive in several overlapping exports. Keep its canonical
-- copy — the copy from the latest export, then the first in file order, then the first row (the rule is
-- the macro trading_export_ranks / trading_copy_position, shared with the Dagster duplicate report) —
-- and list every file it came from (RAW_FORMATS.md trading/). Copies that differ are compared in
-- int_bulletin_copies_compared (TRADE_CONFLICTING_COPIES); nothing is merged here.
--
-- Shaped for 10 M rows under DuckDB's 3 GB cap (dbt/profiles.yml): a window over the wide rows, or a
-- file list aggregated for every bulletin, ran out of memory there. Instead the canonical copy is found
-- on narrow rows as the minimum of one integer position (export rank, row, part), an aggregate DuckDB
-- can spill; the wide rows are then joined to it by that position, and file lists are built only for
-- the few bulletins that did arrive more than once.
with exports as (
    select * from {{ ref('stg_trading__exports') }}
),

positioned as (
    select
        bulletins.bulletin_key,
        bulletins.source_file,
        {{ trading_copy_position('exports.export_rank', 'bulletins.source_row', 'bulletins.source_part') }} as copy_position
    from {{ ref('stg_trading__bulletins') }} as bulletins
    join exports on exports.source_file = bulletins.source_file
),

first_copies as (
    select
        bulletin_key,
        min(copy_position) as first_copy_position,
        count(*) as copies
    from positioned
    group by bulletin_key
),

repeated as (
    select
        bulletin_key,
        {{ sorted_distinct_list('source_file') }} as source_files
    from positioned
    where bulletin_key in (select bulletin_key from first_copies where copies > 1)
    group by bulletin_key
)

select
    bulletins.*,
    coalesce(repeated.source_files, {{ list_of(['bulletins.source_file']) }}) as source_files,
    first_copies.copies
from {{ ref('stg_trading__bulletins') }} as bulletins
join exports on exports.source_file = bulletins.source_file
join first_copies
    on first_copies.first_copy_position
        = {{ trading_copy_position('exports.export_rank', 'bulletins.source_row', 'bulletins.source_part') }}
left join repeated on repeated.bulletin_key = bulletins.bulletin_key
