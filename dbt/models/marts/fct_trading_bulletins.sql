-- One row per bulletin (deduplicated across exports; source_files lists every copy's file).
-- A view: the rows are int_bulletins_deduplicated's, projected to the contract's columns and types (no filter, no
-- join), so a stored copy would be a second write of the same wide rows — at 1 M rows one new year's build spent
-- ≈ 4 s loaded inserting them, plus their delete and checkpoint (RESULTS, 16N/16N2). That table is incremental by
-- deal-year partition (macros/trading_load_partitions.sql); this view follows it with no build of its own.
{{ config(materialized='view') }}
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
    -- every candidate a publicity exported one candidate per row names (int_bulletins_deduplicated.candidate_names)
    cast(coalesce(candidate_names, win_candidate_name) as string) as win_candidate_name,
    -- and their codes, position for position (a consortium's members' codes joined by 、, units at ；); where the rows
    -- are listed and no candidate got a code paired, none: the kept row's own cell split against every row's names gave
    -- a code to a firm it was not written beside (review V6 item 1)
    cast(case when candidate_names is not null then candidate_codes else win_candidate_code end as string)
        as win_candidate_code,
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
