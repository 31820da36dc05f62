-- Budget and final-account figures, one row per (line, measure column), in 元. Fiscal Data Package
-- vocabulary alongside ours: phase budget|final ↔ fdp_phase approved|executed; direction revenue|expenditure.
-- Incremental by load, one publisher-year at a time like int_lines_resolved, whose units it keeps beside it
-- (macros/budget_units.sql, budget_mart_*): only the lines of units whose fingerprint moved are read and written.
{%- set units = budget_mart_units_to_rebuild() %}
{{ config(**budget_mart_incremental_config()) }}
{{ budget_rebuild_marker(units) }}
with lines as (
    select lines.*, catalogue.book
    from {{ ref('int_lines_resolved') }} as lines
    left join {{ ref('ref_disclosure_catalogue') }} as catalogue using (table_key)
    where lines.amount_yuan is not null
      and coalesce(catalogue.book, '') <> 'debt'
      and {{ in_keys('lines.rebuild_unit', units) }}
)
select
    cast(line_id as string) as budget_line_id,
    cast(publisher_code as string) as publisher_code,
    cast(publisher_kind as string) as publisher_kind,
    cast(region_code as string) as region_code,
    cast(fiscal_year as integer) as fiscal_year,
    cast(phase as string) as phase,
    cast(case phase when 'budget' then 'approved' when 'final' then 'executed' end as string) as fdp_phase,
    cast(case
        when side = 'income' then 'revenue'
        when side = 'expenditure' then 'expenditure'
        when table_key like '%revenue%' then 'revenue'
        else 'expenditure'
    end as string) as direction,
    cast(table_key as string) as table_key,
    cast(side as string) as side,
    cast(code as string) as code,
    cast(code_level as integer) as code_level,
    cast(item_name as string) as item_name,
    cast(is_total as boolean) as is_total,
    cast(row_key as string) as row_key,
    cast(column_key as string) as measure,
    cast(amount_yuan as decimal(20, 2)) as amount_yuan,
    cast(is_evaluable as boolean) as is_evaluable,
    cast(source_file as string) as source_file,
    cast(sheet as string) as sheet,
    cast(source_row as integer) as source_row
from lines
