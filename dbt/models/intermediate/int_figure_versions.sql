-- Every published budget/debt figure in every readable version of its file, keyed so that two versions of one
-- file can be compared figure by figure (fct_revisions): the table as named, the side, the item (the line's
-- code, else its row key, else its label), the measure (column key) and, for an item met twice in one table,
-- its occurrence in reading order. A version is a load of the file that was read (a load rejected whole has no
-- figures and is not a version: the figures are compared across it). Loads of the same bytes one after the other
-- are one version: the file read again by changed readers (ingest/reread.py), or back unchanged after it vanished,
-- is a new reading, not a re-publication (the SHA-256 says so). The latest reading stands for the version (its
-- figures, its correction note; is_latest_reading), dated by the first load of those bytes (when the publisher's
-- figures were first seen), so a reader's fix is never listed as a publisher's change. A version that follows
-- another and was read again also keeps its first reading (is_first_reading): fct_revisions compares a version's
-- latest reading with the next version's first — two readings by the readers of the time the publisher replaced
-- the file — since the bytes replaced can no longer be read by today's readers (comparing them with the new bytes'
-- latest reading would list every later reader fix as a publisher's change). Each row carries its neighbouring
-- versions (the version before and after it, when there is one) and whether the version carries a correction
-- note (更正/修订/调整说明 in a sheet's title or notes, or an explanation's heading).
-- Publisher, year and table key are those the present resolution gives the file's table
-- (int_sheets_resolved), else the file's publisher, else a key from the name the file gives.
-- Incremental by load, one file at a time (macros/budget_units.sql): a file whose versions or resolved sheets
-- changed is rebuilt from all its versions; the others keep their rows.
{%- set units = budget_units_to_rebuild('file') %}
{{ config(pre_hook="{{ budget_clear_rebuilt_units('file') }}", **budget_unit_incremental_config()) }}
{{ budget_rebuild_marker(units) }}
{%- set in_scope = in_keys('source_file', units) %}
-- Re-reads: a file loaded again with the bytes of its previous load (ingest/reread.py: the family's readers changed; a
-- file back after it vanished follows a 'retired' row and is none).
with rereads as (
    select source_file, load_id, prev_load_id
    from (
        select
            source_file,
            load_id,
            source_sha256,
            status,
            lag(load_id) over (partition by source_file order by loaded_at, load_id)       as prev_load_id,
            lag(source_sha256) over (partition by source_file order by loaded_at, load_id) as prev_source_sha256,
            lag(status) over (partition by source_file order by loaded_at, load_id)        as prev_status
        from {{ ref('stg_load_manifest__file_versions') }}
        where family in ('budget', 'debt')
    ) as loads
    where prev_source_sha256 = source_sha256 and status <> 'retired' and prev_status <> 'retired'
),

readable_loads as (
    select
        source_file,
        load_id,
        source_sha256,
        loaded_at,
        case
            when coalesce(lag(source_sha256) over (partition by source_file order by loaded_at, load_id), '')
                 = source_sha256 then 0
            else 1
        end as starts_bytes
    from {{ ref('stg_load_manifest__file_versions') }}
    where family in ('budget', 'debt') and status <> 'rejected' and {{ in_scope }}
),

-- each run of loads of the same bytes numbered (bytes_run) …
bytes_runs as (
    select
        readable_loads.*,
        sum(starts_bytes) over (
            partition by source_file order by loaded_at, load_id rows between unbounded preceding and current row
        ) as bytes_run
    from readable_loads
),

-- … and read by its latest load (the version's figures now), dated by its first
readings as (
    select
        source_file,
        load_id,
        source_sha256,
        bytes_run,
        min(loaded_at) over (partition by source_file, bytes_run) as loaded_at,
        row_number() over (partition by source_file, bytes_run order by loaded_at desc, load_id desc) as latest_rank,
        row_number() over (partition by source_file, bytes_run order by loaded_at, load_id) as first_rank
    from bytes_runs
),

versions as (
    select
        source_file,
        bytes_run,
        source_sha256,
        loaded_at,
        max(case when latest_rank = 1 then load_id end) as latest_load_id,
        max(case when first_rank = 1 then load_id end) as first_load_id
    from readings
    group by source_file, bytes_run, source_sha256, loaded_at
),

-- A version first read in a load that re-read other files of the family is compared with the version before it as the
-- older readers read that one (its bytes are gone, nothing reads them again): the difference may be the readers' (a
-- figure read 10 000× too large, then right), not the publisher's. A stale readers' stamp alone is no evidence (a
-- deploy re-reads every file, mostly to the same figures): the mark rests on a re-read file whose figures of the same
-- table (as named: the canonical table name) moved in that load against its previous load — a figure changed,
-- appeared or vanished, by its cell. Only the loads that first read a version with one before it are looked at.
evidence_rereads as (
    select rereads.*
    from rereads
    where rereads.load_id in (select first_load_id from versions where bytes_run > 1)
),

