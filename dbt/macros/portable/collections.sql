{#- Lists and structs. DuckDB: [a, b], {'k': v}, unnest, list_filter with a lambda (1-based list index);
    Spark: array(a, b), named_struct, explode, filter with x -> (0-based). Write list positions through these,
    never a lambda's index argument. -#}

{#- A list of SQL expressions (all of one type). -#}
{% macro list_of(items) -%}
{{ return(adapter.dispatch('list_of', 'gongkai')(items)) }}
{%- endmacro %}
{% macro default__list_of(items) -%}[{{ items | join(', ') }}]{%- endmacro %}
{% macro spark__list_of(items) -%}array({{ items | join(', ') }}){%- endmacro %}

{#- A struct from a mapping of field name → SQL expression (field order as given). -#}
{% macro struct_of(fields) -%}
{{ return(adapter.dispatch('struct_of', 'gongkai')(fields)) }}
{%- endmacro %}
{% macro default__struct_of(fields) -%}
struct_pack({% for name, expr in fields.items() %}{{ name }} := {{ expr }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}
{% macro spark__struct_of(fields) -%}
named_struct({% for name, expr in fields.items() %}'{{ name }}', {{ expr }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{#- One row per list element, in a select list: `select key, {{ unnest_list('l') }} as element from t`.
    An empty or NULL list gives no row on both engines. -#}
{% macro unnest_list(list_expr) -%}
{{ return(adapter.dispatch('unnest_list', 'gongkai')(list_expr)) }}
{%- endmacro %}
{% macro default__unnest_list(list_expr) -%}unnest({{ list_expr }}){%- endmacro %}
{% macro spark__unnest_list(list_expr) -%}explode({{ list_expr }}){%- endmacro %}

{#- The elements of a list for which condition (written on `var`) holds, order kept. -#}
{% macro filter_list(list_expr, var, condition) -%}
{{ return(adapter.dispatch('filter_list', 'gongkai')(list_expr, var, condition)) }}
{%- endmacro %}
{% macro default__filter_list(list_expr, var, condition) -%}list_filter({{ list_expr }}, lambda {{ var }}: {{ condition }}){%- endmacro %}
{% macro spark__filter_list(list_expr, var, condition) -%}filter({{ list_expr }}, {{ var }} -> {{ condition }}){%- endmacro %}

{#- Is value an element of the list? -#}
{% macro list_has(list_expr, value) -%}
{{ return(adapter.dispatch('list_has', 'gongkai')(list_expr, value)) }}
{%- endmacro %}
{% macro default__list_has(list_expr, value) -%}list_contains({{ list_expr }}, {{ value }}){%- endmacro %}
{% macro spark__list_has(list_expr, value) -%}array_contains({{ list_expr }}, {{ value }}){%- endmacro %}

{#- Split text on a literal separator (no regex) into a list. -#}
{% macro split_text(expr, separator) -%}
{{ return(adapter.dispatch('split_text', 'gongkai')(expr, separator)) }}
{%- endmacro %}
{% macro default__split_text(expr, separator) -%}string_split({{ expr }}, {{ separator }}){%- endmacro %}
{% macro spark__split_text(expr, separator) -%}split({{ expr }}, concat('\\Q', {{ separator }}, '\\E'), -1){%- endmacro %}

{#- The distinct values of expr in a group as a sorted list (NULLs left out). -#}
{% macro sorted_distinct_list(expr) -%}
{{ return(adapter.dispatch('sorted_distinct_list', 'gongkai')(expr)) }}
{%- endmacro %}
{% macro default__sorted_distinct_list(expr) -%}list(distinct {{ expr }} order by {{ expr }}) filter (where {{ expr }} is not null){%- endmacro %}
{% macro spark__sorted_distinct_list(expr) -%}array_sort(collect_set({{ expr }})){%- endmacro %}

{#- The elements of a list of texts joined by sep (NULL elements left out). -#}
{% macro list_join(list_expr, sep) -%}
{{ return(adapter.dispatch('list_join', 'gongkai')(list_expr, sep)) }}
{%- endmacro %}
{% macro default__list_join(list_expr, sep) -%}array_to_string(list_filter({{ list_expr }}, lambda x: x is not null), {{ sep }}){%- endmacro %}
{% macro spark__list_join(list_expr, sep) -%}array_join({{ list_expr }}, {{ sep }}){%- endmacro %}

{#- The SQL type of a list of elem_type, for casts and contracts (DuckDB varchar[], Spark array<string>). -#}
{% macro list_type(elem_type) -%}
{{ return(adapter.dispatch('list_type', 'gongkai')(elem_type)) }}
{%- endmacro %}
{% macro default__list_type(elem_type) -%}{{ elem_type }}[]{%- endmacro %}
{% macro spark__list_type(elem_type) -%}array<{{ elem_type }}>{%- endmacro %}

{#- Number of elements; NULL for a NULL list (Spark's size gives -1 there unless ANSI mode). -#}
{% macro list_length(list_expr) -%}
{{ return(adapter.dispatch('list_length', 'gongkai')(list_expr)) }}
{%- endmacro %}
{% macro default__list_length(list_expr) -%}len({{ list_expr }}){%- endmacro %}
{% macro spark__list_length(list_expr) -%}(case when {{ list_expr }} is not null then size({{ list_expr }}) end){%- endmacro %}

{#- The list sorted ascending (no NULL elements expected: the engines place them differently). -#}
{% macro list_sorted(list_expr) -%}
{{ return(adapter.dispatch('list_sorted', 'gongkai')(list_expr)) }}
{%- endmacro %}
{% macro default__list_sorted(list_expr) -%}list_sort({{ list_expr }}){%- endmacro %}
{% macro spark__list_sorted(list_expr) -%}array_sort({{ list_expr }}){%- endmacro %}

{#- How many neighbours stand in descending order (element i > element i + 1); NULL for a list of fewer
    than two elements. Written without a lambda's index, which is 1-based on DuckDB and 0-based on Spark. -#}
{% macro count_descents(list_expr) -%}
{{ return(adapter.dispatch('count_descents', 'gongkai')(list_expr)) }}
{%- endmacro %}
{% macro default__count_descents(list_expr) -%}
list_sum(list_transform(range(1, len({{ list_expr }})), lambda i: case when {{ list_expr }}[i] > {{ list_expr }}[i + 1] then 1 else 0 end))
{%- endmacro %}
{% macro spark__count_descents(list_expr) -%}
(case when size({{ list_expr }}) >= 2 then aggregate(sequence(0, size({{ list_expr }}) - 2), 0,
    (acc, i) -> acc + case when {{ list_expr }}[i] > {{ list_expr }}[i + 1] then 1 else 0 end) end)
{%- endmacro %}

{#- One row per (name, value) of a relation's columns, each column's rows filtered before they meet the others: a
    UNION ALL of one narrow SELECT per column (portable SQL). `value_filter` is a condition on `{value}` (the
    column's expression), e.g. a cheap test that the text may hold a personal number. Why not an unpivot in the
    FROM clause: DuckDB decorrelates a lateral VALUES list (or UNNEST) into a join on every column, which cost
    72 s for 11 text columns of 1.3 M bulletins against 3.9 s for this form. -#}
{% macro columns_as_rows(relation, alias, columns, carried, name_column, value_column, where=none, value_filter=none) -%}
{%- for name, expr in columns %}
select {% for c in carried %}{{ c }}, {% endfor %}'{{ name }}' as {{ name_column }}, {{ expr }} as {{ value_column }}
from {{ relation }} as {{ alias }}
{%- set conditions = ([where] if where else []) + ([value_filter | replace('{value}', expr)] if value_filter else []) %}
{%- if conditions %}
where {{ conditions | join(' and ') }}
{%- endif %}
{%- if not loop.last %}
union all
{%- endif %}
{%- endfor %}
{%- endmacro %}
