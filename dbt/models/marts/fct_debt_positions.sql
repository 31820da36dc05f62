-- Debt tables 1-1 … 1-4 (budget and final), one row per (row, measure) in 元. 1-1 rows are regions:
-- row_scope region_total (本地区) / own_level (本级) / lower_region (named, with its code).
with lines as (
    select lines.*
    from {{ ref('int_lines_resolved') }} as lines
    join {{ ref('ref_disclosure_catalogue') }} as catalogue using (table_key)
    where catalogue.book = 'debt' and lines.table_key not like '%bond_use' and lines.amount_yuan is not null
),
region_names as (
    select region_name, min(region_code) as region_code
    from {{ ref('dim_region') }}
    where is_current_code
    group by region_name
    having count(*) = 1
)
select
    cast(lines.line_id as string) as debt_position_id,
    cast(lines.publisher_code as string) as publisher_code,
    cast(lines.fiscal_year as integer) as fiscal_year,
    cast(lines.phase as string) as phase,
    cast(lines.table_key as string) as table_key,
    cast(lines.item_name as string) as row_label,
    cast(case
        when lines.table_key not in ('debt_1_1', 'debtf_1_1') then null
        when lines.item_name like '%本地区%' or (lines.is_total and lines.item_name not like '%本级%') then lines.publisher_code
        when lines.item_name like '%本级%' then lines.publisher_code
        else region_names.region_code
    end as string) as row_region_code,
    cast(case
        when lines.table_key not in ('debt_1_1', 'debtf_1_1') then 'item'
        when lines.item_name like '%本地区%' or (lines.is_total and lines.item_name not like '%本级%') then 'region_total'
        when lines.item_name like '%本级%' then 'own_level'
        else 'lower_region'
    end as string) as row_scope,
    cast(lines.row_key as string) as row_key,
    cast(lines.column_key as string) as measure,
    cast(lines.amount_yuan as decimal(20, 2)) as amount_yuan,
    cast(lines.is_evaluable as boolean) as is_evaluable,
    cast(lines.source_file as string) as source_file,
    cast(lines.sheet as string) as sheet,
    cast(lines.source_row as integer) as source_row
from lines
left join region_names on region_names.region_name = lines.item_name
