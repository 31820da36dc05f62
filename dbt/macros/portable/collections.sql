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

{#- One row per (name, value) of a row's columns — an unpivot written right after `from <relation> as <a>`
    (nothing may follow it but where/group by): `from t as b {{ lateral_columns([('title', 'b.title'), …],
    'c', 'column_name', 'text_value') }}`, then c.column_name, c.text_value. Values of one type.
    DuckDB: a lateral VALUES list; Spark: LATERAL VIEW stack (its inline tables cannot read the outer row). -#}
{% macro lateral_columns(columns, alias, name_column, value_column) -%}
{{ return(adapter.dispatch('lateral_columns', 'gongkai')(columns, alias, name_column, value_column)) }}
{%- endmacro %}
{% macro default__lateral_columns(columns, alias, name_column, value_column) -%}
cross join lateral (
    values {% for name, expr in columns %}('{{ name }}', {{ expr }}){% if not loop.last %}, {% endif %}{% endfor %}
) as {{ alias }}({{ name_column }}, {{ value_column }})
{%- endmacro %}
{% macro spark__lateral_columns(columns, alias, name_column, value_column) -%}
lateral view stack({{ columns | length }}{% for name, expr in columns %}, '{{ name }}', {{ expr }}{% endfor %}) {{ alias }} as {{ name_column }}, {{ value_column }}
{%- endmacro %}