evidence_lines as (
    select source_file, load_id, table_name, side, sheet, source_row, source_column, column_key, amount_yuan
    from {{ ref('stg_budget__line_versions') }}
    where amount_yuan is not null
      and load_id in (select load_id from evidence_rereads union all select prev_load_id from evidence_rereads)
    union all
    select source_file, load_id, table_name, side, sheet, source_row, source_column, column_key, amount_yuan
    from {{ ref('stg_debt__line_versions') }}
    where amount_yuan is not null
      and load_id in (select load_id from evidence_rereads union all select prev_load_id from evidence_rereads)
),

reread_now as (
    select evidence_rereads.load_id as reread_load_id, evidence_lines.*
    from evidence_rereads
    join evidence_lines
        on evidence_lines.source_file = evidence_rereads.source_file
       and evidence_lines.load_id = evidence_rereads.load_id
),

reread_before as (
    select evidence_rereads.load_id as reread_load_id, evidence_lines.*
    from evidence_rereads
    join evidence_lines
        on evidence_lines.source_file = evidence_rereads.source_file
       and evidence_lines.load_id = evidence_rereads.prev_load_id
),

-- (load, table) pairs where the readers' change moved a re-read file's figures
readers_moved as (
    select distinct
        coalesce(reread_now.reread_load_id, reread_before.reread_load_id) as load_id,
        coalesce(reread_now.table_name, reread_before.table_name)         as table_name
    from reread_now
    full outer join reread_before
        on reread_before.reread_load_id = reread_now.reread_load_id
       and reread_before.source_file = reread_now.source_file
       and reread_before.sheet = reread_now.sheet
       and reread_before.source_row = reread_now.source_row
       and coalesce(reread_before.source_column, '') = coalesce(reread_now.source_column, '')
       and reread_before.table_name = reread_now.table_name
       and coalesce(reread_before.side, '') = coalesce(reread_now.side, '')
       and coalesce(reread_before.column_key, '') = coalesce(reread_now.column_key, '')
    where reread_now.reread_load_id is null
       or reread_before.reread_load_id is null
       or reread_now.amount_yuan <> reread_before.amount_yuan
),

-- a version's latest reading is compared with the next version's first (both made when the publisher replaced it)
neighbours as (
    select
        versions.*,
        row_number() over (partition by source_file order by loaded_at, bytes_run)               as version_number,
        lag(latest_load_id) over (partition by source_file order by loaded_at, bytes_run)        as prev_load_id,
        lag(source_sha256) over (partition by source_file order by loaded_at, bytes_run)         as prev_source_sha256,
        lead(first_load_id) over (partition by source_file order by loaded_at, bytes_run)        as next_load_id,
        lead(source_sha256) over (partition by source_file order by loaded_at, bytes_run)        as next_source_sha256,
        lead(loaded_at) over (partition by source_file order by loaded_at, bytes_run)            as next_loaded_at
    from versions
),

-- the loads whose figures are kept: each version's latest reading, and the first reading of a version that has one
-- before it (when it differs); a reading between the two is never compared
version_readings as (
    select neighbours.*, neighbours.latest_load_id as load_id, true as is_latest_reading,
           neighbours.first_load_id = neighbours.latest_load_id and neighbours.prev_load_id is not null
               as is_first_reading
    from neighbours
    union all
    select neighbours.*, neighbours.first_load_id as load_id, false as is_latest_reading, true as is_first_reading
    from neighbours
    where neighbours.prev_load_id is not null and neighbours.first_load_id <> neighbours.latest_load_id
),

lines as (
    select family, load_id, source_file, source_sha256, sheet, sheet_index, source_row, table_name, side, code,
           item_name, row_key, column_key, source_column, fiscal_year, entity_name_key, title, note_text, amount_yuan
    from {{ ref('stg_budget__line_versions') }}
    where {{ in_scope }}
    union all
    select family, load_id, source_file, source_sha256, sheet, sheet_index, source_row, table_name, side, code,
           item_name, row_key, column_key, source_column, fiscal_year, entity_name_key, title, note_text, amount_yuan
    from {{ ref('stg_debt__line_versions') }}
    where {{ in_scope }}
),

