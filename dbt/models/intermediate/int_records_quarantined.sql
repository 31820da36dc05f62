-- Records that cannot be published as they stand: kept in the warehouse (and in every dataset they do not
-- break), left out of what they would break, and reported as a finding naming the record and why.
-- One row per record and reason; `left_out_of` names the dataset or package that does not carry it
-- ('' = published as given, reported only). The publication step reads this model to leave them out.
--   QUAR_BULLETIN_NO_DATE         a bulletin without NOTICE_SEND_TIME: an OCDS release needs a date.
--   QUAR_VALUE_OUT_OF_VOCABULARY  a bulletin type or trade area outside the published vocabulary
--                                 (ref_bulletin_types / ref_trade_areas): published as given, its OCDS
--                                 tag the configured default, its trade rules not applied.
with bulletins as (
    -- only the bulletins one of the reasons below can hold, before the join to their deal: almost no bulletin does,
    -- and joining every bulletin of every year to its deal first cost a whole-table join on each build
    select bulletins.*, deals.publisher_code, deals.fiscal_year as deal_fiscal_year
    from (
        select * from {{ ref('int_bulletins_deduplicated') }}
        where notice_send_time is null
           or (bulletin_type_code is null and bulletin_type_as_published is not null)
           or (trade_area_code is null and trade_area_as_published is not null)
    ) as bulletins
    join {{ ref('int_deals_assembled') }} as deals on deals.deal_key = bulletins.deal_key
),

no_date as (
    select
        'QUAR_BULLETIN_NO_DATE' as rule_id,
        'ocds' as left_out_of,
        publisher_code,
        -- the deal's year (its first dated bulletin), else the year of any date the bulletin gives
        coalesce(deal_fiscal_year, cast(year(coalesce(doc_get_start_time, bid_doc_refer_end_time, bid_open_time,
                                                      publicity_start_time, contract_sign_time)) as integer)) as fiscal_year,
        bulletin_key as object_key,
        'notice_send_time' as column_name,
        cast(null as string) as observed_value,
        source_file,
        source_row
    from bulletins
    where notice_send_time is null
),

out_of_vocabulary as (
    select
        'QUAR_VALUE_OUT_OF_VOCABULARY' as rule_id,
        '' as left_out_of,
        bulletins.publisher_code,
        bulletins.deal_fiscal_year as fiscal_year,
        bulletins.bulletin_key as object_key,
        columns.column_name,
        case columns.column_name when 'bulletin_type' then bulletins.bulletin_type_as_published
                                 else bulletins.trade_area_as_published end as observed_value,
        bulletins.source_file,
        bulletins.source_row
    from bulletins
    join (select 'bulletin_type' as column_name union all select 'trade_area') as columns
      on case columns.column_name when 'bulletin_type' then bulletins.bulletin_type_code
                                  else bulletins.trade_area_code end is null
     and case columns.column_name when 'bulletin_type' then bulletins.bulletin_type_as_published
                                  else bulletins.trade_area_as_published end is not null
)

select * from no_date
union all
select * from out_of_vocabulary
