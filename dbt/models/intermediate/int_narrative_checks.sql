-- Rule inputs of NARR_TOTAL_MISMATCH and NARR_YEAR_MISMATCH (CONTRACTS.md §7): one row per statement of a
-- disclosure's explanations. A stated total is read against its table (ref_narrative_figures): equal within
-- half a unit of the last digit printed plus 0.01 of the table's unit. A year named in the 编制说明 must be
-- the disclosure's year or the year before. A statement whose table is missing or not evaluable is left out.
with statements as (
    select statements.*, files.publisher_code, files.publisher_name, files.fiscal_year, files.document
    from {{ ref('stg_budget__statements') }} as statements
    join {{ ref('int_disclosure_files') }} as files using (source_file)
),

explanations as (
    select table_key, document, {{ title_key('table_name_zh') }} as name_key, sequence_no
    from {{ ref('ref_disclosure_catalogue') }}
    where book = 'explanation'
),

-- the object a finding is about: the explanation the statement stands in (else the document's 编制说明);
-- plain joins, no correlated subqueries (Spark rejects unaggregated ones)
notes_sections as (
    select document, min(table_key) as notes_key
    from explanations
    where name_key in ('预算编制说明', '决算编制说明')
    group by document
),

located as (
    select
        statements.*,
        coalesce(own_section.table_key, notes_sections.notes_key) as object_key
    from statements
    left join explanations as own_section
        on own_section.name_key = statements.section_name_key and own_section.document = statements.document
    left join notes_sections on notes_sections.document = statements.document
),

figures as (
    select * from {{ ref('ref_narrative_figures') }}
),

table_figures as (
    select
        lines.publisher_code, lines.fiscal_year, lines.table_key, figures.statement_key,
        lines.amount_yuan, lines.unit_multiplier, lines.source_file, lines.sheet, lines.source_row,
        row_number() over (
            partition by lines.publisher_code, lines.fiscal_year, lines.table_key, figures.statement_key
            order by lines.is_total desc,
                     coalesce(lines.item_name, '') like (cast(lines.fiscal_year as string) || '年%') desc,
                     case when lines.is_total then -lines.source_row else lines.source_row end nulls last,
                     lines.source_file, lines.sheet nulls last
        ) as pick
    from {{ ref('int_lines_resolved') }} as lines
    join figures
        on figures.table_key = lines.table_key
       and figures.column_key = lines.column_key
       and coalesce(figures.side, '') = coalesce(lines.side, '')
    where lines.is_evaluable and lines.amount_yuan is not null
),

totals as (
    select
        'NARR_TOTAL_MISMATCH' as rule_id,
        located.publisher_code, located.publisher_name, located.fiscal_year, located.object_key,
        located.statement_key,
        located.value_text,
        located.amount_yuan as stated_yuan,
        table_figures.amount_yuan as table_yuan,
        cast(null as integer) as year_named,
        cast(located.tolerance_yuan + 0.01 * coalesce(table_figures.unit_multiplier, 1) as decimal(20, 2)) as tolerance_yuan,
        table_figures.table_key as compared_table_key,
        located.source_file, located.sheet, located.source_page, located.source_row
    from located
    join figures
        on figures.statement_key = located.statement_key and figures.document = located.document
    join table_figures
        on table_figures.publisher_code = located.publisher_code
       and table_figures.fiscal_year = located.fiscal_year
       and table_figures.table_key = figures.table_key
       and table_figures.statement_key = located.statement_key
       and table_figures.pick = 1
    where located.statement_key <> 'year_named'
),

years as (
    select
        'NARR_YEAR_MISMATCH' as rule_id,
        publisher_code, publisher_name, fiscal_year, object_key,
        statement_key, value_text,
        cast(null as decimal(20, 2)) as stated_yuan,
        cast(null as decimal(20, 2)) as table_yuan,
        year_named,
        cast(null as decimal(20, 2)) as tolerance_yuan,
        cast(null as string) as compared_table_key,
        source_file, sheet, source_page, source_row
    from located
    where statement_key = 'year_named'
)

select
    *,
    cast(case
        when rule_id = 'NARR_YEAR_MISMATCH' then year_named in (fiscal_year, fiscal_year - 1)
        else abs(stated_yuan - table_yuan) <= tolerance_yuan
    end as boolean) as passes
from (
    select * from totals
    union all
    select * from years
) as checks
