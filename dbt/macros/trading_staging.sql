{#- The trading staging step — rename, cast, standardise, map to closed codes — as a macro over any relation of
    raw.trading_bulletins rows: stg_trading__bulletins applies it to the whole source; int_bulletin_copies_compared
    applies it to the few rows of bulletins that arrived more than once (a view over 10 M rows is standardised in
    full before a join can filter it, ~4 min at 10 M; one definition of staging, applied where it is needed). -#}
{% macro standardise_trading_bulletins(relation) -%}
with bulletins as (
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
        b.notice_send_time,
        {{ current_region_code('b.region_code', 'code_map') }}        as region_code,
        {{ clean_name('b.tenderer_name') }}                           as tenderer_name,
        {{ clean_uscc('b.tenderer_code') }}                           as tenderer_code,
        {{ clean_name('b.tender_agency_name') }}                      as tender_agency_name,
        {{ clean_uscc('b.tender_agency_code') }}                      as tender_agency_code,
        cast(b.budget_amount_yuan as decimal(20, 2))                  as budget_amount_yuan,
        b.doc_get_start_time,
        b.doc_get_end_time,
        b.bid_doc_refer_end_time,
        b.bid_open_time,
        b.bidder_count,
        {{ clean_name('b.win_candidate_name') }}                      as win_candidate_name,
        {{ clean_uscc('b.win_candidate_code') }}                      as win_candidate_code,
        b.win_candidate_order,
        b.publicity_start_time,
        b.publicity_end_time,
        {{ clean_name('b.win_bidder_name') }}                         as win_bidder_name,
        {{ clean_uscc('b.win_bidder_code') }}                         as win_bidder_code,
        cast(b.bid_amount_yuan as decimal(20, 2))                     as bid_amount_yuan,
        b.contract_sign_time,
        {{ clean_name('b.pm_name') }}                                 as pm_name,
        nullif(upper(trim(b.pm_code)), '')                            as pm_code,
        nullif(trim(b.contact_phone), '')                             as contact_phone,
        b.notice_content,
        nullif(trim(b.url), '')                                       as url,
        {{ clean_name('b.contact_person') }}                          as contact_person,
        {{ clean_name('b.agency_contact_person') }}                   as agency_contact_person,
        nullif(trim(b.agency_contact_phone), '')                      as agency_contact_phone
    from {{ relation }} as b
    left join {{ ref('ref_region_code_map') }} as code_map on code_map.old_code = trim(b.region_code)
    where not coalesce(b.is_retired, false)
)
select
    bulletins.*,
    bulletin_types.bulletin_type_code,
    bulletin_types.bulletin_type_zh                                   as bulletin_type,
    bulletin_types.sequence_no                                        as bulletin_type_sequence,
    trade_areas.trade_area_code,
    trade_areas.trade_area_zh                                         as trade_area,
    {{ uscc_columns('tenderer_code', 'tenderer') }},
    {{ uscc_columns('tender_agency_code', 'tender_agency') }},
    {{ uscc_columns('win_bidder_code', 'win_bidder') }},
    {{ uscc_columns('win_candidate_code', 'win_candidate') }}
from bulletins
left join {{ ref('ref_bulletin_types') }} as bulletin_types
    on bulletin_types.alias = bulletins.bulletin_type_as_published
left join {{ ref('ref_trade_areas') }} as trade_areas
    on trade_areas.alias = bulletins.trade_area_as_published
{%- endmacro %}
