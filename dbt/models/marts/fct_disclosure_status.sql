-- One row per expected item with its status (CONTRACTS.md §7): missing · missing_deadline_unknown (nothing
-- published and no approval date in the registry to compute the deadline from: not counted as "missing on
-- time"; the final accounts of a year not yet ended are not_yet_due instead) · empty_without_note · empty_with_note
-- · late · not_yet_due · on_time. An empty table published late is late.
with expected as (
    select * from {{ ref('fct_disclosure_expected') }}
),

published_sheets as (
    select *
    from (
        select publisher_code, fiscal_year, table_key, published_at, published_on, is_empty, has_empty_note,
               source_file, sheet, publication_title, publication_url
        from {{ ref('int_sheets_resolved') }}
        union all
        -- required explanations found in a disclosure's text are published items too (catalogue book explanation)
        select publisher_code, fiscal_year, table_key, published_at, published_on, false, false,
               source_file, sheet, publication_title, publication_url
        from {{ ref('int_explanations_resolved') }}
    ) as items
    where published_at is not null and table_key is not null and publisher_code is not null
    qualify row_number() over (
        partition by publisher_code, fiscal_year, table_key
        order by published_at, is_empty nulls last, source_file, sheet nulls last
    ) = 1
),

joined as (
    select
        expected.*,
        published_sheets.published_at,
        published_sheets.published_on,
        published_sheets.is_empty,
        published_sheets.has_empty_note,
        published_sheets.source_file,
        published_sheets.sheet,
        published_sheets.publication_title,
        published_sheets.publication_url
    from expected
    left join published_sheets
        on published_sheets.publisher_code = expected.publisher_code
       and published_sheets.fiscal_year = expected.fiscal_year
       and published_sheets.table_key = expected.table_key
)

select
    publisher_code,
    publisher_name,
    publisher_kind,
    region_code,
    fiscal_year,
    document,
    table_key,
    table_name_zh,
    anchor_date,
    deadline_date,
    deadline_basis,
    deadline_is_provisional,
    cast(case
        when published_at is null and deadline_date is not null and {{ as_of_date() }} <= deadline_date then 'not_yet_due'
        -- the final accounts of a year still running (the current year's): nothing can have approved them yet, so no
        -- approval date is no registry gap — they are not due, not "missing with the deadline unknown"
        when published_at is null and deadline_date is null and document = 'final'
             and year({{ as_of_date() }}) <= fiscal_year then 'not_yet_due'
        when published_at is null and deadline_date is null then 'missing_deadline_unknown'
        when published_at is null then 'missing'
        when deadline_date is not null and published_on > deadline_date then 'late'
        when is_empty and not has_empty_note then 'empty_without_note'
        when is_empty and has_empty_note then 'empty_with_note'
        else 'on_time'
    end as string) as status,
    cast(published_at as timestamp) as published_at,
    cast(case when published_on > deadline_date then {{ days_between('deadline_date', 'published_on') }} end as integer) as days_late,
    source_file,
    sheet,
    publication_title,
    publication_url,
    cast({{ as_of_date() }} as date) as as_of_date
from joined
