{#- Helpers of the one identity check (int_reconciliation_checks reads seeds/ref_line_identities.csv).
    Kept portable: membership in a '|' list by LIKE, regexes through macros/portable/regex.sql. -#}

{#- Is `value` one of the '|'-separated entries of `list_expr` ('*' = any)? A '-' prefix on an entry
    (a subtracted part) still counts as membership; see list_sign for the sign. -#}
{% macro in_pipe_list(value, list_expr) -%}
({{ list_expr }} = '*'
 or ('|' || {{ list_expr }} || '|') like ('%|' || {{ value }} || '|%')
 or ('|' || {{ list_expr }} || '|') like ('%|-' || {{ value }} || '|%'))
{%- endmacro %}

{#- +1 or -1: the sign an entry carries in a '|' list ('-key' is subtracted). -#}
{% macro list_sign(value, list_expr) -%}
(case when ('|' || {{ list_expr }} || '|') like ('%|-' || {{ value }} || '|%') then -1 else 1 end)
{%- endmacro %}

{#- Row keys that name a position (a row per year), not an item: such rows keep column-layout items. -#}
{% macro positional_row_keys() -%}('current_year', 'prior_year'){%- endmacro %}

{#- A line label as compared with a selector: numbering (一、 (一) 1.) and every space removed. -#}
{% macro label_key(expr) -%}
{{ regex_replace_all(regex_replace_anchored("coalesce(" ~ expr ~ ", '')", "'^([一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十0-9]+[)）]|[0-9]+[、.．])'", "''"), "'[ \t　]'", "''") }}
{%- endmacro %}

{#- A classification name as compared across years: label key without parentheses and a final 支出. -#}
{% macro class_name_key(expr) -%}
{{ regex_replace_anchored(regex_replace_all(label_key(expr), "'[()（）]'", "''"), "'支出$'", "''") }}
{%- endmacro %}
