{{ config(tags=['portable']) }}
-- 工作日 The join form of working-day arithmetic (macros/working_days.sql) on the State Council's 2020 calendar
-- (seed ref_working_calendar): Spring Festival 01-24..02-02 (adjusted workday Sunday 01-19), National Day
-- 10-01..10-08 (adjusted workdays Sunday 09-27 and Saturday 10-10). A period counts from the next day; a
-- start on a holiday counts from the next working day. Returns the checks whose answer differs.
with spans as (
    select 'spring festival' as check_name, date '2020-01-23' as start_on, date '2020-02-03' as end_on, 1 as want_days,
           2 as add_days, date '2020-02-04' as want_after
    union all select 'national day with adjusted weekends', date '2020-09-26', date '2020-10-12', 7, 2, date '2020-09-28'
    union all select 'start on a holiday', date '2020-10-03', date '2020-10-12', 3, 1, date '2020-10-09'
    union all select 'to an adjusted saturday', date '2020-09-30', date '2020-10-10', 2, 2, date '2020-10-10'
    union all select 'outside the calendar', date '1990-01-01', date '2020-10-10', null, 1, null
),
computed as (
    select
        spans.*,
        e.working_day_index - s.working_day_index as got_days,
        t.calendar_date as got_after
    from spans
    {{ working_day_join('spans.start_on', 's') }}
    {{ working_day_join('spans.end_on', 'e') }}
    {{ working_day_after_join('s', 'spans.add_days', 't') }}
)
select * from computed
where got_days is distinct from want_days or got_after is distinct from want_after
