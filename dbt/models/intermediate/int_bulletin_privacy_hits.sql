-- Personal data found in the free text of trading bulletins (PRIV_*): the trading part of int_privacy_hits, apart
-- because it is the costly part (every text of every bulletin; the longest model at 10 M bulletins) and can be built
-- incrementally by load like the bulletins it reads: only the rebuilt deal-year partitions are scanned
-- (macros/trading_load_partitions.sql). Texts looked into: title, content, contact, the names of buyer, agency,
-- winner, candidates and project manager, and the national standard's contact persons and agency phone (never
-- published themselves), a listing's conditions (750 BUYER_POSTULATE / OTHER_CONDITIONS). PM_CODE is an ID field by definition: never a finding here (it is masked in extracts).
-- Texts that cannot hold a personal number are dropped first (a cheap test): almost every notice is such a text.
{%- set years = trading_years_to_rebuild() %}
{#- partition -1 holds one marker row (below), rewritten by every build -#}
{{ config(pre_hook="{{ trading_clear_rebuilt_partitions(extra=[-1]) }}", **partitioned_incremental_config('partition_year')) }}
{{ trading_rebuild_marker(years) }}
with bulletin_texts as (
    {{ columns_as_rows(ref('int_bulletins_deduplicated'), 'bulletins', [
        ('notice_name', 'bulletins.notice_name'),
        ('notice_content', 'bulletins.notice_content'),
        ('contact_phone', 'bulletins.contact_phone'),
        ('tenderer_name', 'bulletins.tenderer_name'),
        ('tender_agency_name', 'bulletins.tender_agency_name'),
        ('win_bidder_name', 'bulletins.win_bidder_name'),
        ('win_candidate_name', 'bulletins.win_candidate_name'),
        ('pm_name', 'bulletins.pm_name'),
        ('contact_person', 'bulletins.contact_person'),
        ('agency_contact_person', 'bulletins.agency_contact_person'),
        ('agency_contact_phone', 'bulletins.agency_contact_phone'),
        ('buyer_conditions', 'bulletins.buyer_conditions'),
        ('other_conditions', 'bulletins.other_conditions')],
        ['bulletins.bulletin_key', 'bulletins.deal_key', 'bulletins.source_file', 'bulletins.source_row'], 'column_name', 'text_value',
        where=in_keys('bulletins.partition_year', years),
        value_filter=personal_number_prefilter('{value}')) | indent(4) }}
),

texts as (
    select
        bulletin_texts.bulletin_key,
        bulletin_texts.deal_key,
        deals.publisher_code,
        deals.fiscal_year,
        -- privacy findings are reported per deal (CONTRACTS.md §3)
        bulletin_texts.deal_key as object_key,
        bulletin_texts.column_name,
        bulletin_texts.text_value,
        bulletin_texts.source_file,
        bulletin_texts.source_row,
        deals.partition_year,
        deals.source_loaded_at
    from bulletin_texts
    join {{ ref('int_deals_assembled') }} as deals on deals.deal_key = bulletin_texts.deal_key
),

hits as (
    select texts.*, {{ unnest_list(personal_number_hits('texts.text_value')) }} as hit
    from texts
)

select
    bulletin_key,
    deal_key,
    publisher_code,
    fiscal_year,
    object_key,
    {{ privacy_rule_id('hit.kind') }} as rule_id,
    column_name,
    hit.kind as kind,
    hit.masked as masked_match,
    source_file,
    cast(null as string) as sheet,
    source_row,
    partition_year,
    source_loaded_at
from hits
union all
-- One marker row (rule_id NULL; int_privacy_hits leaves it out) in partition -1, rewritten by every build: the newest
-- load time among all deals, so the table's watermark follows the loads although most deals (and perhaps whole
-- years) have no hit. Per rebuilt partition it would be wrong: a year whose only deals vanished holds no hit that
-- names it, so it would not be rebuilt and would keep a stale marker.
select
    null, null, null, null, null, null, null, null, null, null, null, null,
    -1,
    max(source_loaded_at)
from {{ ref('int_deals_assembled') }}
