{#- dbt's built-in `unique` test, the same failing rows (unique_field, n_records) found in two passes, as the
    project's unique_combination_of_columns does: rows are first grouped by a 64-bit hash of the value (one
    integer key instead of the text), and only the values whose hash occurs more than once are grouped by the
    value itself. A hash collision alone is never reported. The root project's default__test_unique is the one
    dbt dispatches to for the `dbt` namespace (an adapter's own spark__test_unique, if any, still wins on Spark). -#}
{% macro default__test_unique(model, column_name) %}
select
    {{ column_name }} as unique_field,
    count(*) as n_records
from {{ model }}
where {{ column_name }} is not null
  and {{ hash64(column_name) }} in (
    select value_hash
    from (
        select {{ hash64(column_name) }} as value_hash
        from {{ model }}
        where {{ column_name }} is not null
    ) as hashed
    group by value_hash
    having count(*) > 1
)
group by {{ column_name }}
having count(*) > 1
{% endmacro %}
