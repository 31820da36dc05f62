-- One row per deal (deal_key = PROJECT_CODE/BID_SECTION_CODE, else UNIFIED_DEAL_CODE): its timeline,
-- parties and amounts assembled from its bulletins. The announcement's own values win where a field
-- appears on several bulletins (a change notice does not silently rewrite the announced period).
-- A party's name that is a filler (代理机构 无, /, null: party_name) names no party: the deal has none.
--
-- Incremental by load: the deals of the rebuilt partition years, from their bulletins in the same partitions
-- (a deal's bulletins all sit in its partition; macros/trading_load_partitions.sql).
{%- set years = trading_years_to_rebuild() %}
{{ config(pre_hook="{{ trading_clear_rebuilt_partitions() }}", **partitioned_incremental_config('partition_year')) }}
{{ trading_rebuild_marker(years) }}
{#- The bulletins are read four times below (bulletins, and own_bulletins under it), in a rebuild as in a full build:
    inlined, each read takes only the columns it needs. Materialised (DuckDB's default for a CTE read more than once)
    the copy of their wide rows was most of the model's time for one new year at 1 M rows (1.1 of 1.3 s; inlined
    0.16 s), and in a full build it held every bulletin's wide row in memory: at 1 M, 4.21 s and 2.9 GB RSS against
    2.75 s and 2.0 GB inlined, and under a memory cap it spills — 7.76 against 3.77 s at 1.5 GB (benchmarks/RESULTS.md,
    stop 39; 154 s of the 10 M full build's dbt step). -#}
{#- the bid deadline the last-published announcement or change notice stating one states, else the announced: the
    deadline in force at the end (a postponement, a re-tender's own) -#}
{%- set stated_closing -%}
coalesce({{ arg_max_by('bid_doc_refer_end_time', ['notice_send_time', 'bid_doc_refer_end_time']) }}
             filter (where bulletin_type_code in ('announcement', 'change') and bid_doc_refer_end_time is not null),
         max(bid_doc_refer_end_time) filter (where bulletin_type_code in ('announcement', 'change')),
         min(bid_doc_refer_end_time))
{%- endset %}
{#- the deadline the last tender's announcement states (a re-tender's own) -#}
{%- set announced_closing -%}
{{ arg_max_by('bid_doc_refer_end_time', ['notice_send_time', 'bid_doc_refer_end_time']) }}
    filter (where bulletin_type_code = 'announcement' and bid_doc_refer_end_time is not null)
{%- endset %}
with own_bulletins as {{ cte_inlined() }} (
    select * from {{ ref('int_bulletins_deduplicated') }}
    where {{ in_keys('partition_year', years) }}
),

-- A change of the tender project naming no section (its deal is the project's, project/: ingest/trading.
-- assign_sole_sections) where the project has sections — a 504 clarification of the 招标项目's documents, a 变更公告 of
-- the project: the documents are the tender project's, so the change is every section's too (招标投标法 §23 judged, a
-- postponed deadline in force, on each section's deal). Such a bulletin is read as one of its own deal (project/: its
-- row names it) and of each section's (member_deal_key), in the section's partition (every deal of a project with a
-- notice naming no section is rebuilt together: macros/trading_load_partitions.sql).
project_sections as (
    select distinct deal_key, coalesce(project_code, tender_project_code) as project, partition_year
    from own_bulletins
    where bid_section_code is not null and coalesce(project_code, tender_project_code) is not null
),

-- the lots of a deal code naming no project (a land transfer's parcels: deal code/lot)
code_lots as (
    select distinct deal_key, unified_deal_code, partition_year
    from own_bulletins
    where bid_section_code is not null and coalesce(project_code, tender_project_code) is null
      and unified_deal_code is not null and deal_key = concat(unified_deal_code, '/', bid_section_code)
),

bulletins as {{ cte_inlined() }} (
    select own_bulletins.deal_key as member_deal_key, own_bulletins.partition_year as member_partition_year,
           own_bulletins.*
    from own_bulletins
    union all
    select sections.deal_key as member_deal_key, sections.partition_year as member_partition_year, changes.*
    from own_bulletins as changes
    join project_sections as sections
        on sections.project = coalesce(changes.project_code, changes.tender_project_code)
    where changes.bulletin_type_code = 'change' and changes.bid_section_code is null
      and changes.deal_key = concat(coalesce(changes.project_code, changes.tender_project_code), '/')
    union all
    -- a transfer of several lots under one deal code naming no project (a 600 出让公告 of three parcels, each parcel's
    -- 601 its own deal code/lot: ingest/trading.assign_deal_codes): the announcement and its changes, naming no lot,
    -- are every lot's — each parcel was announced, by the office the announcement names, and sold on its own
    select lots.deal_key as member_deal_key, lots.partition_year as member_partition_year, notices.*
    from own_bulletins as notices
    join code_lots as lots on lots.unified_deal_code = notices.unified_deal_code
    where notices.bulletin_type_code in ('announcement', 'change') and notices.bid_section_code is null
      and notices.deal_key = notices.unified_deal_code
),

candidate_names as (
    select deal_key, count(distinct trim(candidate_name)) as candidate_count
    from (
        -- candidate_names: a publicity its file lists one candidate per row (int_bulletins_deduplicated)
        -- one ranked row's cell is that rank's one candidate; a rank's several rows are its candidates as candidate_items
        -- reads them (review R4b: marked members joined by int_bulletins_deduplicated, an unmarked tie two)
        select deal_key, {{ unnest_list("case when win_candidate_order is not null and candidate_names is null then "
                                        ~ list_of(['coalesce(candidate_names, win_candidate_name)']) ~ " else "
                                        ~ candidate_items('coalesce(candidate_names, win_candidate_name)') ~ " end") }} as candidate_name
        from bulletins
        where bulletin_type_code = 'candidates' and coalesce(candidate_names, win_candidate_name) is not null
    ) as names
    where trim(candidate_name) <> ''
    group by deal_key
),

-- the first result notice carries the fields GP 条例 §43 requires
result_notices as (
    select *
    from bulletins
    where bulletin_type_code = 'result'
    qualify row_number() over (partition by deal_key order by notice_send_time nulls last, source_file, source_row) = 1
),

-- The §43 fields any current copy of a first result notice states, where it came in several exports: the kept copy may be
-- the sparse one (the national search service's answer names no buyer, agency or supplier; the platform's export of the
-- same notice does), and the notice published them all the same. Raw rows of the few bulletins with copies; a filler
-- (代理机构 无) is stated.
result_copies as (
    select
        copy_rows.bulletin_key,
        bool_or(copy_rows.tenderer_name is not null) as states_tenderer_name,
        bool_or(copy_rows.tender_agency_name is not null) as states_tender_agency_name,
        bool_or(coalesce(copy_rows.project_code, copy_rows.tender_project_code) is not null) as states_project_code,
        bool_or(copy_rows.notice_name is not null) as states_notice_name,
        bool_or(copy_rows.win_bidder_name is not null) as states_win_bidder_name,
        bool_or(copy_rows.bid_amount_yuan is not null) as states_bid_amount
    from {{ source('trading', 'trading_bulletins') }} as copy_rows
    where not coalesce(copy_rows.is_retired, false)
      and copy_rows.bulletin_key in (select bulletin_key from result_notices where copies > 1)
    group by copy_rows.bulletin_key
),

-- Which GP 条例 §43 fields the table of the national standard a result notice was read from can state at all (its
-- national names through the alias seed). 553 BID_DEAL_ANNOUNCE has no buyer column: the standard keeps the buyer in
-- 550 PURCHASE_PROJECT, a registration holding no bulletin. A field the notice's table has no column for is not
-- known to be missing, so TRADE_RESULT_FIELDS does not count it; any other file states every field it binds.
standard_result_fields as (
    select
        files.source_file,
        bool_or(aliases.canonical_field = 'tenderer_name') as states_tenderer_name,
        bool_or(aliases.canonical_field = 'tender_agency_name') as states_tender_agency_name,
        bool_or(aliases.canonical_field in ('project_code', 'tender_project_code')) as states_project_code,
        bool_or(aliases.canonical_field = 'notice_name') as states_notice_name,
        bool_or(aliases.canonical_field = 'win_bidder_name') as states_win_bidder_name,
        bool_or(aliases.canonical_field = 'bid_amount') as states_bid_amount
    from {{ ref('stg_load_manifest__load_files') }} as files
    join {{ ref('ref_ggzy_v3_fields') }} as standard_fields
        on files.family = 'trading' and files.detected_kind = concat('bulletins:', standard_fields.table_name)
    join {{ ref('ref_trading_field_aliases') }} as aliases
        on aliases.alias = standard_fields.field
       and (coalesce(aliases.source_table, '') = '' or aliases.source_table = standard_fields.table_name)
    group by files.source_file
),

deals as (
    select
        member_deal_key as deal_key,
        -- the project's code: PROJECT_CODE, else the tender project's (the national standard's works tables
        -- and the platform's search service name only that one)
        coalesce(min(project_code), min(tender_project_code)) as project_code,
        min(bid_section_code) as bid_section_code,
        min(unified_deal_code) as unified_deal_code,
        coalesce(min(trade_area_code) filter (where bulletin_type_code = 'announcement'), min(trade_area_code)) as trade_area_code,
        coalesce(min(trade_area) filter (where bulletin_type_code = 'announcement'), min(trade_area)) as trade_area,
        coalesce(min(region_code) filter (where bulletin_type_code = 'announcement'), min(region_code)) as region_code,
        coalesce(min({{ party_name('tenderer_name') }}) filter (where bulletin_type_code = 'announcement'),
                 min({{ party_name('tenderer_name') }})) as tenderer_name,
        coalesce(min(tenderer_code) filter (where bulletin_type_code = 'announcement'), min(tenderer_code)) as tenderer_code,
        coalesce(min({{ party_name('tender_agency_name') }}) filter (where bulletin_type_code = 'announcement'),
                 min({{ party_name('tender_agency_name') }})) as tender_agency_name,
        coalesce(min(tender_agency_code) filter (where bulletin_type_code = 'announcement'), min(tender_agency_code)) as tender_agency_code,
        cast(year(min(notice_send_time)) as integer) as fiscal_year,
        min(notice_send_time) as first_notice_at,
        {{ arg_min_by('notice_name', ['notice_send_time', 'notice_name']) }} filter (where bulletin_type_code = 'announcement') as announcement_name,
        -- the method the announcement states (its field, else its title's kind word), else any bulletin's
        coalesce({{ arg_min_by('procurement_method', ['notice_send_time', 'procurement_method']) }} filter (
                     where bulletin_type_code = 'announcement' and procurement_method is not null),
                 min(procurement_method)) as procurement_method,
        min(notice_send_time) filter (where bulletin_type_code = 'announcement') as announced_at,
        coalesce(min(doc_get_start_time) filter (where bulletin_type_code = 'announcement'), min(doc_get_start_time)) as doc_get_start_at,
        coalesce(min(doc_get_end_time) filter (where bulletin_type_code = 'announcement'), min(doc_get_end_time)) as doc_get_end_at,
        coalesce(min(bid_doc_refer_end_time) filter (where bulletin_type_code = 'announcement'), min(bid_doc_refer_end_time)) as bid_deadline_at,
        coalesce(min(bid_open_time) filter (where bulletin_type_code = 'announcement'), min(bid_open_time)) as bid_open_at,
        -- the tender period the rules judge (TRADE_SHORT_TENDER_PERIOD, FLAG_SHORT_PERIOD), from the last tender: its
        -- documents from the last-published announcement stating when they were issued (a re-tender's own, §44) — not
        -- a change notice's: restating or reopening the documents' sale is an amendment (§23), the period still runs
        -- from the issue (§24) —, its bid deadline from the last-published announcement or change notice stating one
        -- — a change notice postponing the closing (变更/更正, 552's POST_BID_CLOSING_TIME 延期后投标截止时间; 招标投标法
        -- §23: an amendment late in the period extends it) —, else the announced ones. doc_get_start_at /
        -- bid_deadline_at stay the announced. A re-tender's announcement stating no issue: its publication (documents
        -- are issued no earlier), never the first tender's issue (that period ran to another closing)
        coalesce(case when count(*) filter (where bulletin_type_code = 'announcement') > 1
                      then {{ arg_max_by('coalesce(doc_get_start_time, notice_send_time)', ['notice_send_time', 'doc_get_start_time']) }}
                               filter (where bulletin_type_code = 'announcement' and notice_send_time is not null)
                      end,
                 {{ arg_max_by('doc_get_start_time', ['notice_send_time', 'doc_get_start_time']) }}
                     filter (where bulletin_type_code = 'announcement' and doc_get_start_time is not null),
                 min(doc_get_start_time)) as tender_opened_at,
        -- A later notice stating a deadline EARLIER than the last tender's announced one (a 552 "postponement" to before
        -- the closing it postpones, a 504 clarification's new deadline): the dates are out of order (TRADE_DATE_ORDER
        -- names it: closing_brought_forward_at), not a silently shorter period — the period runs to the announced one.
        -- Brought forward by day: a notice restating the deadline by its day only (2021年4月22日, read as midnight)
        -- states the announced 09:00 of that day (the period runs to that hour), not a deadline brought forward
        case when {{ stated_closing }} < {{ announced_closing }} then {{ announced_closing }}
             else {{ stated_closing }} end as tender_closed_at,
        case when cast({{ stated_closing }} as date) < cast({{ announced_closing }} as date)
             then {{ stated_closing }} end as closing_brought_forward_at,
        -- the opening the bids were evaluated after: the one the last-published announcement or change notice
        -- stating an opening states — a change notice moving the opening (变更/更正, 503's NOTICE_NATURE 2; later or
        -- earlier, the last of several), a re-tender's announcement after fewer than 3 bidders (实施条例 §44) — else
        -- the announced one; the candidate publicity's 3 days count from it (§54). Not the latest opening: a second
        -- change notice bringing a postponed opening back made the publicity count from the withdrawn date
        coalesce({{ arg_max_by('bid_open_time', ['notice_send_time', 'bid_open_time']) }}
                     filter (where bulletin_type_code in ('announcement', 'change')),
                 max(bid_open_time) filter (where bulletin_type_code in ('announcement', 'change')),
                 min(bid_open_time)) as evaluated_after_open_at,
        min(notice_send_time) filter (where bulletin_type_code = 'candidates') as candidates_published_at,
        min(publicity_start_time) filter (where bulletin_type_code = 'candidates') as publicity_start_at,
        max(publicity_end_time) filter (where bulletin_type_code = 'candidates') as publicity_end_at,
        min(notice_send_time) filter (where bulletin_type_code = 'result') as result_published_at,
        coalesce(min(contract_sign_time) filter (where bulletin_type_code = 'contract'), min(contract_sign_time)) as contract_signed_at,
        min(notice_send_time) filter (where bulletin_type_code = 'contract') as contract_published_at,
        coalesce(max(budget_amount_yuan) filter (where bulletin_type_code = 'announcement'), max(budget_amount_yuan)) as budget_amount_yuan,
        coalesce(max(bid_amount_yuan) filter (where bulletin_type_code = 'result'),
                 max(bid_amount_yuan) filter (where bulletin_type_code = 'contract')) as bid_amount_yuan,
        coalesce(max(bidder_count) filter (where bulletin_type_code = 'result'), max(bidder_count)) as bidder_count,
        coalesce(min({{ party_name('win_bidder_name') }}) filter (where bulletin_type_code = 'result'),
                 min({{ party_name('win_bidder_name') }}) filter (where bulletin_type_code = 'contract')) as win_bidder_name,
        coalesce(min(win_bidder_code) filter (where bulletin_type_code = 'result'),
                 min(win_bidder_code) filter (where bulletin_type_code = 'contract')) as win_bidder_code,
        bool_or(bulletin_type_code = 'announcement') as has_announcement,
        bool_or(bulletin_type_code = 'result') as has_result,
        bool_or(bulletin_type_code in ('candidates', 'result', 'contract')) as has_outcome_notice,
        bool_or(bulletin_type_code = 'candidates') as has_candidates,
        bool_or(bulletin_type_code = 'contract') as has_contract_notice,
        count(*) as bulletin_count,
        -- both from the same bulletin: the first dated one, ties broken by file and row
        {{ arg_min_by('source_file', ['notice_send_time', 'source_file', 'source_row']) }} as source_file,
        {{ arg_min_by('source_row', ['notice_send_time', 'source_file', 'source_row']) }} as source_row,
        -- one value per deal (a deal-level year); the newest load of its bulletins: the next build's watermark
        min(member_partition_year) as partition_year,
        max(source_loaded_at) as source_loaded_at
    from bulletins
    group by member_deal_key
),

-- The last clarification or amendment of the last tender's documents (招标投标法 §23; 政府采购法实施条例 §31): a change
-- notice (变更/更正/澄清, 503's NOTICE_NATURE 2, 552) or a 504 招标文件澄清与修改 record, published after the day the
-- documents were issued (the issue itself, or its restatement that day, amends nothing) and before the deadline in
-- force at the end (a change after the closing — of a result — is no amendment of the documents). The latest one is
-- the one nearest the deadline: TRADE_AMENDMENT_LATE counts from it to tender_closed_at, and its finding names it (file
-- and row: a reviewer opens the late amendment, not the announcement). A 504 record of the tender documents themselves
-- (bulletin type 招标文件 'documents', ingest's record_kinds) is no change: its upload after the issue day amends nothing.
amendments as (
    select
        changes.member_deal_key as deal_key,
        max(changes.notice_send_time) as last_amended_at,
        -- ties at the same time broken by file and row, the same on both engines
        {{ arg_max_by('changes.source_file', ['changes.notice_send_time', 'changes.source_file', 'changes.source_row']) }} as amendment_source_file,
        {{ arg_max_by('changes.source_row', ['changes.notice_send_time', 'changes.source_file', 'changes.source_row']) }} as amendment_source_row
    from bulletins as changes
    join deals on deals.deal_key = changes.member_deal_key
    where changes.bulletin_type_code = 'change'
      -- documents whose issue no notice states: issued no earlier than the announcement
      and cast(changes.notice_send_time as date) > cast(coalesce(deals.tender_opened_at, deals.announced_at) as date)
      and changes.notice_send_time < deals.tender_closed_at
      -- a change of a project with sections, naming none, amends each section's documents (read on each section's
      -- deal above): the project's own deal (project/, a section-less announcement the loader could not place) is no
      -- procurement of its own when sections exist — judged there too, one late 澄清 was a finding more than the deals
      -- it amends
      and not (changes.member_deal_key = changes.deal_key and changes.bid_section_code is null
               and changes.deal_key = concat(coalesce(changes.project_code, changes.tender_project_code), '/')
               and coalesce(changes.project_code, changes.tender_project_code) in (select project from project_sections))
    group by changes.member_deal_key
),

-- The bulletins stating the dates of a deal whose dates are out of order (TRADE_DATE_ORDER, macros/trading_date_order.sql):
-- its finding names the two dates and each one's file and row, a reviewer opens them. Each picked as the date itself is
-- (the announcement's where the deal's date is the announcement's), ties broken by file and row; read for those few
-- deals only (NULL for every other deal): a pass over every deal's bulletins for a rare finding costs more than it says.
{%- set row_keys = ['source_file', 'source_row'] %}
{%- set announcements = "bulletin_type_code = 'announcement'" %}
{%- set stating_closing = "bulletin_type_code in ('announcement', 'change') and bid_doc_refer_end_time is not null" %}
{%- set date_sources = {
    'announced_source': [('min', ['notice_send_time'], announcements)],
    'bid_deadline_source': [('min', ['bid_doc_refer_end_time'], announcements), ('min', ['bid_doc_refer_end_time'], none)],
    'bid_open_source': [('min', ['bid_open_time'], announcements), ('min', ['bid_open_time'], none)],
    'candidates_source': [('min', ['notice_send_time'], "bulletin_type_code = 'candidates'")],
    'contract_source': [('min', ['contract_sign_time'], "bulletin_type_code = 'contract'"), ('min', ['contract_sign_time'], none)],
    'closing_brought_forward_source': [('max', ['notice_send_time', 'bid_doc_refer_end_time'], stating_closing)],
    'announced_closing_source': [('max', ['notice_send_time', 'bid_doc_refer_end_time'],
                                  announcements ~ ' and bid_doc_refer_end_time is not null')],
} %}
dates_unordered as (
    select deal_key
    from deals
    where {% for descent in trading_date_descents() %}({{ descent.condition }}){% if not loop.last %} or {% endif %}{% endfor %}
),

date_sources as (
    select
        member_deal_key as deal_key,
        {%- for source, picks in date_sources.items() %}
        {%- set outer_loop = loop %}
        {%- for part in row_keys %}
        coalesce(
            {%- for extreme, keys, condition in picks %}
            {{ (arg_min_by if extreme == 'min' else arg_max_by)(part, keys + row_keys) }}
                {%- if condition %} filter (where {{ condition }}){% endif %}{{ ',' if not loop.last }}
            {%- endfor %}
        ) as {{ source }}_{{ part.split('_')[1] }}{{ ',' if not (outer_loop.last and loop.last) }}
        {%- endfor %}
        {%- endfor %}
    from bulletins
    where member_deal_key in (select deal_key from dates_unordered)
    group by member_deal_key
)

select
    deals.*,
    {%- for source in date_sources %}
    date_sources.{{ source }}_file,
    date_sources.{{ source }}_row,
    {%- endfor %}
    amendments.last_amended_at,
    amendments.amendment_source_file,
    amendments.amendment_source_row,
    -- the buyer publishes; a deal whose buyer has no credit code is keyed by the buyer's name (never NULL)
    coalesce(deals.tenderer_code,
             {{ unregistered_publisher_key('coalesce(deals.tenderer_name, deals.deal_key)') }}) as publisher_code,
    coalesce(candidate_names.candidate_count, 0) as candidate_count,
    -- the result notice the GP 条例 §43 check reads: a finding about its content names its file and row
    result_notices.source_file as result_source_file,
    result_notices.source_row as result_source_row,
    -- GP 条例 §43 fields absent from the result notice (empty list: complete; NULL: no result notice)
    case when result_notices.deal_key is not null then {{ filter_list(list_of([
        "case when result_notices.tenderer_name is null and not coalesce(copied.states_tenderer_name, false) and coalesce(stated.states_tenderer_name, true) then 'tenderer_name' end",
        "case when result_notices.tender_agency_name is null and not coalesce(copied.states_tender_agency_name, false) and coalesce(stated.states_tender_agency_name, true) then 'tender_agency_name' end",
        "case when coalesce(result_notices.project_code, result_notices.tender_project_code) is null and not coalesce(copied.states_project_code, false) and coalesce(stated.states_project_code, true) then 'project_code' end",
        "case when result_notices.notice_name is null and not coalesce(copied.states_notice_name, false) and coalesce(stated.states_notice_name, true) then 'notice_name' end",
        "case when result_notices.win_bidder_name is null and not coalesce(copied.states_win_bidder_name, false) and coalesce(stated.states_win_bidder_name, true) then 'win_bidder_name' end",
        "case when result_notices.bid_amount_yuan is null and not coalesce(copied.states_bid_amount, false) and coalesce(stated.states_bid_amount, true) then 'bid_amount' end"
    ]), 'f', 'f is not null') }} end as result_missing_fields
from deals
left join candidate_names using (deal_key)
left join amendments using (deal_key)
left join date_sources using (deal_key)
left join result_notices using (deal_key)
left join standard_result_fields as stated on stated.source_file = result_notices.source_file
left join result_copies as copied on copied.bulletin_key = result_notices.bulletin_key
