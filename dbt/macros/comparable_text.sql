{#- Text as two copies of one bulletin are compared: runs of whitespace (line breaks, full-width spaces)
    count as one space, ends trimmed — an export that re-wraps 公告内容 has not changed it.
    DuckDB needs the 'g' flag to replace every run; Spark's regexp_replace always does (STACK_NOTES). -#}
{% macro comparable_text(expr) -%}
{{ return(adapter.dispatch('comparable_text')(expr)) }}
{%- endmacro %}

{% macro default__comparable_text(expr) -%}
trim(regexp_replace({{ expr }}, '[[:space:]　]+', ' '))
{%- endmacro %}

{% macro duckdb__comparable_text(expr) -%}
trim(regexp_replace({{ expr }}, '[\s　]+', ' ', 'g'))
{%- endmacro %}
