-- What must be published: per fiscal year with an entities_<Y>.csv, every region (by level) × government
-- tables and every department/unit × department tables, with the legal deadline (CONTRACTS.md §7).
with years as (
    select distinct fiscal_year from {{ ref('stg_registry__entities') }}
),

catalogue as (
    select * from {{ ref('ref_disclosure_catalogue') }}
),

deadline_rules as (
    select * from {{ ref('ref_deadline_rules') }}
),

-- one row per region: a region listed twice under two names or levels (银川市 / 银川, or an old code beside today's)
-- is one publisher, its first row as dim_region takes it (REG_DUPLICATE_CONFLICT says which rows differ); a distinct
-- over the rows doubled its items and failed this model's key test, stopping the run
regions as (
    select region_code, region_name, level from {{ ref('stg_registry__regions') }}
    where region_code is not null
    qualify row_number() over (partition by region_code order by is_current_code desc, source_file, source_row) = 1
),

entities as (
    select fiscal_year, entity_code, entity_name, entity_kind, region_code,
           budget_approved_on, final_approved_on
    from {{ ref('stg_registry__entities') }}
    where entity_code is not null and entity_kind in ('department', 'unit')
    qualify row_number() over (partition by fiscal_year, entity_code order by source_file, source_row) = 1
),

congress as (
    select region_code, fiscal_year, document, min(approved_on) as approved_on
    from {{ ref('stg_registry__approvals') }}
    group by all
),

government_items as (
    select
        regions.region_code as publisher_code,
        regions.region_name as publisher_name,
        'government' as publisher_kind,
        regions.region_code,
        years.fiscal_year,
        catalogue.document,
        catalogue.table_key,
        catalogue.table_name_zh,
        catalogue.deadline_rule,
        congress.approved_on as anchor_date,
        'congress_approval' as anchor,
        deadline_rules.offset_days,
        deadline_rules.day_kind
    from years
    cross join catalogue
    join regions on {{ list_has(split_text('catalogue.applies_to_levels', "'|'"), 'regions.level') }}
    join deadline_rules on deadline_rules.deadline_rule = catalogue.deadline_rule
    left join congress
        on congress.region_code = regions.region_code
       and congress.fiscal_year = years.fiscal_year
       and congress.document = catalogue.document
    where catalogue.publisher_kind = 'government'
      and years.fiscal_year between catalogue.valid_from_year and coalesce(catalogue.valid_to_year, 9999)
),

department_items as (
    select
        entities.entity_code as publisher_code,
        entities.entity_name as publisher_name,
        entities.entity_kind as publisher_kind,
        entities.region_code,
        entities.fiscal_year,
        catalogue.document,
        catalogue.table_key,
        catalogue.table_name_zh,
        catalogue.deadline_rule,
        -- the finance 批复 date; unknown -> the congress approval with the longer fallback offset
        case catalogue.document
            when 'budget' then entities.budget_approved_on
            when 'final' then entities.final_approved_on
        end as reply_date,
        congress.approved_on as congress_date,
        deadline_rules.offset_days,
        deadline_rules.day_kind,
        case entities.entity_kind
            when 'unit' then deadline_rules.fallback_offset_unit
            else deadline_rules.fallback_offset_department
        end as fallback_offset_days
    from entities
    join catalogue
        on catalogue.publisher_kind = 'department'
       and {{ list_has(split_text('catalogue.applies_to_levels', "'|'"), 'entities.entity_kind') }}
       and entities.fiscal_year between catalogue.valid_from_year and coalesce(catalogue.valid_to_year, 9999)
    join deadline_rules on deadline_rules.deadline_rule = catalogue.deadline_rule
    left join congress
        on congress.region_code = entities.region_code
       and congress.fiscal_year = entities.fiscal_year
       and congress.document = catalogue.document
),

anchored as (
    select
        publisher_code, publisher_name, publisher_kind, region_code, fiscal_year, document,
        table_key, table_name_zh, anchor_date, offset_days, day_kind,
        case when anchor_date is not null
             then 'congress_approval+' || offset_days || (case when day_kind = 'working' then 'wd' else 'd' end)
             else 'deadline unknown: registry/approvals.csv gives no date of the ' || document || ' approval of region '
                  || region_code || ' for ' || cast(fiscal_year as string)
                  || ' (no such row, or its date unreadable: QUAR_VALUE_UNREADABLE)'
        end as deadline_basis
    from government_items
    union all
    select
        publisher_code, publisher_name, publisher_kind, region_code, fiscal_year, document,
        table_key, table_name_zh,
        coalesce(reply_date, congress_date) as anchor_date,
        case when reply_date is not null then offset_days else fallback_offset_days end as offset_days,
        case when reply_date is not null then day_kind else 'calendar' end as day_kind,
        case when reply_date is not null
             then 'finance_reply+' || offset_days || (case when day_kind = 'working' then 'wd' else 'd' end)
             when congress_date is not null
             then 'congress_approval+' || fallback_offset_days || 'd (finance reply date unknown)'
             else 'deadline unknown: registry/entities_' || cast(fiscal_year as string) || '.csv has no '
                  || document || '_approved_on for ' || publisher_code || ' and registry/approvals.csv no '
                  || document || ' approval of region ' || coalesce(region_code, '?') || ' for '
                  || cast(fiscal_year as string)
        end as deadline_basis
    from department_items
)

{%- set provisional -%}
(anchored.day_kind = 'working' and anchored.anchor_date is not null
 and (coalesce(working_anchor.is_provisional, false) or coalesce(working_deadline.is_provisional, false)))
{%- endset %}
select
    cast(anchored.publisher_code as string) as publisher_code,
    cast(anchored.publisher_name as string) as publisher_name,
    cast(anchored.publisher_kind as string) as publisher_kind,
    cast(anchored.region_code as string) as region_code,
    cast(anchored.fiscal_year as integer) as fiscal_year,
    cast(anchored.document as string) as document,
    cast(anchored.table_key as string) as table_key,
    cast(anchored.table_name_zh as string) as table_name_zh,
    cast(anchored.anchor_date as date) as anchor_date,
    cast(case
        when anchored.anchor_date is null then null
        when anchored.day_kind = 'working' then working_deadline.calendar_date
        else anchored.anchor_date + cast(anchored.offset_days as integer)
    end as date) as deadline_date,
    cast(coalesce(anchored.deadline_basis, 'no approval date: deadline unknown')
         || case when {{ provisional }}
                 then '（暂定工作日历：当年放假安排未公布 provisional calendar: no holiday notice for that year yet）'
                 else '' end as string) as deadline_basis,
    -- a working-day deadline counted over a provisional calendar day (build_calendar.py: weekends and statutory
    -- holidays only) is provisional; a calendar-day deadline (预算法's 20 日) never reads the calendar
    cast({{ provisional }} as boolean) as deadline_is_provisional
from anchored
-- "+ N working days" as joins on the calendar's running index (macros/working_days.sql)
{{ working_day_join('anchored.anchor_date', 'working_anchor') }}
{{ working_day_after_join('working_anchor', 'anchored.offset_days', 'working_deadline') }}
