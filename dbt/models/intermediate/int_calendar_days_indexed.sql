-- The working-day calendar (holidays and adjusted working weekends, per the State Council's notices)
-- with a running working-day index, so "+ N working days" and "working days in (start, end]" are joins:
-- working days in (a, b] = index(b) − index(a); a + N working days = the working day whose index is index(a) + N.
-- is_provisional: a day of a year whose notice is not out yet (weekends and statutory holidays only, build_calendar.py);
-- a count or deadline that reads such a day is provisional and says so.
select
    cast(calendar_date as date) as calendar_date,
    cast(is_working_day as boolean) as is_working_day,
    day_type,
    holiday_name,
    cast(is_provisional as boolean) as is_provisional,
    cast(sum(case when is_working_day then 1 else 0 end)
        over (order by calendar_date rows between unbounded preceding and current row) as integer) as working_day_index
from {{ ref('ref_working_calendar') }}
