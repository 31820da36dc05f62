-- One row per bulletin: the same bulletin may arrive in two overlapping exports. Keep the first copy
-- by (source_file, source_row) and list every file it came from (RAW_FORMATS.md trading/).
with bulletins as (
    select * from {{ ref('stg_trading__bulletins') }}
),

-- read from the view again (not the CTE) so only two cheap columns are computed for it
sources as (
    select
        bulletin_key,
        list(distinct source_file order by source_file) as source_files,
        count(*) as copies
    from {{ ref('stg_trading__bulletins') }}
    group by bulletin_key
)

select
    bulletins.*,
    sources.source_files,
    sources.copies
from bulletins
join sources using (bulletin_key)
qualify row_number() over (partition by bulletins.bulletin_key order by bulletins.source_file, bulletins.source_row) = 1
