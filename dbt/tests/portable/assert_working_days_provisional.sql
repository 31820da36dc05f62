{{ config(tags=['portable']) }}
-- 暂定工作日历 Working days past the last State Council holiday notice (seed ref_working_calendar: 2027 has no notice
-- in chinesecalendar 1.11.0, so its days are provisional — weekends, the statutory holidays and their 补假 make-up
-- days). A deadline
-- that reaches into such a year is computed, and flagged provisional; a date past the provisional span stays NULL
-- (never a silent guess). Returns the checks whose answer differs.
with spans as (
    -- from Wed 2026-12-30: 12-31 (1), 元旦 2027-01-01, a weekend, Mon 01-04 (2)
    select 'into the new year' as check_name, date '2026-12-30' as start_on, date '2027-01-05' as end_on,
           3 as want_days, 2 as add_days, date '2027-01-04' as want_after, true as want_provisional
    -- 春节 2027: 除夕 02-05 … 初三 02-08 (lunar dates, by law since 2025), 02-06/07 a weekend made up on Tue 02-09 and
    -- Wed 02-10 (办法 §6), so Thu 02-11 is the first working day (1); +3: 02-11, 02-12, Mon 02-15
    union all select 'spring festival 2027', date '2027-02-04', date '2027-02-11', 1, 3, date '2027-02-15', true
    union all select 'announced year', date '2026-12-28', date '2026-12-30', 2, 2, date '2026-12-30', false
    union all select 'past the provisional span', date '2026-12-30', date '2099-01-05', null, 100000, null, null
),
computed as (
    select
        spans.*,
        e.working_day_index - s.working_day_index as got_days,
        t.calendar_date as got_after,
        s.is_provisional or e.is_provisional or t.is_provisional as got_provisional
    from spans
    {{ working_day_join('spans.start_on', 's') }}
    {{ working_day_join('spans.end_on', 'e') }}
    {{ working_day_after_join('s', 'spans.add_days', 't') }}
)
select * from computed
where got_days is distinct from want_days or got_after is distinct from want_after
   or got_provisional is distinct from want_provisional
