-- Budget and debt lines of evaluable sheets as items at positions, so one path reads both table layouts:
-- column layout (an item is a column; its position is the row, e.g. 合计 | 基本支出 | 项目支出) and row
-- layout (one row per item, e.g. debt 1-2 or a 三公 table with one row per cost: the item is the row key,
-- its position the column). A sheet is row-layout when any of its rows carries an item row key; its
-- total row is then the item 'total'. Also: the label key for selectors, the sheet's last total row per
-- side, the function 类 a line names (for summaries listing 类 by name), and whether the sheet is its
-- publisher's first published copy of that table (cross-table identities read only that copy).
-- Incremental by load, one publisher-year at a time like int_lines_resolved (macros/budget_units.sql): its
-- rebuild_unit and unit_fingerprint come with the lines.
{%- set units = budget_units_to_rebuild('publisher_year') %}
{{ config(pre_hook="{{ budget_clear_rebuilt_units('publisher_year') }}", **budget_unit_incremental_config()) }}
{{ budget_rebuild_marker(units) }}
with lines as (
    select * from {{ ref('int_lines_resolved') }}
    where is_evaluable and table_key is not null
      -- and a debt cell the reader found not stated (ingest/debt_parts.py: a split, or a total, left blank beside the
      -- other's figures): no figure, but there — an identity over it is not evaluated (int_reconciliation_checks),
      -- where without it a partial sum (本地区 = 本级 + 下级 with 本级's 一般 unknown) was judged as if it were 0
      and (amount_yuan is not null
           or (family = 'debt' and table_key not like '%bond_use' and {{ cell_is_blank('value_text') }}))
      and {{ in_keys('rebuild_unit', units) }}
),

sheet_layout as (
    select
        sheet_id,
        coalesce(bool_or(row_key is not null and row_key not in {{ positional_row_keys() }}), false) as is_row_layout
    from lines
    group by sheet_id
),

sheets as (
    select
        sheet_id,
        row_number() over (
            partition by publisher_code, fiscal_year, table_key
            order by published_at nulls last, source_file, sheet
        ) = 1 as is_primary_sheet
    from {{ ref('int_sheets_resolved') }}
    where is_evaluable and table_key is not null
      and {{ in_keys(budget_publisher_year_unit('publisher_code', 'fiscal_year'), units) }}
),

-- 类 names of every year (renamed 类 keep their code): a summary lists its expenditure by 类 name
lei_names as (
    select {{ class_name_key('name') }} as name_key, min(code) as lei_code
    from {{ ref('ref_function_classes') }}
    where level = 1
    group by 1
    having count(distinct code) = 1
),

items as (
    select
        lines.*,
        sheet_layout.is_row_layout,
        coalesce(sheets.is_primary_sheet, false) as is_primary_sheet,
        case
            when lines.row_key is not null and lines.row_key not in {{ positional_row_keys() }} then lines.row_key
            when sheet_layout.is_row_layout and lines.is_total then 'total'
            else lines.column_key
        end as item_key,
        case when sheet_layout.is_row_layout then lines.column_key
             else cast(lines.source_row as string) end as position_key,
        {{ label_key('lines.item_name') }} as label_key,
        {{ class_name_key('lines.item_name') }} as class_name_key
    from lines
    -- `on`, not `using`: Spark would move the USING column to the front of lines.*
    join sheet_layout on sheet_layout.sheet_id = lines.sheet_id
    left join sheets on sheets.sheet_id = lines.sheet_id
),

-- A table printed by name only (收入表: 一、税收收入 over its taxes, indented): the rows of a column-layout sheet with no
-- code at all, one per row, for the section each line sits in (label_parent_row below)
label_rows as (
    select sheet_id, coalesce(side, '') as side_key, source_row, min(coalesce(indent_level, 0)) as indent_level,
           bool_or(is_total) as is_total, min(label_key) as label_key
    from items
    where not is_row_layout
      and sheet_id in (select sheet_id from items group by sheet_id having count(code) = 0)
    group by sheet_id, coalesce(side, ''), source_row
),

-- a line's section: the nearest row above it indented less (no total row); none where nothing above is indented less
label_sections as (
    select child.sheet_id, child.side_key, child.source_row, child.label_key, max(parent.source_row) as parent_row
    from label_rows as child
    join label_rows as parent
        on parent.sheet_id = child.sheet_id
       and parent.side_key = child.side_key
       and parent.source_row < child.source_row
       and parent.indent_level < child.indent_level
       and not parent.is_total
    where not child.is_total
    group by child.sheet_id, child.side_key, child.source_row, child.label_key
),

-- a section listing 其中：… under it states a part, not a split: none of its lines is summed (section = Σ items would
-- be a false finding)
partial_sections as (
    select distinct sheet_id, side_key, parent_row
    from label_sections
    where {{ regex_search('label_key', "'^其中'") }}
)

select
    items.*,
    max(case when items.is_total and items.code is null then items.source_row end)
        over (partition by items.sheet_id, items.side) as last_total_row,
    coalesce(case when items.code_level = 1 then items.code end, lei_names.lei_code) as lei_code,
    case when partial_sections.sheet_id is null then label_sections.parent_row end as label_parent_row
from items
left join lei_names on lei_names.name_key = items.class_name_key and items.code is null
left join label_sections
    on label_sections.sheet_id = items.sheet_id
   and label_sections.side_key = coalesce(items.side, '')
   and label_sections.source_row = items.source_row
left join partial_sections
    on partial_sections.sheet_id = label_sections.sheet_id
   and partial_sections.side_key = label_sections.side_key
   and partial_sections.parent_row = label_sections.parent_row
