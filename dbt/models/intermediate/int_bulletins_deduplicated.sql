-- One row per bulletin: the same bulletin may arrive in two overlapping exports. Keep the first copy
-- by (source_file, source_row) and list every file it came from (RAW_FORMATS.md trading/).
--
-- Shaped for 10 M rows under DuckDB's 3 GB cap (dbt/profiles.yml): a window over the wide rows, or a
-- file list aggregated for every bulletin, ran out of memory there. Instead the first copy is found on
-- narrow rows as the minimum of one integer position (file number, row), an aggregate DuckDB can
-- spill; the wide rows are then joined to it by that position, and file lists are built only for the
-- few bulletins that did arrive more than once.
with files as (
    select
        source_file,
        row_number() over (order by source_file) as file_no
    from (select distinct source_file from {{ ref('stg_trading__bulletins') }})
),

positioned as (
    select
        bulletins.bulletin_key,
        bulletins.source_file,
        (files.file_no::bigint << 32) | bulletins.source_row::bigint as copy_position
    from {{ ref('stg_trading__bulletins') }} as bulletins
    join files on files.source_file = bulletins.source_file
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
        list(distinct source_file order by source_file) as source_files
    from positioned
    where bulletin_key in (select bulletin_key from first_copies where copies > 1)
    group by bulletin_key
)

select
    bulletins.*,
    coalesce(repeated.source_files, [bulletins.source_file]) as source_files,
    first_copies.copies
from {{ ref('stg_trading__bulletins') }} as bulletins
join files on files.source_file = bulletins.source_file
join first_copies
    on first_copies.first_copy_position = (files.file_no::bigint << 32) | bulletins.source_row::bigint
left join repeated on repeated.bulletin_key = bulletins.bulletin_key
