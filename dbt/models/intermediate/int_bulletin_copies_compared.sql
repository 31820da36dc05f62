-- Every copy of every bulletin that arrived more than once, side by side with the canonical copy the
-- marts keep (int_bulletins_deduplicated): which published fields differ. The rule input of
-- TRADE_CONFLICTING_COPIES: two copies of one bulletin that state different values for a field are
-- not silently merged (RAW_FORMATS.md trading/); they are a finding naming both files.
--
-- "Differ" = both copies state the field and the standardised values are not equal (times, amounts in
-- 元, codes, names as cleaned in staging, texts with whitespace runs collapsed). A copy that leaves a
-- field blank, as a national-standard table without that column does, contradicts nothing. Each copy is compared with
-- what the kept notice states (kept_fields: a field the canonical copy leaves blank is the first copy's stating it), so
-- two copies that disagree where the kept row is blank are a conflict too.
--
-- A candidate publicity lists its candidates: a file without a rank column (WIN_CANDIDATE_ORDER, part of the key)
-- states one notice once per candidate, the rows differing only in the candidate's own fields. Those rows are that
-- notice's candidates, not copies contradicting each other; for a candidate publicity the candidate fields are
-- therefore compared as each file's list (names split at ；/、, distinct): a flat export naming all candidates in
-- one cell agrees with an export listing them one per row; two files naming different candidates differ. Every
-- other field is compared copy by copy, in one file as across exports (is_same_file says which).
-- Only bulletins with copies are standardised here (staging's own macro on their raw rows), so this stays small
-- at 10 M rows.
{#- the fields compared, the candidate's own fields (compared as each file's list, file_candidates) and figures (each
    row of a publicity listing one candidate per row states its candidate's, so rows of the kept copy's own file are
    not compared on them; copies in other exports are): macros/trading_candidates.sql -#}
{% set fields = trading_copy_fields() %}
{% set compared = fields['compared'] %}
{% set candidate_fields, candidate_own_figures = fields['candidate_fields'], fields['candidate_own_figures'] %}
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

-- what the kept notice states, the field a copy is compared with: the canonical copy's, a field it leaves blank taken
-- from the first copy stating it in the rule's order (the kept export's rows first: as int_bulletins_deduplicated's
-- listed_notice reads a notice). Compared with the canonical row alone, two copies stating different values where the
-- kept row states none contradicted nothing — a third copy conflicting with the second went unreported
{%- set own = candidate_fields + candidate_own_figures %}
-- Only copies of the kept notice's own version lend it a field (review V1 item 10: a corrected version's publicity end
-- filled the kept row's blank, and a copy of the kept version stating another end was a false conflict): a copy that
-- contradicts the kept row on some field is another version (itself a conflict, reported). <field>__from names the
-- copy a lent field came from, for the finding's wording.
kept_fields as (
    select canonical.bulletin_key
    {%- for column in compared if column not in own %}
        {%- set lender_key = ['case when copies.' ~ column ~ ' is not null then '
            ~ trading_copy_position('copies.export_rank', 'copies.source_row', 'copies.source_part') ~ ' end'] %},
        coalesce(max(canonical.{{ column }}), {{ arg_min_by('copies.' ~ column, lender_key) }}) as {{ column }},
        case when max(canonical.{{ column }}) is null
             then {{ arg_min_by("copies.source_file || ' #' || cast(copies.source_row as string)", lender_key) }}
        end as {{ column }}__from
    {%- endfor %}
    from canonical
    join copies on copies.bulletin_key = canonical.bulletin_key
    where {{ trading_same_notice('copies', 'canonical') }}
    group by canonical.bulletin_key
),

-- each file's candidates of a repeated candidate publicity, per candidate field: the distinct values, a cell listing
-- several split into its units at ；/、 — the same firms in the same roles whether a consortium's members share a cell
-- (甲（牵头人）、乙（成员）；丙) or each has a row (review R4: comparing candidate_items against rows was a false
-- conflict); a consortium written 甲、乙联合体 keeps its mark on its last unit, so it still differs from 甲；乙. In the kept copy's file
-- only the rows of the kept notice (trading_same_notice): a second version of it in that file, which conflicts, does
-- not lend the kept one its candidates
candidate_rows as (
    select copies.*
    from copies
    join canonical on canonical.bulletin_key = copies.bulletin_key
    where copies.bulletin_type_code = 'candidates'
      and (copies.source_file <> canonical.source_file or {{ trading_same_notice('copies', 'canonical') }})
),

file_candidate_values as (
    select bulletin_key, source_file, field, {{ comparable_text('item') }} as item
    from (
        {%- for column in candidate_fields %}
        {% if not loop.first %}union all {% endif -%}
        select bulletin_key, source_file, '{{ column }}' as field,
               {{ unnest_list(regex_split(column, "'[;；、]'")) }} as item
        from candidate_rows
        where {{ column }} is not null
        {%- endfor %}
    ) as items
),

file_candidates as (
    select
        bulletin_key,
        source_file
        {%- for column in candidate_fields %},
        {{ sorted_distinct_list("case when field = '" ~ column ~ "' and item <> '' then item end") }} as {{ column }}_list,
        count(case when field = '{{ column }}' and item <> '' then 1 end) as {{ column }}_n
        {%- endfor %}
    from file_candidate_values
    group by bulletin_key, source_file
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
            {%- if column in candidate_fields %}
            case when copies.bulletin_type_code = 'candidates'
                 then case when copy_candidates.{{ column }}_n > 0 and kept_candidates.{{ column }}_n > 0
                            and copy_candidates.{{ column }}_list <> kept_candidates.{{ column }}_list
                           then '{{ column }}' end
                 when {{ trading_field_differs(column, 'copies', 'canonical') }} then '{{ column }}' end
            {%- elif column in candidate_own_figures %}
            case when copies.bulletin_type_code = 'candidates' and copies.source_file = canonical.source_file then null
                 when {{ trading_field_differs(column, 'copies', 'canonical') }} then '{{ column }}' end
            {%- else %}
            case when {{ trading_field_differs(column, 'copies', 'kept_fields') }} then '{{ column }}' end
            {%- endif %}
        {%- endfor %}
        ) as differing_fields,
        -- the fields a copy was compared on that the kept row leaves blank: the copy that stated them (kept_fields)
        concat_ws('; '
        {%- for column in compared if column not in candidate_fields and column not in candidate_own_figures %},
            case when kept_fields.{{ column }}__from is not null and {{ trading_field_differs(column, 'copies', 'kept_fields') }}
                 then '{{ column }} ← ' || kept_fields.{{ column }}__from end
        {%- endfor %}
        ) as lent_fields
    from copies
    join canonical on canonical.bulletin_key = copies.bulletin_key
    join kept_fields on kept_fields.bulletin_key = copies.bulletin_key
    left join file_candidates as copy_candidates
        on copy_candidates.bulletin_key = copies.bulletin_key and copy_candidates.source_file = copies.source_file
    left join file_candidates as kept_candidates
        on kept_candidates.bulletin_key = canonical.bulletin_key and kept_candidates.source_file = canonical.source_file
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
    compared.source_file = compared.canonical_file as is_same_file,
    nullif(compared.differing_fields, '') as differing_fields,
    nullif(compared.lent_fields, '') as lent_fields,
    not compared.is_canonical and compared.differing_fields <> '' as is_conflicting
from compared
left join {{ ref('int_deals_assembled') }} as deals on deals.deal_key = compared.deal_key
