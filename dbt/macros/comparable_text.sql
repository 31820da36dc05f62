{#- Text as two copies of one bulletin are compared: runs of whitespace (line breaks, full-width spaces)
    count as one space, ends trimmed — an export that re-wraps 公告内容 has not changed it.
    The class is written out (tab, line feed, form feed, carriage return, space, ideographic space): RE2's \s
    and Java's \s differ (Java's holds the vertical tab), and POSIX [[:space:]] is not Java syntax. -#}
{% macro comparable_text(expr) -%}
trim({{ regex_replace_all(expr, sql_string('[\\t\\n\\f\\r 　]+'), "' '") }})
{%- endmacro %}
