{#- A string literal with the same value on both engines. DuckDB reads a backslash as itself and doubles a
    quote; Spark's default parser reads a backslash as an escape ('[\]' is two characters there), so both the
    backslash and the quote are escaped with one. Use for every literal holding a backslash (regex classes,
    Windows paths) — e.g. sql_string('\\s+') in Jinja gives the two characters \s followed by +. -#}
{% macro sql_string(value) -%}
{{ return(adapter.dispatch('sql_string', 'gongkai')(value)) }}
{%- endmacro %}
{% macro default__sql_string(value) -%}'{{ value | replace("'", "''") }}'{%- endmacro %}
{% macro spark__sql_string(value) -%}'{{ value | replace("\\", "\\\\") | replace("'", "\\'") }}'{%- endmacro %}
