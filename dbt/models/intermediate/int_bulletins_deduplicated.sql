-- One row per bulletin: the same bulletin may arrive in several overlapping exports. Keep its canonical
-- copy — the copy from the latest export, then the first in file order, then the first row (the rule is
-- the macro trading_export_ranks / trading_copy_position, shared with the Dagster duplicate report) —
-- and list every file it came from (RAW_FORMATS.md trading/). Copies that differ are compared in
-- int_bulletin_copies_compared (TRADE_CONFLICTING_COPIES); nothing is merged here, but for one case: a candidate
-- publicity exported one candidate per row without a rank column states the same key once per candidate, and a reader
-- of that file sees one notice naming them all. candidate_names lists the distinct names of the canonical copy's file
-- for that key when the file holds it on more than one row (NULL otherwise: the canonical copy's own cell says it).
--
-- Shaped for 10 M rows under DuckDB's 3 GB cap (dbt/profiles.yml): a window over the wide rows, or a
-- file list aggregated for every bulletin, ran out of memory there. Instead the canonical copy is found
-- on narrow rows as the minimum of one integer position (export rank, row, part), an aggregate DuckDB
-- can spill; the wide rows are then joined to it by that position, and file lists are built only for
-- the few bulletins that did arrive more than once.
--
-- Incremental by load, in partitions of a deal-level year (why a deal's year and which partitions a build
-- rebuilds: macros/trading_load_partitions.sql): only the current rows of deals in a rebuilt partition are read.
{%- set years = trading_years_to_rebuild() %}
{{ config(pre_hook="{{ trading_clear_rebuilt_partitions() }}", **partitioned_incremental_config('partition_year')) }}
{{ trading_rebuild_marker(years) }}
{#- The current rows of the partitions to rebuild, standardised, with their deal's partition year. The raw rows are
    chosen BEFORE standardising (the macro staging applies, standardise_trading_bulletins, over the chosen raw rows):
    filtering the staging view would clean every text of every row first, so a build adding one year would cost
    nearly a full one. Written out where it is read (not a CTE DuckDB might materialise at 10 M rows). #}
-- depends_on: {{ ref('stg_trading__bulletins') }} (the rows of that view, standardised by the same macro)
{%- set raw_in_scope -%}
(
    select * from {{ source('trading', 'trading_bulletins') }}
    {%- if years is not none %}
    where split_part(bulletin_key, '|', 1) in (
        select deal_key from deal_years where {{ in_keys('partition_year', years) }})
    {%- endif %}
)
{%- endset %}
{%- set bulletins_in_scope -%}
(
    select staged.*, coalesce(deal_years.partition_year, 0) as partition_year
    from ({{ standardise_trading_bulletins(raw_in_scope, codes_by_distinct=true) }}) as staged
    left join deal_years on deal_years.deal_key = split_part(staged.bulletin_key, '|', 1)
)
{%- endset %}
with exports as (
    select exports.*, files.loaded_at
    from {{ ref('stg_trading__exports') }} as exports
    left join {{ ref('stg_load_manifest__load_files') }} as files on files.source_file = exports.source_file
),

-- every deal's partition year from its current raw rows (narrow: two columns of the raw table)
deal_years as (
    select
        split_part(bulletin_key, '|', 1) as deal_key,
        {{ trading_deal_year('min(notice_send_time)') }} as partition_year
    from {{ source('trading', 'trading_bulletins') }}
    where not coalesce(is_retired, false)
    group by split_part(bulletin_key, '|', 1)
),

-- every current copy's position, from the raw rows: the four columns it needs are the loader's own (staging
-- passes them through, its joins are to seeds with unique keys), so no text of these rows is standardised here;
-- only the canonical copies are, below
positioned as (
    select
        bulletins.bulletin_key,
        bulletins.source_file,
        {{ trading_copy_position('exports.export_rank', 'bulletins.source_row', 'bulletins.source_part') }} as copy_position,
        exports.loaded_at
    from {{ raw_in_scope }} as bulletins
    join exports on exports.source_file = bulletins.source_file
    where not coalesce(bulletins.is_retired, false)
),

first_copies as (
    select
        bulletin_key,
        min(copy_position) as first_copy_position,
        count(*) as copies,
        -- the newest load among its copies: the table's maximum is the watermark of the next build
        max(loaded_at) as source_loaded_at
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
),

-- the bulletins the canonical copy's file states on several rows: the candidate publicity exported one candidate per
-- row (a file with a rank column keys each candidate apart); the kept copy's row and part (from its position)
listed_in_one_file as (
    select positioned.bulletin_key, positioned.source_file,
           min((first_copies.first_copy_position >> 8) & 4294967295) as kept_row,
           min(first_copies.first_copy_position & 255) as kept_part
    from positioned
    join first_copies on first_copies.bulletin_key = positioned.bulletin_key and first_copies.copies > 1
    join positioned as kept
        on kept.bulletin_key = positioned.bulletin_key and kept.copy_position = first_copies.first_copy_position
    where positioned.source_file = kept.source_file
    group by positioned.bulletin_key, positioned.source_file
    having count(*) > 1
),

-- those rows standardised, the kept copy's marked (a kept row naming no candidate is still the notice the others are
-- compared with: its blank cell is one more row of the export, the candidates on the rows after it — review R4)
listed_copies as (
    select copies.*,
           copies.source_row = listed.kept_row and least(coalesce(copies.source_part, 1), 255) = listed.kept_part as is_kept
    from ({{ standardise_trading_bulletins('(select listed_rows.* from ' ~ raw_in_scope ~ ' as listed_rows
             join listed_in_one_file as listed on listed.bulletin_key = listed_rows.bulletin_key
              and listed.source_file = listed_rows.source_file
             where not coalesce(listed_rows.is_retired, false))') }}) as copies
    join listed_in_one_file as listed on listed.bulletin_key = copies.bulletin_key
    where copies.bulletin_type_code = 'candidates'
),

-- the notice the kept row states, its rows told from another version's by: a field the kept row leaves blank is the
-- first row of the file stating it (review R4: a blank contradicted nothing, so a second version's rows came in where
-- the kept row left a field blank, and rows compared with the kept row alone could contradict each other)
{%- set copy_fields = trading_copy_fields() %}
{%- set own_fields = copy_fields['candidate_fields'] + copy_fields['candidate_own_figures'] %}
listed_notice as (
    select bulletin_key
    {%- for column in copy_fields['compared'] if column not in own_fields %},
        coalesce(max(case when is_kept then {{ column }} end),
                 {{ arg_min_by(column, ['coalesce(source_part, 1) * 1000000000 + source_row']) }}) as {{ column }}
    {%- endfor %}
    from listed_copies
    group by bulletin_key
),

-- in the file's order (its first row first: the order a list without ranks gives, which OCDS reads as the ranking);
-- only the rows of the kept notice: a row with the same key whose other content differs is another version of it
-- (TRADE_CONFLICTING_COPIES reports it), not one more candidate (review R3). A consortium is one candidate
-- (candidate_items). A consortium's members on rows of their own belong to their lead's candidate: a row the file marks
-- as a member (乙（成员）, 乙（联合体成员）: V3 510's BIDDER_ROLE written into the name) joins the nearest lead-marked row
-- before it (甲（牵头人）) with 、 — not whichever row precedes it (甲（牵头人）, 丙, 乙（成员） is 甲+乙 and 丙), and a
-- member with no lead before it stays a candidate of its own; rows nothing marks stay candidates of their own, two
-- firms tied at one rank of a ranked file included (review R4b: they were joined as one consortium)
listed_candidates as (
    select bulletin_key, {{ ordered_string_agg('unit_names', "'；'", ['unit_position']) }} as candidate_names,
           -- each unit's codes (a consortium's members' codes joined by 、, as the one-cell form writes them), units at
           -- ；, position for position with candidate_names: a member's code reaches the consortium's OCDS party
           case when count(unit_codes) > 0
                then {{ ordered_string_agg("coalesce(unit_codes, '')", "'；'", ['unit_position']) }} end as candidate_codes
    from (
        select bulletin_key, unit_position, {{ ordered_string_agg('candidate_name', "'、'", ['first_position']) }} as unit_names,
               -- a member without a code keeps its slot (甲码、、丙码): its neighbours' codes stay beside their names
               case when count(candidate_code) > 0
                    then {{ ordered_string_agg("coalesce(candidate_code, '')", "'、'", ['first_position']) }} end as unit_codes
        from (
            select names.*,
                   case when is_member then coalesce(max(case when is_lead then first_position end) over (
                       partition by bulletin_key order by first_position rows between unbounded preceding and current row),
                       first_position) else first_position end as unit_position
            from (
                select bulletin_key, trim(candidate_name) as candidate_name,
                       -- one candidate on two rows beside two codes: whose is which cannot be told, none
                       -- (min() kept one silently — review V6 item 5)
                       case when count(distinct candidate_code) = 1 then min(candidate_code) end as candidate_code,
                       -- the row's position, then the candidate's in its cell (甲；乙 on one row are two candidates in
                       -- that order: they shared one position and were joined as one unit, ordered by name)
                       min((cast(coalesce(source_part, 1) as bigint) * 1000000000 + source_row) * 1000 + item_position) as first_position,
                       bool_or(is_lead) as is_lead, bool_and(is_member and not is_lead) as is_member
                from (
                    select own.bulletin_key, own.source_part, own.source_row, entry.n as candidate_name,
                           -- each candidate's code is the one written beside it (candidate_entries: none where the
                           -- cell's codes cannot be paired with its names)
                           entry.c as candidate_code, entry.i as item_position,
                           {{ regex_search('entry.n', consortium_lead_mark()) }} as is_lead,
                           {{ regex_search('entry.n', consortium_member_mark()) }} as is_member
                    from (
                        select own.*, {{ unnest_list(candidate_entries('items', 'codes')) }} as entry
                        from (
                            select own.*, {{ candidate_code_pieces('items', 'own.win_candidate_code') }} as codes
                            from (
                                select own.*, {{ candidate_items('own.win_candidate_name') }} as items
                                from listed_copies as own
                                join listed_notice as kept on kept.bulletin_key = own.bulletin_key
                                where own.win_candidate_name is not null and {{ trading_same_notice('own', 'kept') }}
                            ) as own
                        ) as own
                    ) as own
                ) as split_names
                where trim(candidate_name) <> ''
                group by bulletin_key, trim(candidate_name)
            ) as names
        ) as units
        group by bulletin_key, unit_position
    ) as candidate_units
    group by bulletin_key
)

select
    bulletins.*,
    listed_candidates.candidate_names,
    listed_candidates.candidate_codes,
    coalesce(repeated.source_files, {{ list_of(['bulletins.source_file']) }}) as source_files,
    first_copies.copies,
    first_copies.source_loaded_at
from {{ bulletins_in_scope }} as bulletins
join exports on exports.source_file = bulletins.source_file
join first_copies
    on first_copies.first_copy_position
        = {{ trading_copy_position('exports.export_rank', 'bulletins.source_row', 'bulletins.source_part') }}
left join repeated on repeated.bulletin_key = bulletins.bulletin_key
left join listed_candidates on listed_candidates.bulletin_key = bulletins.bulletin_key
