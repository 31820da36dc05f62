{#- Regular expressions on both engines (DuckDB: RE2; Spark: java.util.regex). Patterns are SQL expressions:
    write literal patterns with sql_string() so a backslash survives Spark's parser ('\s' → '\\s').
    Differences these hide: DuckDB's regexp_replace replaces the first match unless given 'g', Spark's always
    replaces all (and returns NULL when given a flag); Spark's regexp_extract takes group 1 by default;
    DuckDB's regexp_matches / regexp_full_match do not exist in Spark. Keep to the syntax both dialects
    share (classes, quantifiers, anchors, groups; no look-around, no \z). -#}

{#- Partial match: true when the pattern matches anywhere in expr. -#}
{% macro regex_search(expr, pattern) -%}
{{ return(adapter.dispatch('regex_search', 'gongkai')(expr, pattern)) }}
{%- endmacro %}
{% macro default__regex_search(expr, pattern) -%}regexp_matches({{ expr }}, {{ pattern }}){%- endmacro %}
{% macro spark__regex_search(expr, pattern) -%}({{ expr }} rlike {{ pattern }}){%- endmacro %}

{#- Whole-string match. Spark: anchored with \z, since Java's $ also matches before a final line break. -#}
{% macro regex_full_match(expr, pattern) -%}
{{ return(adapter.dispatch('regex_full_match', 'gongkai')(expr, pattern)) }}
{%- endmacro %}
{% macro default__regex_full_match(expr, pattern) -%}regexp_full_match({{ expr }}, {{ pattern }}){%- endmacro %}
{% macro spark__regex_full_match(expr, pattern) -%}
({{ expr }} rlike concat('^(?:', {{ pattern }}, ')\\z'))
{%- endmacro %}

{#- Replace every match. -#}
{% macro regex_replace_all(expr, pattern, replacement) -%}
{{ return(adapter.dispatch('regex_replace_all', 'gongkai')(expr, pattern, replacement)) }}
{%- endmacro %}
{% macro default__regex_replace_all(expr, pattern, replacement) -%}regexp_replace({{ expr }}, {{ pattern }}, {{ replacement }}, 'g'){%- endmacro %}
{% macro spark__regex_replace_all(expr, pattern, replacement) -%}regexp_replace({{ expr }}, {{ pattern }}, {{ replacement }}){%- endmacro %}

{#- The first match (group 0) or one of its groups; '' when nothing matches (as both engines do). -#}
{% macro regex_extract(expr, pattern, group=0) -%}
{{ return(adapter.dispatch('regex_extract', 'gongkai')(expr, pattern, group)) }}
{%- endmacro %}
{% macro default__regex_extract(expr, pattern, group) -%}regexp_extract({{ expr }}, {{ pattern }}, {{ group }}){%- endmacro %}
{% macro spark__regex_extract(expr, pattern, group) -%}regexp_extract({{ expr }}, {{ pattern }}, {{ group }}){%- endmacro %}

{#- Split text on a pattern into a list (empty pieces kept, as both engines do). -#}
{% macro regex_split(expr, pattern) -%}
{{ return(adapter.dispatch('regex_split', 'gongkai')(expr, pattern)) }}
{%- endmacro %}
{% macro default__regex_split(expr, pattern) -%}string_split_regex({{ expr }}, {{ pattern }}){%- endmacro %}
{% macro spark__regex_split(expr, pattern) -%}split({{ expr }}, {{ pattern }}, -1){%- endmacro %}

{#- Replace the one match of a pattern anchored at the start (^) or the end ($) of the text. DuckDB's
    regexp_replace without 'g' replaces the first match, Spark's replaces all: the same only when the pattern
    can match once, hence anchored patterns only. -#}
{% macro regex_replace_anchored(expr, pattern, replacement) -%}
{{ return(adapter.dispatch('regex_replace_anchored', 'gongkai')(expr, pattern, replacement)) }}
{%- endmacro %}
{% macro default__regex_replace_anchored(expr, pattern, replacement) -%}regexp_replace({{ expr }}, {{ pattern }}, {{ replacement }}){%- endmacro %}
{% macro spark__regex_replace_anchored(expr, pattern, replacement) -%}regexp_replace({{ expr }}, {{ pattern }}, {{ replacement }}){%- endmacro %}
