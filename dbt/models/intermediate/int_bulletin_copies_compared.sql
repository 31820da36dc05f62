-- Every copy of every bulletin that arrived more than once, side by side with the canonical copy the
-- marts keep (int_bulletins_deduplicated): which published fields differ. The rule input of
-- TRADE_CONFLICTING_COPIES: two copies of one bulletin that state different values for a field are
-- not silently merged (RAW_FORMATS.md trading/); they are a finding naming both files.
--
-- "Differ" = both copies state the field and the standardised values are not equal (times, amounts in
-- 元, codes, names as cleaned in staging, texts with whitespace runs collapsed). A copy that leaves a
-- field blank, as a national-standard table without that column does, contradicts nothing.
-- Only bulletins with copies are standardised here (staging's own macro on their raw rows), so this stays small
-- at 10 M rows.
{% set compared = [
    'trade_area_code', 'notice_name', 'region_code', 'tenderer_name', 'tenderer_code', 'tender_agency_name',
    'tender_agency_code', 'budget_amount_yuan', 'doc_get_start_time', 'doc_get_end_time', 'bid_doc_refer_end_time',
    'bid_open_time', 'bidder_count', 'win_candidate_name', 'win_candidate_code', 'publicity_start_time',
    'publicity_end_time', 'win_bidder_name', 'win_bidder_code', 'bid_amount_yuan', 'contract_sign_time',
    'pm_name', 'pm_code', 'contact_phone', 'notice_content', 'url'] %}
{% set free_text = ['notice_name', 'notice_content', 'win_candidate_name'] %}
with canonical as (
    select * from {{ ref('int_bulletins_deduplicated') }} where copies > 1
),

exports as (
    select * from {{ ref('stg_trading__exports') }}
),

-- the raw rows of repeated bulletins only, standardised exactly as staging does
raw_copies as (
    select raw_rows.*
    from {{ source('trading', 'trading_bulletins') }} as raw_rows
    where not coalesce(raw_rows.is_retired, false)
      and raw_rows.bulletin_key in (select bulletin_key from canonical)
),

standardised as (
    {{ standardise_trading_bulletins('raw_copies') }}
),

copies as (
    select standardised.*, exports.export_time, exports.export_rank
    from standardised
    join exports on exports.source_file = standardised.source_file
),

compared as (
    select
        copies.bulletin_key,
        copies.deal_key,
        copies.source_file,
        copies.source_row,
        copies.source_part,
        copies.export_time,
        copies.export_rank,
        copies.source_file = canonical.source_file
            and copies.source_row = canonical.source_row
            and copies.source_part = canonical.source_part as is_canonical,
        canonical.source_file as canonical_file,
        canonical.source_row as canonical_row,
        concat_ws(', '
        {%- for column in compared %},
            case when copies.{{ column }} is not null and canonical.{{ column }} is not null
                  and {% if column in free_text %}{{ comparable_text('copies.' ~ column) }} <> {{ comparable_text('canonical.' ~ column) }}{% else %}copies.{{ column }} <> canonical.{{ column }}{% endif %}
                 then '{{ column }}' end
        {%- endfor %}
        ) as differing_fields
    from copies
    join canonical on canonical.bulletin_key = copies.bulletin_key
)

select
    compared.bulletin_key,
    compared.deal_key,
    deals.publisher_code,
    deals.fiscal_year,
    compared.source_file,
    compared.source_row,
    compared.source_part,
    compared.export_time,
    compared.export_rank,
    compared.is_canonical,
    compared.canonical_file,
    compared.canonical_row,
    nullif(compared.differing_fields, '') as differing_fields,
    not compared.is_canonical and compared.differing_fields <> '' as is_conflicting
from compared
left join {{ ref('int_deals_assembled') }} as deals on deals.deal_key = compared.deal_key
