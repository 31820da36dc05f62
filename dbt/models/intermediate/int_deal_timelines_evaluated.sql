-- One row per deal × deal-level trading rule (TRADE_*, FLAG_SINGLE_BIDDER, FLAG_SHORT_PERIOD): the
-- interval or value observed, computed ONCE in the rule's day kind, the catalogue threshold, whether the
-- rule applies (in scope AND its inputs are known) and whether it passes (NULL when it does not apply:
-- insufficient data is never a pass or a failure). Semantics: docs/CONTRACTS.md §7.
with deals as (
    select * from {{ ref('int_deals_assembled') }}
),

rules as (
    select rule_id, severity, cast(threshold as decimal(20, 4)) as threshold, threshold_unit, applies_to
    from {{ ref('ref_rule_catalogue') }}
    where object_key_kind = 'deal_key'
),

-- applies_to = 'area|area:keyword' (keyword must appear in the announcement's NOTICE_NAME)
scope_entries as (
    select
        rule_id,
        split_part(entry, ':', 1) as trade_area,
        nullif(split_part(entry, ':', 2), '') as keyword
    from (
        select rule_id, unnest(string_split(applies_to, '|')) as entry
        from rules
        where applies_to is not null and applies_to <> ''
    )
),

deals_in_scope as (
    select distinct deals.deal_key, scope_entries.rule_id
    from deals
    join scope_entries
        on scope_entries.trade_area = deals.trade_area
       and (scope_entries.keyword is null or contains(coalesce(deals.announcement_name, ''), scope_entries.keyword))
),

measures as (
    select
        deals.*,
        cast(doc_get_start_at as date) as doc_get_start_on,
        cast(doc_get_end_at as date) as doc_get_end_on,
        cast(bid_deadline_at as date) as bid_deadline_on,
        cast(bid_open_at as date) as bid_open_on,
        cast(candidates_published_at as date) as candidates_on,
        cast(publicity_start_at as date) as publicity_start_on,
        cast(publicity_end_at as date) as publicity_end_on,
        cast(result_published_at as date) as result_on,
        cast(contract_signed_at as date) as contract_signed_on,
        cast(contract_published_at as date) as contract_published_on,
        cast(announced_at as date) as announced_on,
        exists (
            select 1 from deals_in_scope s
            where s.deal_key = deals.deal_key and s.rule_id = 'TRADE_SHORT_TENDER_PERIOD'
        ) as in_short_tender_scope,
        {{ working_days_between('doc_get_start_at', 'doc_get_end_at') }} as doc_sale_working_days,
        {{ working_days_between('contract_signed_at', 'contract_published_at') }} as contract_notice_working_days,
        {{ add_working_days('contract_signed_at',
            "(select cast(threshold as integer) from rules where rule_id = 'TRADE_GP_CONTRACT_NOTICE_LATE')") }}
            as contract_notice_deadline_on
    from deals
),

-- the known dates of the chain announcement ≤ bid deadline ≤ bid open ≤ candidates ≤ result ≤ contract
chains as (
    select
        deal_key,
        list_filter([announced_on, bid_deadline_on, bid_open_on, candidates_on, result_on, contract_signed_on],
                    lambda d: d is not null) as known_dates
    from measures
),

observations as (
    -- comparison: at_least / at_most (observed vs threshold), not_equal, or precomputed (passes_if_applies)
    select deal_key, 'TRADE_RESULT_WITHOUT_ANNOUNCEMENT' as rule_id,
           cast(case when has_announcement then 1 else 0 end as decimal(20, 2)) as observed_value,
           has_outcome_notice as has_inputs, 'precomputed' as comparison, has_announcement as passes_if_applies,
           cast(null as date) as deadline_date
    from measures
    union all
    select deal_key, 'TRADE_SHORT_TENDER_PERIOD', bid_deadline_on - doc_get_start_on,
           bid_deadline_on is not null and doc_get_start_on is not null, 'at_least', null, null
    from measures
    union all
    select deal_key, 'TRADE_DOC_SALE_WORKS', doc_get_end_on - doc_get_start_on,
           doc_get_end_on is not null and doc_get_start_on is not null, 'at_least', null, null
    from measures
    union all
    select deal_key, 'TRADE_DOC_SALE_GP', doc_sale_working_days,
           doc_sale_working_days is not null, 'at_least', null, null
    from measures
    union all
    select deal_key, 'TRADE_CANDIDATE_PUBLICITY_SHORT', publicity_end_on - publicity_start_on,
           publicity_end_on is not null and publicity_start_on is not null, 'at_least', null, null
    from measures
    union all
    select deal_key, 'TRADE_CANDIDATE_PUBLISHED_LATE', candidates_on - bid_open_on,
           candidates_on is not null and bid_open_on is not null, 'at_most', null, null
    from measures
    union all
    select deal_key, 'TRADE_TOO_MANY_CANDIDATES', candidate_count,
           has_candidates and candidate_count > 0, 'at_most', null, null
    from measures
    union all
    select deal_key, 'TRADE_CONTRACT_SIGN_LATE', contract_signed_on - result_on,
           contract_signed_on is not null and result_on is not null, 'at_most', null, null
    from measures
    union all
    select deal_key, 'TRADE_GP_CONTRACT_NOTICE_LATE', contract_notice_working_days,
           contract_published_on is not null and contract_notice_deadline_on is not null, 'precomputed',
           contract_published_on <= contract_notice_deadline_on, contract_notice_deadline_on
    from measures
    union all
    select deal_key, 'TRADE_AMOUNT_OVER_BUDGET', bid_amount_yuan,
           bid_amount_yuan is not null and budget_amount_yuan is not null, 'precomputed',
           bid_amount_yuan <= budget_amount_yuan, null
    from measures
    union all
    select deal_key, 'TRADE_FEW_BIDDERS', bidder_count,
           has_result and bidder_count is not null, 'at_least', null, null
    from measures
    union all
    select chains.deal_key, 'TRADE_DATE_ORDER',
           -- number of adjacent known dates out of order
           list_sum(list_transform(range(1, len(known_dates)),
                    lambda i: case when known_dates[i] > known_dates[i + 1] then 1 else 0 end)),
           len(known_dates) >= 2, 'precomputed', known_dates = list_sort(known_dates), null
    from chains
    union all
    select deal_key, 'TRADE_RESULT_FIELDS', len(result_missing_fields),
           result_missing_fields is not null, 'precomputed', len(result_missing_fields) = 0, null
    from measures
    union all
    select deal_key, 'FLAG_SINGLE_BIDDER', bidder_count,
           bidder_count is not null, 'not_equal', null, null
    from measures
    union all
    select deal_key, 'FLAG_SHORT_PERIOD', bid_deadline_on - doc_get_start_on,
           bid_deadline_on is not null and doc_get_start_on is not null and not in_short_tender_scope,
           'at_least', null, null
    from measures
),

evaluated as (
    select
        observations.rule_id,
        rules.severity,
        observations.deal_key,
        measures.tenderer_code as publisher_code,
        measures.tenderer_name as publisher_name,
        measures.fiscal_year,
        measures.trade_area_code,
        cast(observations.observed_value as decimal(20, 2)) as observed_value,
        case when observations.rule_id = 'TRADE_AMOUNT_OVER_BUDGET' then cast(measures.budget_amount_yuan as decimal(20, 4))
             else rules.threshold end as threshold,
        case when observations.rule_id = 'TRADE_AMOUNT_OVER_BUDGET' then 'yuan' else rules.threshold_unit end as threshold_unit,
        observations.deadline_date,
        observations.comparison,
        observations.passes_if_applies,
        (rules.applies_to is null or rules.applies_to = ''
            or deals_in_scope.deal_key is not null
            -- FLAG_SHORT_PERIOD has no applies_to: its has_inputs keeps it to deals outside
            -- TRADE_SHORT_TENDER_PERIOD's scope
        ) as in_scope,
        coalesce(observations.has_inputs, false) as has_inputs,
        measures.source_file,
        measures.source_row
    from observations
    join rules on rules.rule_id = observations.rule_id
    join measures on measures.deal_key = observations.deal_key
    left join deals_in_scope
        on deals_in_scope.rule_id = observations.rule_id and deals_in_scope.deal_key = observations.deal_key
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
    in_scope,
    has_inputs,
    in_scope and has_inputs as applies,
    case
        when not (in_scope and has_inputs) then null
        when comparison = 'at_least' then observed_value >= threshold
        when comparison = 'at_most' then observed_value <= threshold
        when comparison = 'not_equal' then observed_value <> threshold
        else passes_if_applies
    end as passes,
    source_file,
    source_row
from evaluated
