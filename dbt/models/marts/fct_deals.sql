-- One row per deal with its assembled timeline (see int_deals_assembled).
-- Incremental by load like the chain it copies: the rebuilt deal-year partitions only
-- (macros/trading_load_partitions.sql).
{%- set years = trading_years_to_rebuild() %}
{{ config(pre_hook="{{ trading_clear_rebuilt_partitions() }}", **partitioned_incremental_config('partition_year')) }}
{{ trading_rebuild_marker(years) }}
select
    cast(deal_key as string) as deal_key,
    cast(project_code as string) as project_code,
    cast(bid_section_code as string) as bid_section_code,
    cast(unified_deal_code as string) as unified_deal_code,
    cast(trade_area_code as string) as trade_area_code,
    cast(trade_area as string) as trade_area,
    cast(region_code as string) as region_code,
    cast(tenderer_name as string) as tenderer_name,
    cast(tenderer_code as string) as tenderer_code,
    cast(tender_agency_name as string) as tender_agency_name,
    cast(tender_agency_code as string) as tender_agency_code,
    cast(fiscal_year as integer) as fiscal_year,
    cast(announcement_name as string) as announcement_name,
    cast(announced_at as timestamp) as announced_at,
    cast(doc_get_start_at as timestamp) as doc_get_start_at,
    cast(doc_get_end_at as timestamp) as doc_get_end_at,
    cast(bid_deadline_at as timestamp) as bid_deadline_at,
    cast(bid_open_at as timestamp) as bid_open_at,
    cast(candidates_published_at as timestamp) as candidates_published_at,
    cast(publicity_start_at as timestamp) as publicity_start_at,
    cast(publicity_end_at as timestamp) as publicity_end_at,
    cast(result_published_at as timestamp) as result_published_at,
    cast(contract_signed_at as timestamp) as contract_signed_at,
    cast(contract_published_at as timestamp) as contract_published_at,
    cast(budget_amount_yuan as decimal(20, 2)) as budget_amount_yuan,
    cast(bid_amount_yuan as decimal(20, 2)) as bid_amount_yuan,
    cast(bidder_count as integer) as bidder_count,
    cast(candidate_count as integer) as candidate_count,
    cast(win_bidder_name as string) as win_bidder_name,
    cast(win_bidder_code as string) as win_bidder_code,
    cast(has_announcement as boolean) as has_announcement,
    cast(has_result as boolean) as has_result,
    cast(bulletin_count as integer) as bulletin_count,
    cast(partition_year as integer) as partition_year,
    cast(source_loaded_at as timestamp) as source_loaded_at
from {{ ref('int_deals_assembled') }}
where {{ in_keys('partition_year', years) }}
