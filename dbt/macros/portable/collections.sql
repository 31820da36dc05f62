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
