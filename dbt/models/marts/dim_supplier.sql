-- Suppliers (winners and ranked candidates) by credit code; the name most often used for the code.
with parties as (
    select win_bidder_code as supplier_code, win_bidder_name as supplier_name, win_bidder_uscc_is_valid as uscc_is_valid,
           win_bidder_uscc_invalid_reason as uscc_invalid_reason, 1 as is_win
    from {{ ref('int_bulletins_deduplicated') }} where win_bidder_code is not null
    union all
    select win_candidate_code, win_candidate_name, win_candidate_uscc_is_valid, win_candidate_uscc_invalid_reason, 0
    from {{ ref('int_bulletins_deduplicated') }} where win_candidate_code is not null
)
select
    cast(supplier_code as string) as supplier_code,
    cast(mode(supplier_name) as string) as supplier_name,
    cast(bool_and(uscc_is_valid) as boolean) as uscc_is_valid,
    cast(min(uscc_invalid_reason) as string) as uscc_invalid_reason,
    cast(count(distinct supplier_name) as integer) as name_variants,
    cast(sum(is_win) as integer) as award_bulletins
from parties
group by supplier_code
