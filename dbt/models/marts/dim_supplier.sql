-- Suppliers (winners and ranked candidates) by credit code; the name most often used for the code.
with parties as (
    select win_bidder_code as supplier_code, win_bidder_name as supplier_name, win_bidder_uscc_is_valid as uscc_is_valid,
           win_bidder_uscc_invalid_reason as uscc_invalid_reason, 1 as is_win
    from {{ ref('int_bulletins_deduplicated') }} where win_bidder_code is not null
    union all
    select win_candidate_code, win_candidate_name, win_candidate_uscc_is_valid, win_candidate_uscc_invalid_reason, 0
    from {{ ref('int_bulletins_deduplicated') }} where win_candidate_code is not null
),

-- the name used most often for the code; a tie goes to the first name in sort order (mode() picks any of
-- the tied names, and not the same one on every engine)
names as (
    select supplier_code, supplier_name
    from (select supplier_code, supplier_name, count(*) as uses from parties
          where supplier_name is not null group by supplier_code, supplier_name) as counted
    qualify row_number() over (partition by supplier_code order by uses desc, supplier_name) = 1
)

select
    cast(parties.supplier_code as string) as supplier_code,
    cast(any_value(names.supplier_name) as string) as supplier_name,
    cast(bool_and(parties.uscc_is_valid) as boolean) as uscc_is_valid,
    cast(min(parties.uscc_invalid_reason) as string) as uscc_invalid_reason,
    cast(count(distinct parties.supplier_name) as integer) as name_variants,
    cast(sum(parties.is_win) as integer) as award_bulletins
from parties
left join names on names.supplier_code = parties.supplier_code
group by parties.supplier_code