note_texts as (
    select distinct load_id, source_file, coalesce(title, '') || ' ' || coalesce(note_text, '') as text
    from lines
    union all
    select load_id, source_file, coalesce(heading, '') || ' ' || coalesce(section_name, '') as text
    from {{ ref('stg_budget__section_versions') }}
    where {{ in_scope }}
),

correction_notes as (
    select
        load_id,
        source_file,
        max(case when text like '%更正%' or text like '%修订%' or text like '%调整说明%' then 1 else 0 end) = 1
            as has_correction_note
    from note_texts
    group by load_id, source_file
),

figures as (
    select
        lines.*,
        coalesce(lines.code, lines.row_key, lines.item_name, 'row ' || cast(lines.source_row as string)) as item_key
    from lines
    where lines.amount_yuan is not null
),

numbered as (
    select
        figures.*,
        row_number() over (
            partition by figures.source_file, figures.load_id, figures.table_name, figures.side,
                         figures.item_key, figures.column_key
            -- NULLs placed explicitly: DuckDB puts them last by default, Spark first (a sheet without its index)
            order by figures.sheet_index nulls last, figures.sheet, figures.source_row, figures.source_column
        ) as item_occurrence
    from figures
),

table_resolution as (
    select source_file, table_name, min(publisher_code) as publisher_code, min(table_key) as table_key,
           min(fiscal_year) as fiscal_year
    from {{ ref('int_sheets_resolved') }}
    where {{ in_scope }}
    group by source_file, table_name
),

file_resolution as (
    select source_file, min(publisher_code) as publisher_code
    from {{ ref('int_sheets_resolved') }}
    where {{ in_scope }}
    group by source_file
),

unit_fingerprints as (
    {{ budget_file_fingerprints() }}
)

select
    numbered.family,
    coalesce(table_resolution.publisher_code, file_resolution.publisher_code,
             {{ unregistered_publisher_key('coalesce(numbered.entity_name_key, numbered.title, numbered.source_file)') }})
                                                            as publisher_code,
    coalesce(numbered.fiscal_year, table_resolution.fiscal_year) as fiscal_year,
    coalesce(table_resolution.table_key, numbered.table_name) as table_key,
    numbered.table_name,
    numbered.side,
    numbered.item_key,
    numbered.column_key                                     as measure,
    numbered.item_occurrence,
    numbered.amount_yuan,
    numbered.source_file,
    numbered.sheet,
    numbered.source_row,
    numbered.load_id,
    numbered.source_sha256,
    neighbours.loaded_at,
    neighbours.version_number,
    neighbours.is_latest_reading,
    neighbours.is_first_reading,
    coalesce(correction_notes.has_correction_note, false)   as has_correction_note,
    neighbours.prev_load_id,
    neighbours.prev_source_sha256,
    neighbours.next_load_id,
    neighbours.next_source_sha256,
    neighbours.next_loaded_at,
    coalesce(next_notes.has_correction_note, false)         as next_has_correction_note,
    -- per table: the readers' change moved figures of this table in the load that first read this version / the next
    moved_here.load_id is not null                          as first_read_at_readers_change,
    moved_next.load_id is not null                          as next_read_at_readers_change,
    unit_fingerprints.rebuild_unit,
    unit_fingerprints.unit_fingerprint
from numbered
join unit_fingerprints on unit_fingerprints.rebuild_unit = numbered.source_file
join version_readings as neighbours
    on neighbours.source_file = numbered.source_file and neighbours.load_id = numbered.load_id
left join correction_notes
    on correction_notes.source_file = numbered.source_file and correction_notes.load_id = numbered.load_id
left join correction_notes as next_notes
    on next_notes.source_file = numbered.source_file and next_notes.load_id = neighbours.next_load_id
left join table_resolution
    on table_resolution.source_file = numbered.source_file and table_resolution.table_name = numbered.table_name
left join file_resolution
    on file_resolution.source_file = numbered.source_file
left join readers_moved as moved_here
    on neighbours.prev_load_id is not null and moved_here.load_id = neighbours.first_load_id
   and moved_here.table_name = numbered.table_name
left join readers_moved as moved_next
    on moved_next.load_id = neighbours.next_load_id and moved_next.table_name = numbered.table_name
