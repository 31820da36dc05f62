-- Debt tables 1-1 … 1-4 (budget and final), one row per (row, measure) in 元. 1-1 rows are regions:
-- row_scope region_total (本地区) / own_level (本级) / lower_region (named, with its code).
-- Names are compared without numbering and spaces: bureaus justify short names ('本  级', '贺 兰 县'). Which row is
-- the whole region (本地区, 全市 / 全区 / 全县 …, or the table's own region by name) is int_debt_whole_region_rows'
-- answer from the one vocabulary seeds/ref_debt_whole_region_labels.csv — the answer DEBT_REGION_SUM reads too.
-- Item tables (1-2 … 1-4) have no row region; a column headed by a region's name (measure 'region:<name>',
-- beside 本地区 | 其中：本级) carries that region's code. A 1-1 in the Ministry's other layout (items as rows, regions
-- as columns 本地区 | 本级 | 兴庆区 …) reads as the usual one: the column says the scope and region, the row the measure.
with lines as (
    select
        lines.*,
        case when lines.column_key like 'region:%' then substr(lines.column_key, 8)
             else {{ label_key('lines.item_name') }} end as name_key
    from {{ ref('int_lines_resolved') }} as lines
    join {{ ref('ref_disclosure_catalogue') }} as catalogue using (table_key)
    where catalogue.book = 'debt' and lines.table_key not like '%bond_use' and lines.amount_yuan is not null
),
region_names as (
    select {{ label_key('region_name') }} as name_key, min(region_code) as region_code
    from {{ ref('dim_region') }}
    where is_current_code
    group by 1
    having count(*) = 1
),
scoped as (
    select
        lines.*,
        region_names.region_code as named_code,
        case
            when lines.table_key not in ('debt_1_1', 'debtf_1_1') then 'item'
            -- 1-1 with items as rows (一、债务限额 …) and regions as columns: the column is the region
            when lines.row_key is not null then case
                when lines.column_key = 'amount' then 'region_total'
                when lines.column_key = 'amount_own_level' then 'own_level'
                else 'lower_region' end
            when whole_region.sheet_id is not null
                or (lines.is_total and lines.name_key not like '%本级%') then 'region_total'
            when lines.name_key like '%本级%' then 'own_level'
            else 'lower_region'
        end as row_scope
    from lines
    left join region_names on region_names.name_key = lines.name_key
    left join {{ ref('int_debt_whole_region_rows') }} as whole_region
        on whole_region.sheet_id = lines.sheet_id and whole_region.source_row = lines.source_row
)
select
    cast(line_id as string) as debt_position_id,
    cast(publisher_code as string) as publisher_code,
    cast(fiscal_year as integer) as fiscal_year,
    cast(phase as string) as phase,
    cast(table_key as string) as table_key,
    -- (1-1 with items as rows: a lower region's label is its column's name, as the usual layout's row label is — the
    -- name DEBT_REGION_UNKNOWN reports when it has no code; a column the reader left unplaced names its key, never
    -- passing as a region silently)
    cast(case when table_key in ('debt_1_1', 'debtf_1_1') and row_key is not null and row_scope = 'lower_region'
              then case when column_key like 'region:%' then substr(column_key, 8) else '列 column ' || column_key end
              else item_name end as string) as row_label,
    cast(case
        when row_scope = 'item' then case when column_key like 'region:%' then named_code end
        when row_scope in ('region_total', 'own_level') then publisher_code
        else named_code
    end as string) as row_region_code,
    cast(row_scope as string) as row_scope,
    cast(row_key as string) as row_key,
    -- (1-1 with items as rows: the row's item is the measure, as a column's is in the usual layout)
    cast(case when table_key in ('debt_1_1', 'debtf_1_1') and row_key is not null then row_key else column_key end
         as string) as measure,
    cast(amount_yuan as decimal(20, 2)) as amount_yuan,
    cast(is_evaluable as boolean) as is_evaluable,
    cast(source_file as string) as source_file,
    cast(sheet as string) as sheet,
    cast(source_row as integer) as source_row
from scoped
