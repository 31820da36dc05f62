-- Every non-blank credit code checked against GB 32100 (IDENT_USCC_INVALID), by the one macro in
-- macros/uscc.sql (applied in staging): registry entity codes (publisher = the entity itself) and the
-- trading parties' codes (publisher = the deal's buyer, TENDERER_CODE). object_key = the code.
--
-- Incremental by load like the trading chain it reads (macros/trading_load_partitions.sql): the trading codes of the
-- rebuilt deal-year partitions only; the registry's codes, few, sit in partition -1, rewritten by every build. The
-- watermark is the newest load among the deals that hold a code: a newest file without any code is seen as changed
-- again by the next build (more work, never a wrong row).
{%- set years = trading_years_to_rebuild() %}
{{ config(pre_hook="{{ trading_clear_rebuilt_partitions(extra=[-1]) }}", **partitioned_incremental_config('partition_year')) }}
{{ trading_rebuild_marker(years) }}
with registry as (
    select
        'registry_entities' as source_table,
        'entity_code' as column_name,
        entity_code as publisher_code,
        fiscal_year,
        entity_code as code_value,
        entity_name as holder_name,
        entity_uscc_is_valid as is_valid,
        entity_uscc_invalid_reason as invalid_reason,
        cast(null as string) as deal_key,
        source_file,
        source_row,
        -1 as partition_year,
        cast(null as timestamp) as source_loaded_at
    from {{ ref('stg_registry__entities') }}
    where entity_code is not null
),

-- a cell listing several parties' codes (a consortium's members 91…1A、91…2B, joint buyers; split where OCDS splits them,
-- code_list_separators) is checked code by code: the cell as a whole is no one's code (review V1: two valid members' codes
-- were IDENT_USCC_INVALID "length 37"). One row per member code; a single code keeps staging's check.
{%- set list_separators = code_list_separators() %}
trading_cells as (
    {% for party in ['tenderer', 'tender_agency', 'win_bidder', 'win_candidate'] %}
    select
        '{{ party }}_code' as column_name,
        deals.publisher_code,
        deals.fiscal_year,
        bulletins.{{ party }}_code as code_value,
        bulletins.{{ party }}_name as holder_name,
        bulletins.{{ party }}_uscc_is_valid as is_valid,
        bulletins.{{ party }}_uscc_invalid_reason as invalid_reason,
        {{ regex_search('bulletins.' ~ party ~ '_code', list_separators) }} as is_list,
        bulletins.deal_key,
        bulletins.source_file,
        bulletins.source_row,
        deals.partition_year,
        deals.source_loaded_at
    from {{ ref('int_bulletins_deduplicated') }} as bulletins
    join {{ ref('int_deals_assembled') }} as deals using (deal_key)
    where bulletins.{{ party }}_code is not null
      and {{ in_keys('bulletins.partition_year', years) }}
      {#- a deal sits in its bulletins' partition (both take the deal's year): only the rebuilt partitions' deals are
          joined, not every deal of every year (new year at 1 M: 0.66 → 0.40 CPU-s) #}
      and {{ in_keys('deals.partition_year', years) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

listed_codes as (
    select column_name, publisher_code, fiscal_year, {{ clean_uscc('piece') }} as code_value, holder_name, deal_key,
           source_file, source_row, partition_year, source_loaded_at
    from (
        select cells.*, {{ unnest_list(filter_list(regex_split('cells.code_value', list_separators), 'c', "c <> ''")) }} as piece
        from trading_cells as cells
        where cells.is_list
    ) as cells
),

trading as (
    select 'trading_bulletins' as source_table, column_name, publisher_code, fiscal_year, code_value, holder_name,
           is_valid, invalid_reason, deal_key, source_file, source_row, partition_year, source_loaded_at
    from trading_cells
    where not is_list
    union all
    select 'trading_bulletins' as source_table, column_name, publisher_code, fiscal_year, code_value, holder_name,
           {{ uscc_invalid_reason('code_value') }} is null as is_valid, {{ uscc_invalid_reason('code_value') }} as invalid_reason,
           deal_key, source_file, source_row, partition_year, source_loaded_at
    from listed_codes
)

select 'IDENT_USCC_INVALID' as rule_id, * from registry
union all
select 'IDENT_USCC_INVALID' as rule_id, * from trading
