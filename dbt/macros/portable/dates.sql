{#- Dates on both engines. -#}

{#- A date written the way publishers write one: 2019-03-05, 2019/3/5 (an optional time after a space or
    T is ignored) or 2019年3月5日; anything else, or an impossible date (2019-02-30), is NULL. -#}
{% macro parse_date(text) -%}
{%- set iso = sql_string('^\\s*([0-9]{4})[-/]([0-9]{1,2})[-/]([0-9]{1,2})([ T][0-9]{1,2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)?\\s*$') -%}
{%- set zh = sql_string('^\\s*([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})日\\s*$') -%}
case
    when {{ regex_search(text, iso) }} then {{ date_from_parts(regex_extract(text, iso, 1), regex_extract(text, iso, 2), regex_extract(text, iso, 3)) }}
    when {{ regex_search(text, zh) }} then {{ date_from_parts(regex_extract(text, zh, 1), regex_extract(text, zh, 2), regex_extract(text, zh, 3)) }}
end
{%- endmacro %}

{#- A date from year, month and day texts of digits; NULL when there is no such day. -#}
{% macro date_from_parts(year_text, month_text, day_text) -%}
{{ return(adapter.dispatch('date_from_parts', 'gongkai')(year_text, month_text, day_text)) }}
{%- endmacro %}
{% macro default__date_from_parts(year_text, month_text, day_text) -%}
try_cast({{ year_text }} || '-' || lpad({{ month_text }}, 2, '0') || '-' || lpad({{ day_text }}, 2, '0') as date)
{%- endmacro %}
{% macro spark__date_from_parts(year_text, month_text, day_text) -%}
try_to_date(concat({{ year_text }}, '-', lpad({{ month_text }}, 2, '0'), '-', lpad({{ day_text }}, 2, '0')), 'yyyy-MM-dd')
{%- endmacro %}

{#- ISO day of week: Monday 1 … Sunday 7 (DuckDB's dayofweek counts Sunday 0, Spark's Sunday 1). -#}
{% macro iso_day_of_week(d) -%}
{{ return(adapter.dispatch('iso_day_of_week', 'gongkai')(d)) }}
{%- endmacro %}
{% macro default__iso_day_of_week(d) -%}isodow({{ d }}){%- endmacro %}
{% macro spark__iso_day_of_week(d) -%}(weekday({{ d }}) + 1){%- endmacro %}

{#- Whole days from start to end (dates; times are cut to their date first). -#}
{% macro days_between(start_d, end_d) -%}
{{ return(adapter.dispatch('days_between', 'gongkai')(start_d, end_d)) }}
{%- endmacro %}
{% macro default__days_between(start_d, end_d) -%}(cast({{ end_d }} as date) - cast({{ start_d }} as date)){%- endmacro %}
{% macro spark__days_between(start_d, end_d) -%}datediff(cast({{ end_d }} as date), cast({{ start_d }} as date)){%- endmacro %}

{#- A relation of the integers lo..hi (both included; constant expressions) in one integer column:
    `from {{ integer_range(2015, 2026, 'y') }} as t`. The range table function exists on both engines
    (its own column is `range` on DuckDB, `id` on Spark: renamed by the alias). -#}
{% macro integer_range(lo, hi, column) -%}
(select cast({{ column }} as integer) as {{ column }} from range({{ lo }}, ({{ hi }}) + 1) as integers({{ column }}))
{%- endmacro %}
