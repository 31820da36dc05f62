{#- Working-day arithmetic on int_calendar_days_indexed (running index of working days).
    Dates outside the calendar give NULL (never a silent guess). -#}

{#- The date N working days after d (d itself not counted; DOMAIN.md: a period counts from the next day). -#}
{% macro add_working_days(d, n) -%}
(select min(wd_target.calendar_date)
   from {{ ref('int_calendar_days_indexed') }} as wd_target
  where wd_target.is_working_day
    and wd_target.working_day_index = (
        select wd_start.working_day_index from {{ ref('int_calendar_days_indexed') }} as wd_start
         where wd_start.calendar_date = cast({{ d }} as date)) + {{ n }})
{%- endmacro %}

{#- Working days in (start, end]. -#}
{% macro working_days_between(start_d, end_d) -%}
((select wd_end.working_day_index from {{ ref('int_calendar_days_indexed') }} as wd_end
   where wd_end.calendar_date = cast({{ end_d }} as date))
 - (select wd_begin.working_day_index from {{ ref('int_calendar_days_indexed') }} as wd_begin
   where wd_begin.calendar_date = cast({{ start_d }} as date)))
{%- endmacro %}

{#- The same arithmetic as joins (portable: Spark cannot run the correlated subqueries above inside other
    subqueries). `working_day_join(d, 'a')` joins the calendar row of date d as alias a; then
    working days in (start, end] = e.working_day_index - s.working_day_index, and
    `working_day_after_join('s', n, 't')` joins as t the day n working days after s's date (t.calendar_date).
    Dates outside the calendar give NULL, as above. -#}
{% macro working_day_join(d, alias) -%}
left join {{ ref('int_calendar_days_indexed') }} as {{ alias }} on {{ alias }}.calendar_date = cast({{ d }} as date)
{%- endmacro %}

{% macro working_day_after_join(start_alias, n, alias) -%}
left join {{ ref('int_calendar_days_indexed') }} as {{ alias }}
    on {{ alias }}.is_working_day and {{ alias }}.working_day_index = {{ start_alias }}.working_day_index + {{ n }}
{%- endmacro %}
