{#- Text of a group's values joined by sep in the order of order_by (a list of SQL expressions, NULLs
    last); NULL values are left out. The value itself breaks ties, so the text is the same on both engines
    (dbt.listagg ignores order_by on Spark). -#}
{% macro ordered_string_agg(expr, sep, order_by) -%}
{{ return(adapter.dispatch('ordered_string_agg', 'gongkai')(expr, sep, order_by)) }}
{%- endmacro %}
{% macro default__ordered_string_agg(expr, sep, order_by) -%}
string_agg({{ expr }}, {{ sep }} order by {% for o in order_by %}{{ o }} nulls last, {% endfor %}{{ expr }})
{%- endmacro %}
{% macro spark__ordered_string_agg(expr, sep, order_by) -%}
listagg({{ expr }}, {{ sep }}) within group (order by {% for o in order_by %}{{ o }} nulls last, {% endfor %}{{ expr }})
{%- endmacro %}

{#- The value of expr on the row with the least order_by; ties broken by the least expr, so the
    result does not depend on the order rows arrive in (min_by alone picks any of the tied rows). -#}
{% macro arg_min_stable(expr, order_by) -%}
{{ return(adapter.dispatch('arg_min_stable', 'gongkai')(expr, order_by)) }}
{%- endmacro %}
{% macro default__arg_min_stable(expr, order_by) -%}
min_by({{ expr }}, struct_pack(k := {{ order_by }}, v := {{ expr }}))
{%- endmacro %}
{% macro spark__arg_min_stable(expr, order_by) -%}
min_by({{ expr }}, named_struct('k', {{ order_by }}, 'v', {{ expr }}))
{%- endmacro %}

{#- A 64-bit hash of a text, for fingerprints compared for equality on one engine (the values differ
    between engines: DuckDB's hash, Spark's xxhash64). -#}
{% macro hash64(expr) -%}
{{ return(adapter.dispatch('hash64', 'gongkai')(expr)) }}
{%- endmacro %}
{% macro default__hash64(expr) -%}hash({{ expr }}){%- endmacro %}
{% macro spark__hash64(expr) -%}xxhash64({{ expr }}){%- endmacro %}

{#- The value of expr on the row with the least keys (a list of SQL expressions compared in order), as
    DuckDB's arg_min does it: rows where expr or the first key is NULL are left out (Spark's min_by keeps a
    NULL expr); the further keys break ties and must not be NULL. With one key, ties are left to the engine. -#}
{% macro arg_min_by(expr, keys) -%}
{{ return(adapter.dispatch('arg_min_by', 'gongkai')(expr, keys)) }}
{%- endmacro %}
{% macro default__arg_min_by(expr, keys) -%}{{ default__arg_extreme_by('min', expr, keys) }}{%- endmacro %}
{% macro spark__arg_min_by(expr, keys) -%}{{ spark__arg_extreme_by('min', expr, keys) }}{%- endmacro %}

{#- The value of expr on the row with the greatest keys: arg_min_by's mirror, with the same rule on both engines
    (rows whose expr or first key is NULL are left out; further keys break ties and must not be NULL). -#}
{% macro arg_max_by(expr, keys) -%}
{{ return(adapter.dispatch('arg_max_by', 'gongkai')(expr, keys)) }}
{%- endmacro %}
{% macro default__arg_max_by(expr, keys) -%}{{ default__arg_extreme_by('max', expr, keys) }}{%- endmacro %}
{% macro spark__arg_max_by(expr, keys) -%}{{ spark__arg_extreme_by('max', expr, keys) }}{%- endmacro %}

{#- arg_min_by and arg_max_by on each engine, written once: extreme is 'min' or 'max' (DuckDB's arg_min/arg_max,
    Spark's min_by/max_by). -#}
{% macro default__arg_extreme_by(extreme, expr, keys) -%}
{%- if keys | length == 1 -%}
arg_{{ extreme }}({{ expr }}, {{ keys[0] }})
{%- else -%}
arg_{{ extreme }}({{ expr }}, case when {{ keys[0] }} is not null then struct_pack({% for k in keys %}k{{ loop.index }} := {{ k }}{% if not loop.last %}, {% endif %}{% endfor %}) end)
{%- endif -%}
{%- endmacro %}
{% macro spark__arg_extreme_by(extreme, expr, keys) -%}
{%- if keys | length == 1 -%}
{{ extreme }}_by({{ expr }}, case when {{ expr }} is not null then {{ keys[0] }} end)
{%- else -%}
{{ extreme }}_by({{ expr }}, case when {{ expr }} is not null and {{ keys[0] }} is not null then named_struct({% for k in keys %}'k{{ loop.index }}', {{ k }}{% if not loop.last %}, {% endif %}{% endfor %}) end)
{%- endif -%}
{%- endmacro %}
