-- One row per bulletin (deduplicated across exports; source_files lists every copy's file).
-- Incremental by load like the chain it copies: the rebuilt deal-year partitions only
-- (macros/trading_load_partitions.sql).
{%- set years = trading_years_to_rebuild() %}
{{ config(pre_hook="{{ trading_clear_rebuilt_partitions() }}", **partitioned_incremental_config('partition_year')) }}
{{ trading_rebuild_marker(years) }}
select
    cast(bulletin_key as string) as bulletin_key,
    cast(deal_key as string) as deal_key,
    cast(bulletin_type_code as string) as bulletin_type_code,
    cast(coalesce(bulletin_type, bulletin_type_as_published) as string) as bulletin_type,
    cast(trade_area_code as string) as trade_area_code,
    cast(coalesce(trade_area, trade_area_as_published) as string) as trade_area,
    cast(project_code as string) as project_code,
    cast(bid_section_code as string) as bid_section_code,
    cast(unified_deal_code as string) as unified_deal_code,
    cast(notice_name as string) as notice_name,
    cast(notice_send_time as timestamp) as notice_send_time,
    cast(region_code as string) as region_code,
    cast(tenderer_name as string) as tenderer_name,
    cast(tenderer_code as string) as tenderer_code,
    cast(tender_agency_name as string) as tender_agency_name,
    cast(tender_agency_code as string) as tender_agency_code,
    cast(budget_amount_yuan as decimal(20, 2)) as budget_amount_yuan,
    cast(doc_get_start_time as timestamp) as doc_get_start_time,
    cast(doc_get_end_time as timestamp) as doc_get_end_time,
    cast(bid_doc_refer_end_time as timestamp) as bid_doc_refer_end_time,
    cast(bid_open_time as timestamp) as bid_open_time,
    cast(win_candidate_name as string) as win_candidate_name,
    cast(win_candidate_code as string) as win_candidate_code,
    cast(win_candidate_order as integer) as win_candidate_order,
    cast(publicity_start_time as timestamp) as publicity_start_time,
    cast(publicity_end_time as timestamp) as publicity_end_time,
    cast(bid_amount_yuan as decimal(20, 2)) as bid_amount_yuan,
    cast(win_bidder_name as string) as win_bidder_name,
    cast(win_bidder_code as string) as win_bidder_code,
    cast(bidder_count as integer) as bidder_count,
    cast(contract_sign_time as timestamp) as contract_sign_time,
    cast(pm_name as string) as pm_name,
    cast(pm_code as string) as pm_code,
    cast(contact_phone as string) as contact_phone,
    cast(notice_content as string) as notice_content,
    cast(url as string) as url,
    cast(source_file as string) as source_file,
    cast(source_row as integer) as source_row,
    cast(source_files as {{ list_type('string') }}) as source_files,
    cast(copies as integer) as copies,
    cast(partition_year as integer) as partition_year,
    cast(source_loaded_at as timestamp) as source_loaded_at
from {{ ref('int_bulletins_deduplicated') }}
where {{ in_keys('partition_year', years) }}
