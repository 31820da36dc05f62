{{ config(tags=['portable']) }}
-- 工作日历完整性 calendar completeness: every year from 2015 to the seed's last must have every date.
-- An announced year (a State Council notice, is_provisional false) must have the notice's holidays (at least 20
-- days: 春节, 国庆 …) and adjusted working weekends (调休上班, every year had some), adjusted working days on
-- Saturdays/Sundays only. A provisional year (no notice yet: build_calendar.py) holds the law's statutory days
-- (11 days from 2015, 13 from 2025, one fewer when 中秋 falls on 国庆) and their 补假 make-up days, and no adjusted working day — one with 调休 would be a notice's year mislabelled.
-- A year is one or the other, and provisional years come after every announced one. Returns the offending years.
with bounds as (
    select max(year(calendar_date)) as last_year from {{ ref('ref_working_calendar') }}
), years as (
    select y from {{ integer_range(2015, 2100, 'y') }} as t cross join bounds where t.y <= bounds.last_year
), per_year as (
    select year(calendar_date) as y,
           count(*) as days,
           count(distinct is_provisional) as provisional_kinds,
           bool_or(is_provisional) as provisional,
           count(*) filter (where day_type = 'holiday') as holidays,
           count(*) filter (where day_type = 'adjusted_workday') as adjusted,
           count(*) filter (where day_type = 'adjusted_workday' and {{ iso_day_of_week('calendar_date') }} not in (6, 7)) as adjusted_on_weekday,
           count(*) filter (where is_working_day <> (day_type in ('workday', 'adjusted_workday'))) as inconsistent
    from {{ ref('ref_working_calendar') }}
    group by 1
), last_announced as (
    select coalesce(max(y), 0) as y from per_year where not provisional
)
select years.y, per_year.*
from years left join per_year using (y) cross join last_announced
where per_year.y is null
   or per_year.days not in (365, 366)
   or per_year.provisional_kinds <> 1
   or per_year.inconsistent > 0
   or (not per_year.provisional and (per_year.holidays < 20 or per_year.adjusted < 1 or per_year.adjusted_on_weekday > 0))
   or (per_year.provisional and (per_year.holidays < 10 or per_year.adjusted > 0 or per_year.y < last_announced.y))
