-- One row per deal × deal-level trading rule (TRADE_*, FLAG_SINGLE_BIDDER, FLAG_SHORT_PERIOD): the
-- interval or value observed, computed ONCE in the rule's day kind, the catalogue threshold, whether the
-- rule applies (in scope AND its inputs are known) and whether it passes (NULL when it does not apply:
-- insufficient data is never a pass or a failure). Semantics: docs/CONTRACTS.md §7.
{#- What each deal-level rule observes, in the order of the rule catalogue's deal rules. comparison:
    at_least / at_most (observed vs the catalogue threshold), not_equal, or precomputed (passes_if_applies).
    has_inputs: the rule's inputs are known (else the deal is insufficient data for it, never pass or fail).
    provisional: the rule read a day of the working-day calendar that is provisional (its year's State Council notice
    is not out: build_calendar.py) — the verdict stands on weekends and statutory holidays only and says so.
    names: the bulletin the rule judges, when not the deal as a whole — 'result' (the result notice), 'amendment' (the
    last clarification or amendment): its finding names that bulletin's file and row and its publication time (else
    the deal's first bulletin, which may be the announcement: a reader sent there would find the buyer named, not the
    late amendment), 'date_order' (the later of two dates out of order: the bulletin whose date came too early).
    detail: text the finding prints after the observed value (TRADE_DATE_ORDER: the dates out of order, each with the
    file and row of the bulletin stating it — macros/trading_date_order.sql). -#}
{#- The catalogue rule naming a deal a scope kind cannot place (the unplaced CTE below): 'area' — its trade area blank
    or outside ref_trade_areas, so no rule with an applies_to can place it; 'method' — its area is one a rule reaches
    by method only (政府采购:公开招标) and neither a method field nor its title names the method. One rule per kind:
    each finding says which of the publisher's statements is missing. -#}
{%- set unplaced_rules = {'area': 'TRADE_AREA_UNPLACED', 'method': 'TRADE_METHOD_UNPLACED'} %}
{#- The rule's verdict were it in scope with its inputs: ``{t}`` the relation's prefix. -#}
{%- set verdict_of = "case when {t}comparison = 'at_least' then {t}observed_value >= {t}threshold
             when {t}comparison = 'at_most' then {t}observed_value <= {t}threshold
             when {t}comparison = 'not_equal' then {t}observed_value <> {t}threshold
             else {t}passes_if_applies end" %}
{#- FLAG_SHORT_PERIOD reads deals outside the 20-day rule's scope, a procurement of unknown method included
    (TRADE_METHOD_UNPLACED): DOMAIN 2.4 reports a short period as a red flag whatever the law, and fewer than the flag's
    10 days are short whatever the method turns out to be — kept silent, a missing method word would hide it. Its
    detail then says the method is unknown: whether the 20-day rule applies is not known there. -#}
{%- set deal_rule_observations = [
    {'rule_id': 'TRADE_RESULT_WITHOUT_ANNOUNCEMENT', 'comparison': 'precomputed',
     'observed': 'case when has_announcement then 1 else 0 end', 'has_inputs': 'has_outcome_notice',
     'passes': 'has_announcement'},
    {'rule_id': 'TRADE_SHORT_TENDER_PERIOD', 'comparison': 'at_least',
     'observed': days_between('tender_opened_on', 'tender_closed_on'),
     'has_inputs': 'tender_closed_on is not null and tender_opened_on is not null'},
    {'rule_id': 'TRADE_AMENDMENT_LATE', 'comparison': 'at_least',
     'observed': days_between('last_amended_on', 'tender_closed_on'),
     'has_inputs': 'last_amended_on is not null and tender_closed_on is not null', 'deadline': 'tender_closed_on',
     'names': 'amendment'},
    {'rule_id': 'TRADE_DOC_SALE_WORKS', 'comparison': 'at_least',
     'observed': days_between('doc_get_start_on', 'doc_get_end_on'),
     'has_inputs': 'doc_get_end_on is not null and doc_get_start_on is not null'},
    {'rule_id': 'TRADE_DOC_SALE_GP', 'comparison': 'at_least',
     'observed': 'doc_sale_working_days', 'has_inputs': 'doc_sale_working_days is not null',
     'provisional': 'doc_sale_provisional'},
    {'rule_id': 'TRADE_CANDIDATE_PUBLICITY_SHORT', 'comparison': 'at_least',
     'observed': days_between('publicity_start_on', 'publicity_end_on'),
     'has_inputs': 'publicity_end_on is not null and publicity_start_on is not null'},
    {'rule_id': 'TRADE_CANDIDATE_PUBLISHED_LATE', 'comparison': 'at_most',
     'observed': days_between('evaluated_after_open_on', 'candidates_on'),
     'has_inputs': 'candidates_on is not null and evaluated_after_open_on is not null'},
    {'rule_id': 'TRADE_TOO_MANY_CANDIDATES', 'comparison': 'at_most',
     'observed': 'candidate_count', 'has_inputs': 'has_candidates and candidate_count > 0'},
    {'rule_id': 'TRADE_CONTRACT_SIGN_LATE', 'comparison': 'at_most',
     'observed': days_between('result_on', 'contract_signed_on'), 'has_inputs': 'contract_signed_on is not null and result_on is not null'},
    {'rule_id': 'TRADE_GP_CONTRACT_NOTICE_LATE', 'comparison': 'precomputed',
     'observed': 'contract_notice_working_days',
     'has_inputs': 'contract_published_on is not null and contract_notice_deadline_on is not null',
     'passes': 'contract_published_on <= contract_notice_deadline_on', 'deadline': 'contract_notice_deadline_on',
     'provisional': 'contract_notice_provisional'},
    {'rule_id': 'TRADE_AMOUNT_OVER_BUDGET', 'comparison': 'precomputed',
     'observed': 'bid_amount_yuan', 'has_inputs': 'bid_amount_yuan is not null and budget_amount_yuan is not null',
     'passes': 'bid_amount_yuan <= budget_amount_yuan'},
    {'rule_id': 'TRADE_FEW_BIDDERS', 'comparison': 'at_least',
     'observed': 'bidder_count', 'has_inputs': 'has_result and bidder_count is not null'},
    {'rule_id': 'TRADE_DATE_ORDER', 'comparison': 'precomputed', 'names': 'date_order', 'detail': 'date_order_detail',
     'observed': 'case when closing_brought_forward_on is not null then coalesce(' ~ count_descents('known_dates')
                 ~ ', 0) + 1 else ' ~ count_descents('known_dates') ~ ' end',
     'has_inputs': '(' ~ list_length('known_dates') ~ ' >= 2 or closing_brought_forward_on is not null)',
     'passes': '(known_dates = ' ~ list_sorted('known_dates') ~ ' and closing_brought_forward_on is null)'},
    {'rule_id': 'TRADE_RESULT_FIELDS', 'comparison': 'precomputed',
     'observed': list_length('result_missing_fields'), 'has_inputs': 'result_missing_fields is not null',
     'passes': list_length('result_missing_fields') ~ ' = 0', 'names': 'result'},
    {'rule_id': 'FLAG_SINGLE_BIDDER', 'comparison': 'not_equal',
     'observed': 'bidder_count', 'has_inputs': 'bidder_count is not null'},
    {'rule_id': 'FLAG_SHORT_PERIOD', 'comparison': 'at_least',
     'observed': days_between('tender_opened_on', 'tender_closed_on'),
     'has_inputs': 'tender_closed_on is not null and tender_opened_on is not null and not in_short_tender_scope',
     'detail': "case when short_tender_method_unknown then '采购方式未知，20日规则是否适用不明 method unknown: whether the "
               ~ "20-day rule applies is not known (TRADE_METHOD_UNPLACED)' end"},
] %}

-- Incremental by load: the deals of the rebuilt partition years (macros/trading_load_partitions.sql). The rule
-- catalogue and the calendar are reference data: a change to them needs a full refresh (Dagster does that when
-- the dbt code digest changed).
{%- set years = trading_years_to_rebuild() %}
{{ config(pre_hook="{{ trading_clear_rebuilt_partitions() }}", **partitioned_incremental_config('partition_year')) }}
{{ trading_rebuild_marker(years) }}
{#- read five times below. A full build inlines it: each read takes the columns it needs, where a materialised copy
    (DuckDB's default for a CTE read more than once) held every deal's wide row (at 1 M: 4.16 → 3.74 s, 2.6 → 2.3 GB
    RSS; at 10 M under the 3 GB cap: 99.5 → 87.1 s). A rebuilt partition keeps the copy: one year's deals are read once
    and the five reads share them (one new year at 10 M, 938 971 deals, alone under the same cap: 40–41 s inlined,
    35 s materialised; benchmarks/RESULTS.md, stop 40). -#}
with deals as {{ cte_inlined(years is none) }} (
    select * from {{ ref('int_deals_assembled') }}
    where {{ in_keys('partition_year', years) }}
),

rules as (
    select rule_id, severity, cast(threshold as decimal(20, 4)) as threshold, threshold_unit, applies_to
    from {{ ref('ref_rule_catalogue') }}
    where object_key_kind = 'deal_key'
),

-- applies_to = 'area|area:method' (the deal's procurement method, int_deals_assembled: the export's method field, else
-- its announcement title's own kind word — a method word inside the project's name places nothing)
scope_entries as (
    select
        rule_id,
        split_part(entry, ':', 1) as trade_area,
        nullif(split_part(entry, ':', 2), '') as keyword
    from (
        select rule_id, {{ unnest_list(split_text('applies_to', "'|'")) }} as entry
        from rules
        where applies_to is not null and applies_to <> ''
    ) as entries
),

-- the GP contract notice period in working days (one row; NULL when the catalogue has no such rule)
contract_notice_period as (
    select max(cast(threshold as integer)) as working_days
    from rules
    where rule_id = 'TRADE_GP_CONTRACT_NOTICE_LATE'
),

deals_in_scope as (
    select distinct deals.deal_key, scope_entries.rule_id
    from deals
    join scope_entries
        on scope_entries.trade_area = deals.trade_area
       and (scope_entries.keyword is null or deals.procurement_method = scope_entries.keyword)
),

-- The scopes each deal cannot be placed in (unplaced_rules above): one row per deal × scoped rule at most — a deal
-- without an area has no method scope to miss. A method scope misses a deal only where every entry of the rule for
-- the deal's area names a method (works are reached whatever their method; a land sale by no method scope at all).
deals_unplaced as (
    select deals.deal_key, rules.rule_id, 'area' as scope_kind
    from deals
    cross join rules
    where deals.trade_area is null and coalesce(rules.applies_to, '') <> ''
    union all
    select deals.deal_key, scope_entries.rule_id, 'method' as scope_kind
    from deals
    join scope_entries on scope_entries.trade_area = deals.trade_area
    where deals.procurement_method is null
    group by deals.deal_key, scope_entries.rule_id
    having count(scope_entries.keyword) = count(*)
),

measures as (
    select
        deals.*,
        cast(doc_get_start_at as date) as doc_get_start_on,
        cast(doc_get_end_at as date) as doc_get_end_on,
        cast(bid_deadline_at as date) as bid_deadline_on,
        cast(tender_opened_at as date) as tender_opened_on,
        cast(tender_closed_at as date) as tender_closed_on,
        cast(last_amended_at as date) as last_amended_on,
        -- a later notice's deadline before the announced one (int_deals_assembled): a descent of the chain's dates
        cast(closing_brought_forward_at as date) as closing_brought_forward_on,
        cast(evaluated_after_open_at as date) as evaluated_after_open_on,
        cast(candidates_published_at as date) as candidates_on,
        cast(publicity_start_at as date) as publicity_start_on,
        cast(publicity_end_at as date) as publicity_end_on,
        cast(result_published_at as date) as result_on,
        cast(contract_signed_at as date) as contract_signed_on,
        cast(contract_published_at as date) as contract_published_on,
        cast(announced_at as date) as announced_on,
        short_tender_scope.deal_key is not null as in_short_tender_scope,
        short_tender_unplaced.deal_key is not null as short_tender_method_unknown,
        -- working days as joins on the calendar's running index (macros/working_days.sql)
        doc_sale_end.working_day_index - doc_sale_start.working_day_index as doc_sale_working_days,
        contract_notice.working_day_index - contract_signed.working_day_index as contract_notice_working_days,
        contract_notice_deadline.calendar_date as contract_notice_deadline_on,
        coalesce(doc_sale_start.is_provisional, false) or coalesce(doc_sale_end.is_provisional, false) as doc_sale_provisional,
        coalesce(contract_signed.is_provisional, false) or coalesce(contract_notice.is_provisional, false)
            or coalesce(contract_notice_deadline.is_provisional, false) as contract_notice_provisional,
        -- the known dates of the chain announcement ≤ bid deadline ≤ bid open ≤ candidates ≤ result ≤ contract
        {{ filter_list(list_of(['cast(announced_at as date)', 'cast(bid_deadline_at as date)', 'cast(bid_open_at as date)',
                                'cast(candidates_published_at as date)', 'cast(result_published_at as date)',
                                'cast(contract_signed_at as date)']), 'd', 'd is not null') }} as known_dates,
        -- what TRADE_DATE_ORDER's finding names (macros/trading_date_order.sql): each pair of dates out of order, the
        -- later stage's first, and the first pair's later bulletin — where a reviewer starts
        {%- set descents = trading_date_descents() %}
        nullif(concat_ws('；'
            {%- for d in descents %},
            case when {{ d.condition }} then {{ trading_dated_bulletin(d.later) }} || ' 早于 before '
                || case {% for e in d.earlier %}when {{ e.at }} is not null then {{ trading_dated_bulletin(e) }} {% endfor %}end end
            {%- endfor %}), '') as date_order_detail,
        {%- for column, part in [('date_order_source_file', '_file'), ('date_order_source_row', '_row'),
                                 ('date_order_named_at', none)] %}
        case {% for d in descents %}when {{ d.condition }} then {{ d.later.source ~ part if part else (d.later.at if d.later.published
                                                                                   else 'cast(null as timestamp)') }} {% endfor %}end as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from deals
    left join (select deal_key from deals_in_scope where rule_id = 'TRADE_SHORT_TENDER_PERIOD') as short_tender_scope
        on short_tender_scope.deal_key = deals.deal_key
    left join (select deal_key from deals_unplaced where rule_id = 'TRADE_SHORT_TENDER_PERIOD' and scope_kind = 'method')
        as short_tender_unplaced
        on short_tender_unplaced.deal_key = deals.deal_key
    cross join contract_notice_period
    {{ working_day_join('deals.doc_get_start_at', 'doc_sale_start') }}
    {{ working_day_join('deals.doc_get_end_at', 'doc_sale_end') }}
    {{ working_day_join('deals.contract_signed_at', 'contract_signed') }}
    {{ working_day_join('deals.contract_published_at', 'contract_notice') }}
    {{ working_day_after_join('contract_signed', 'contract_notice_period.working_days', 'contract_notice_deadline') }}
),

-- One row per deal x rule, the deals read once: each deal's observations are a list of structs
-- (one per rule above) unnested, instead of one union branch per rule reading the deals again and a
-- join back to them for the deal's columns (at 10 M bulletins that join held 42 M wide rows).
observed as (
    select
        deal_key,
        publisher_code,
        tenderer_name as publisher_name,
        fiscal_year,
        trade_area_code,
        budget_amount_yuan,
        source_file,
        source_row,
        result_source_file,
        result_source_row,
        result_published_at,
        amendment_source_file,
        amendment_source_row,
        last_amended_at,
        date_order_source_file,
        date_order_source_row,
        date_order_named_at,
        date_order_detail,
        partition_year,
        source_loaded_at,
        {%- set observations = [] %}
        {%- for o in deal_rule_observations %}
        {%- do observations.append(struct_of({
            'rule_id': "'" ~ o.rule_id ~ "'",
            'observed_value': 'cast(' ~ o.observed ~ ' as decimal(20, 2))',
            'has_inputs': 'cast(' ~ o.has_inputs ~ ' as boolean)',
            'comparison': "'" ~ o.comparison ~ "'",
            'passes_if_applies': 'cast(' ~ o.get('passes', 'null') ~ ' as boolean)',
            'deadline_date': 'cast(' ~ o.get('deadline', 'null') ~ ' as date)',
            'detail': 'cast(' ~ o.get('detail', 'null') ~ ' as string)',
            'on_provisional_calendar': 'cast(' ~ o.get('provisional', 'false') ~ ' as boolean)'})) %}
        {%- endfor %}
        {{ unnest_list(list_of(observations)) }} as observation
    from measures
),

evaluated as (
    select
        observed.observation.rule_id,
        rules.severity,
        observed.deal_key,
        observed.publisher_code,
        observed.publisher_name,
        observed.fiscal_year,
        observed.trade_area_code,
        observed.observation.observed_value,
        case when observed.observation.rule_id = 'TRADE_AMOUNT_OVER_BUDGET'
             then cast(observed.budget_amount_yuan as decimal(20, 4))
             else rules.threshold end as threshold,
        -- the unit is what the finding's text prints beside the threshold (expectations/trading.yaml): a count on a
        -- provisional calendar says so there, so nobody takes the verdict for final
        case when observed.observation.rule_id = 'TRADE_AMOUNT_OVER_BUDGET' then 'yuan'
             when observed.observation.on_provisional_calendar
             then rules.threshold_unit || '（暂定工作日历：当年放假安排未公布 provisional calendar: no holiday notice for that year yet）'
             else rules.threshold_unit end as threshold_unit,
        observed.observation.deadline_date,
        observed.observation.detail as observed_detail,
        observed.observation.on_provisional_calendar,
        observed.observation.comparison,
        observed.observation.passes_if_applies,
        (rules.applies_to is null or rules.applies_to = ''
            or deals_in_scope.deal_key is not null
            -- FLAG_SHORT_PERIOD has no applies_to: its has_inputs keeps it to deals outside
            -- TRADE_SHORT_TENDER_PERIOD's scope
        ) as in_scope,
        coalesce(observed.observation.has_inputs, false) as has_inputs,
        {%- set named = {'result': ['result_source_file', 'result_source_row', 'result_published_at'],
                         'amendment': ['amendment_source_file', 'amendment_source_row', 'last_amended_at'],
                         'date_order': ['date_order_source_file', 'date_order_source_row', 'date_order_named_at']} %}
        {%- for column, otherwise in [('source_file', 'observed.source_file'), ('source_row', 'observed.source_row'),
                                      ('named_bulletin_published_at', 'cast(null as timestamp)')] %}
        {%- set position = loop.index0 %}
        case
            {%- for kind, columns in named.items() %}
            {%- set rule_ids = deal_rule_observations | selectattr('names', 'defined') | selectattr('names', 'equalto', kind)
                               | map(attribute='rule_id') | list %}
            when observed.observation.rule_id in ('{{ rule_ids | join("', '") }}') and observed.{{ columns[0] }} is not null
                then observed.{{ columns[position] }}
            {%- endfor %}
            else {{ otherwise }}
        end as {{ column }},
        {%- endfor %}
        observed.partition_year,
        observed.source_loaded_at,
        deals_unplaced.scope_kind as unplaced_scope
    from observed
    join rules on rules.rule_id = observed.observation.rule_id
    left join deals_in_scope
        on deals_in_scope.rule_id = observed.observation.rule_id and deals_in_scope.deal_key = observed.deal_key
    left join deals_unplaced
        on deals_unplaced.rule_id = observed.observation.rule_id and deals_unplaced.deal_key = observed.deal_key
),

-- A deal a rule's scope cannot place (deals_unplaced: its trade area, or the method its area's scope names, unknown)
-- is not judged by that rule — an area-scoped rule on a land or state-property sale would call its price above the
-- starting price a failure, the 20-day rule on a 询价 would call its short period one — but never silently: one row of
-- the scope kind's catalogue rule (unplaced_rules, if the catalogue lists it) per such deal, naming the deal's first
-- bulletin and the rules of that kind that would fail on it, placed (its inputs known, the verdict a failure); it
-- passes when none would: a rule the deal passes whatever its scope (12 bidders and the 3-bidder rule) hides nothing.
{%- set would_fail = 'evaluated.has_inputs and not ' ~ verdict_of | replace('{t}', 'evaluated.') %}
unplaced as (
    select
        unplaced_rule.rule_id,
        unplaced_rule.severity,
        evaluated.deal_key,
        min(evaluated.publisher_code) as publisher_code,
        min(evaluated.publisher_name) as publisher_name,
        min(evaluated.fiscal_year) as fiscal_year,
        min(evaluated.trade_area_code) as trade_area_code,   -- NULL where the area is what is missing
        cast(count(case when {{ would_fail }} then 1 end) as decimal(20, 2)) as observed_value,
        cast(null as decimal(20, 4)) as threshold,
        min(unplaced_rule.threshold_unit) as threshold_unit,
        cast(null as date) as deadline_date,
        {{ ordered_string_agg('case when ' ~ would_fail ~ ' then evaluated.rule_id end', "', '", ['evaluated.rule_id']) }} as observed_detail,
        false as on_provisional_calendar,
        'precomputed' as comparison,
        count(case when {{ would_fail }} then 1 end) = 0 as passes_if_applies,
        true as in_scope,
        true as has_inputs,
        deals.source_file,   -- the deal's first bulletin
        deals.source_row,
        cast(null as timestamp) as named_bulletin_published_at,
        min(evaluated.partition_year) as partition_year,
        max(evaluated.source_loaded_at) as source_loaded_at,
        cast(null as string) as unplaced_scope
    from evaluated
    join deals on deals.deal_key = evaluated.deal_key
    join rules as unplaced_rule
        on unplaced_rule.rule_id = case evaluated.unplaced_scope
            {%- for kind, rule_id in unplaced_rules.items() %} when '{{ kind }}' then '{{ rule_id }}'{% endfor %} end
    group by unplaced_rule.rule_id, unplaced_rule.severity, evaluated.deal_key, deals.source_file, deals.source_row
),

judged as (
    select * from evaluated
    union all
    select * from unplaced
)

select
    rule_id,
    severity,
    deal_key,
    publisher_code,
    publisher_name,
    fiscal_year,
    trade_area_code,
    observed_value,
    threshold,
    threshold_unit,
    deadline_date,
    on_provisional_calendar,
    in_scope,
    has_inputs,
    in_scope and has_inputs as applies,
    case when in_scope and has_inputs then {{ verdict_of | replace('{t}', '') }} end as passes,
    source_file,
    source_row,
    named_bulletin_published_at,
    observed_detail,
    partition_year,
    source_loaded_at
from judged
