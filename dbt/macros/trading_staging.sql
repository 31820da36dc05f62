{#- The trading staging step — rename, cast, standardise, map to closed codes — as a macro over any relation of
    raw.trading_bulletins rows: stg_trading__bulletins applies it to the whole source; int_bulletin_copies_compared
    applies it to the few rows of bulletins that arrived more than once (a view over 10 M rows is standardised in
    full before a join can filter it, ~4 min at 10 M; one definition of staging, applied where it is needed). -#}
{% macro standardise_trading_bulletins(relation, codes_by_distinct=false) -%}
{%- set parties = ['tenderer', 'tender_agency', 'win_bidder', 'win_candidate'] -%}
{#- codes_by_distinct: credit codes cleaned and checked once per distinct raw code, not per cell. A code recurs in
    many bulletins (at 1 M rows ≈ 1 000 distinct codes fill 3.5 M code cells) and the GB 32100 check (17 weighted
    terms) per cell cost ≈ 1 s of CPU per year of rows in int_bulletins_deduplicated (2026-12-05: its new-year
    create 3.6 → 2.7 CPU-s, a full one 11.8 → 8.0). A row takes its cleaned code by its raw text and the check by
    the cleaned code (a NULL raw code finds no row and stays NULL, as clean_uscc(NULL) is): the same values as per
    cell, both being functions of the text alone. Not for the staging view: a query reading one of its columns
    (its not_null tests) would still pay the extra scan and eight joins the optimiser does not drop (0.5 → 4 CPU-s). -#}
{%- if codes_by_distinct %}
with code_cells as (
    {%- set code_columns = [] %}
    {%- for party in parties %}{% do code_columns.append(party ~ '_code') %}{% endfor %}
    select {{ unnest_list(list_of(code_columns)) }} as raw_code
    from {{ relation }} as code_rows
    where not coalesce(is_retired, false)
),

codes_cleaned as (
    select raw_code, {{ clean_uscc('raw_code') }} as code
    from (select distinct raw_code from code_cells where raw_code is not null) as distinct_cells
),

codes_checked as (
    select code, {{ uscc_invalid_reason('code') }} as invalid_reason
    from (select distinct code from codes_cleaned where code is not null) as distinct_codes
),

bulletins as (
{%- else %}
with bulletins as (
{%- endif %}
    select
        b.source_file,
        b.source_row,
        coalesce(b.source_part, 1)                                    as source_part,
        b.bulletin_key,
        {# deal id = the bulletin key's first part, as the loader built it (CONTRACTS §2.2) #}
        split_part(b.bulletin_key, '|', 1)                            as deal_key,
        nullif(trim(b.project_code), '')                              as project_code,
        nullif(trim(b.tender_project_code), '')                       as tender_project_code,
        nullif(trim(b.bid_section_code), '')                          as bid_section_code,
        nullif(trim(b.unified_deal_code), '')                         as unified_deal_code,
        {{ clean_name('b.bulletin_type') }}                           as bulletin_type_as_published,
        {{ clean_name('b.trade_area') }}                              as trade_area_as_published,
        {{ clean_name('b.notice_name') }}                             as notice_name,
        b.procurement_method,
        b.notice_send_time,
        {{ current_region_code('b.region_code', 'code_map') }}        as region_code,
        {{ clean_name('b.tenderer_name') }}                           as tenderer_name,
        {{ 'tenderer_code_cleaned.code' if codes_by_distinct else clean_uscc('b.tenderer_code') }} as tenderer_code,
        {{ clean_name('b.tender_agency_name') }}                      as tender_agency_name,
        {{ 'tender_agency_code_cleaned.code' if codes_by_distinct else clean_uscc('b.tender_agency_code') }} as tender_agency_code,
        cast(b.budget_amount_yuan as decimal(20, 2))                  as budget_amount_yuan,
        b.doc_get_start_time,
        b.doc_get_end_time,
        b.bid_doc_refer_end_time,
        b.bid_open_time,
        b.bidder_count,
        {{ clean_name('b.win_candidate_name') }}                      as win_candidate_name,
        {{ 'win_candidate_code_cleaned.code' if codes_by_distinct else clean_uscc('b.win_candidate_code') }} as win_candidate_code,
        b.win_candidate_order,
        b.publicity_start_time,
        b.publicity_end_time,
        {{ clean_name('b.win_bidder_name') }}                         as win_bidder_name,
        {{ 'win_bidder_code_cleaned.code' if codes_by_distinct else clean_uscc('b.win_bidder_code') }} as win_bidder_code,
        cast(b.bid_amount_yuan as decimal(20, 2))                     as bid_amount_yuan,
        b.contract_sign_time,
        {{ clean_name('b.pm_name') }}                                 as pm_name,
        nullif(upper(trim(b.pm_code)), '')                            as pm_code,
        nullif(trim(b.contact_phone), '')                             as contact_phone,
        b.notice_content,
        nullif(trim(b.url), '')                                       as url,
        {{ clean_name('b.contact_person') }}                          as contact_person,
        {{ clean_name('b.agency_contact_person') }}                   as agency_contact_person,
        nullif(trim(b.agency_contact_phone), '')                      as agency_contact_phone,
        b.buyer_conditions,
        b.other_conditions
    from {{ relation }} as b
    left join {{ ref('ref_region_code_map') }} as code_map on code_map.old_code = trim(b.region_code)
    {%- for party in parties if codes_by_distinct %}
    left join codes_cleaned as {{ party }}_code_cleaned on {{ party }}_code_cleaned.raw_code = b.{{ party }}_code
    {%- endfor %}
    where not coalesce(b.is_retired, false)
)
select
    bulletins.*,
    {#- the label's meaning in the bulletin's area (0104 交易结果公示: a sale's result, works' candidates), else in all #}
    coalesce(bulletin_types_in_area.bulletin_type_code, bulletin_types.bulletin_type_code) as bulletin_type_code,
    coalesce(bulletin_types_in_area.bulletin_type_zh, bulletin_types.bulletin_type_zh) as bulletin_type,
    coalesce(bulletin_types_in_area.sequence_no, bulletin_types.sequence_no) as bulletin_type_sequence,
    trade_areas.trade_area_code,
    trade_areas.trade_area_zh                                         as trade_area,
    {%- for party in parties %}
    {%- if codes_by_distinct %}
    {{ party }}_code_checked.invalid_reason                        as {{ party }}_uscc_invalid_reason,
    case when bulletins.{{ party }}_code is null then null
         else {{ party }}_code_checked.invalid_reason is null end   as {{ party }}_uscc_is_valid{{ ',' if not loop.last }}
    {%- else %}
    {{ uscc_columns(party ~ '_code', party) }}{{ ',' if not loop.last }}
    {%- endif %}
    {%- endfor %}
from bulletins
left join {{ ref('ref_trade_areas') }} as trade_areas
    on trade_areas.alias = bulletins.trade_area_as_published
left join {{ ref('ref_bulletin_types') }} as bulletin_types_in_area
    on bulletin_types_in_area.alias = bulletins.bulletin_type_as_published
   and bulletin_types_in_area.trade_area_code = trade_areas.trade_area_code
left join {{ ref('ref_bulletin_types') }} as bulletin_types
    on bulletin_types.alias = bulletins.bulletin_type_as_published
   and bulletin_types.trade_area_code is null
{%- for party in parties if codes_by_distinct %}
left join codes_checked as {{ party }}_code_checked on {{ party }}_code_checked.code = bulletins.{{ party }}_code
{%- endfor %}
{%- endmacro %}
