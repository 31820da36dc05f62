{{ config(tags=['portable']) }}
-- 工作日历完整性 calendar completeness: every year 2015–2026 must have every date, the State Council's
-- holidays (at least 20 days: 春节, 国庆 …) and adjusted working weekends (调休上班, every year had some),
-- and adjusted working days must be Saturdays/Sundays. Returns the offending years.
with years as (
    select y from {{ integer_range(2015, 2026, 'y') }} as t
), per_year as (
    select year(calendar_date) as y,
           count(*) as days,
           count(*) filter (where day_type = 'holiday') as holidays,
           count(*) filter (where day_type = 'adjusted_workday') as adjusted,
           count(*) filter (where day_type = 'adjusted_workday' and {{ iso_day_of_week('calendar_date') }} not in (6, 7)) as adjusted_on_weekday,
           count(*) filter (where is_working_day <> (day_type in ('workday', 'adjusted_workday'))) as inconsistent
    from {{ ref('ref_working_calendar') }}
    group by 1
)
select years.y, per_year.*
from years left join per_year using (y)
where per_year.y is null
   or per_year.days not in (365, 366)
   or per_year.holidays < 20
   or per_year.adjusted < 1
   or per_year.adjusted_on_weekday > 0
   or per_year.inconsistent > 0
