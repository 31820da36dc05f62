{#- A string literal with the same value on both engines. DuckDB reads a backslash as itself and doubles a
    quote; Spark's default parser reads a backslash as an escape ('[\]' is two characters there), so both the
    backslash and the quote are escaped with one. Use for every literal holding a backslash (regex classes,
    Windows paths) — e.g. sql_string('\\s+') in Jinja gives the two characters \s followed by +. -#}
{% macro sql_string(value) -%}
{{ return(adapter.dispatch('sql_string', 'gongkai')(value)) }}
{%- endmacro %}
{% macro default__sql_string(value) -%}'{{ value | replace("'", "''") }}'{%- endmacro %}
{% macro spark__sql_string(value) -%}'{{ value | replace("\\", "\\\\") | replace("'", "\\'") }}'{%- endmacro %}

{#- A WHERE condition keeping the rows whose column is one of keys: true for none (no filter: a full build), false
    for an empty list, else `column in (…)` with strings as sql_string literals and numbers as they are. The rebuild
    filter of every incremental chain (budget units, trading partitions). -#}
{% macro in_keys(column, keys) -%}
  {%- if keys is none -%}
    1 = 1
  {%- elif keys | length == 0 -%}
    1 = 0
  {%- else -%}
    {{ column }} in ({% for key in keys %}{{ sql_string(key) if key is string else key }}{{ ', ' if not loop.last }}{% endfor %})
  {%- endif -%}
{%- endmacro %}
