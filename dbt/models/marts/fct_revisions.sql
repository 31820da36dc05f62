-- Revision history of published figures (可核查): one row per budget/debt figure that changed, vanished or was
-- added between two consecutive readable versions of one publisher's file (int_figure_versions). A figure is
-- its table, side, item, measure and occurrence; `first_seen_at` is when the old value was first loaded (the
-- start of the unbroken run of versions carrying it; NULL for an added figure), `last_seen_at` when the new
-- version replaced it. A version's latest reading is compared with the next version's first reading
-- (int_figure_versions): a later reader fix re-reads only the bytes still there, never making a change of its own;
-- `new_amount_now_yuan` is the new version's figure as today's readers read it (the amounts compared are in the
-- reading of the time: a figure an older reader read 10 000× too large is compared as it was read then).
-- `readers_changed`: the new version was first read in the load where the family's readers changed and moved figures
-- of the same table in re-read files (same bytes; int_figure_versions), so it is compared with the old version as the
-- older readers read it — the difference cannot be told from the readers'. It is never dropped: REV_SILENT_CORRECTION
-- names it with that said, for a person to look at (the report marks it too).
-- `revision_id` hashes the six columns after it (CONTRACTS §7.1); `revision_key` is unique
-- (the same figure can change in two republications).
-- Only files read in two versions or more can have a revision; their rows are exactly those with a neighbouring
-- version (versions are numbered per file). The windows below partition by file, so leaving the other files out
-- changes no row, and spares three windows over every figure (most files have one version).
with figures as (
    select * from {{ ref('int_figure_versions') }}
    where prev_load_id is not null or next_load_id is not null
),

-- a version's present figures (its latest reading): the runs of equal values, and the old side of a comparison
latest_figures as (
    select * from figures where is_latest_reading
),

runs as (
    select
        latest_figures.*,
        case
            when lag(version_number) over figure_history is null then 1
            when lag(version_number) over figure_history <> version_number - 1 then 1
            when lag(amount_yuan) over figure_history <> amount_yuan then 1
            else 0
        end as starts_value
    from latest_figures
    window figure_history as (
        partition by source_file, table_name, side, item_key, measure, item_occurrence order by version_number
    )
),

valued as (
    select
        runs.*,
        sum(starts_value) over (
            partition by source_file, table_name, side, item_key, measure, item_occurrence
            order by version_number rows between unbounded preceding and current row
        ) as value_run
    from runs
),

dated as (
    select
        valued.*,
        min(loaded_at) over (
            partition by source_file, table_name, side, item_key, measure, item_occurrence, value_run
        ) as value_first_loaded_at
    from valued
),

old_side as (
    select * from dated where next_load_id is not null
),

-- the new side: the next version as first read (by the readers of the time the publisher replaced the file)
new_side as (
    select * from figures where prev_load_id is not null and is_first_reading
),

compared as (
    select
        coalesce(new_side.family, old_side.family)                   as family,
        coalesce(new_side.publisher_code, old_side.publisher_code)   as publisher_code,
        coalesce(new_side.fiscal_year, old_side.fiscal_year)         as fiscal_year,
        coalesce(new_side.table_key, old_side.table_key)             as table_key,
        coalesce(new_side.item_key, old_side.item_key)               as item_key,
        coalesce(new_side.measure, old_side.measure)                 as measure,
        coalesce(new_side.side, old_side.side)                       as side,
        coalesce(new_side.item_occurrence, old_side.item_occurrence) as item_occurrence,
        case
            when new_side.load_id is null then 'vanished'
            when old_side.load_id is null then 'added'
            else 'changed'
        end                                                          as change_kind,
        old_side.amount_yuan                                         as old_amount_yuan,
        new_side.amount_yuan                                         as new_amount_yuan,
        coalesce(old_side.source_file, new_side.source_file)         as old_source_file,
        coalesce(old_side.source_sha256, new_side.prev_source_sha256) as old_source_sha256,
        coalesce(old_side.load_id, new_side.prev_load_id)            as old_load_id,
        coalesce(new_side.source_file, old_side.source_file)         as new_source_file,
        coalesce(new_side.source_sha256, old_side.next_source_sha256) as new_source_sha256,
        coalesce(new_side.load_id, old_side.next_load_id)            as new_load_id,
        old_side.value_first_loaded_at                               as first_seen_at,
        coalesce(new_side.loaded_at, old_side.next_loaded_at)        as last_seen_at,
        coalesce(new_side.has_correction_note, old_side.next_has_correction_note) as has_correction_note,
        coalesce(new_side.first_read_at_readers_change, old_side.next_read_at_readers_change, false)
                                                                     as readers_changed,
        now_side.amount_yuan                                         as new_amount_now_yuan,
        old_side.sheet                                               as old_sheet,
        old_side.source_row                                          as old_source_row,
        new_side.sheet                                               as new_sheet,
        new_side.source_row                                          as new_source_row
    from old_side
    full outer join new_side
        on new_side.source_file = old_side.source_file
       and new_side.load_id = old_side.next_load_id
       and new_side.table_name = old_side.table_name
       and coalesce(new_side.side, '') = coalesce(old_side.side, '')
       and new_side.item_key = old_side.item_key
       and new_side.measure = old_side.measure
       and new_side.item_occurrence = old_side.item_occurrence
    -- the new version's figure as today's readers read it (its latest reading; the same row unless read again)
    left join latest_figures as now_side
        on now_side.source_file = new_side.source_file
       and now_side.version_number = new_side.version_number
       and now_side.table_name = new_side.table_name
       and coalesce(now_side.side, '') = coalesce(new_side.side, '')
       and now_side.item_key = new_side.item_key
       and now_side.measure = new_side.measure
       and now_side.item_occurrence = new_side.item_occurrence
    where old_side.load_id is null
       or new_side.load_id is null
       or old_side.amount_yuan <> new_side.amount_yuan
)

select
    cast(md5(concat_ws('|', family, publisher_code, coalesce(cast(fiscal_year as string), ''), table_key,
                       item_key, measure)) as string)               as revision_id,
    cast(family as string)                                          as family,
    cast(publisher_code as string)                                  as publisher_code,
    cast(fiscal_year as integer)                                     as fiscal_year,
    cast(table_key as string)                                       as table_key,
    cast(item_key as string)                                        as item_key,
    cast(measure as string)                                         as measure,
    cast(change_kind as string)                                     as change_kind,
    cast(old_amount_yuan as decimal(20, 2))                          as old_amount_yuan,
    cast(new_amount_yuan as decimal(20, 2))                          as new_amount_yuan,
    cast(old_source_file as string)                                 as old_source_file,
    cast(old_source_sha256 as string)                               as old_source_sha256,
    cast(old_load_id as string)                                     as old_load_id,
    cast(new_source_file as string)                                 as new_source_file,
    cast(new_source_sha256 as string)                               as new_source_sha256,
    cast(new_load_id as string)                                     as new_load_id,
    cast(first_seen_at as timestamp)                                 as first_seen_at,
    cast(last_seen_at as timestamp)                                  as last_seen_at,
    cast(has_correction_note as boolean)                             as has_correction_note,
    cast(md5(concat_ws('|', old_source_file, old_load_id, new_load_id, table_key, coalesce(side, ''), item_key,
                       measure, cast(item_occurrence as string))) as string) as revision_key,
    cast(side as string)                                            as side,
    cast(item_occurrence as integer)                                 as item_occurrence,
    cast(old_sheet as string)                                       as old_sheet,
    cast(old_source_row as integer)                                  as old_source_row,
    cast(new_sheet as string)                                       as new_sheet,
    cast(new_source_row as integer)                                  as new_source_row,
    cast(readers_changed as boolean)                                 as readers_changed,
    cast(new_amount_now_yuan as decimal(20, 2))                      as new_amount_now_yuan
from compared
