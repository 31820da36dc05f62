-- Level-of-detail checks (CONTRACTS.md §7), one row per evaluated object with passes, for GX to judge:
-- DETAIL_FUNCTION_XIANG / DETAIL_ECONOMIC_KUAN: in tables whose catalogue required_detail says so, each
-- non-total coded line; it fails when it has no child line in the table and its code is shorter than
-- the rule's threshold (7 / 5 digits). DETAIL_SANGONG_SPLIT: per 三公 table, the vehicle cost split
-- into purchase and running (columns present, and no non-zero vehicle amount with both parts blank).
-- DEBT_ITEM_MISSING: per debt table and item it must hold (seeds/ref_debt_required_items.csv), whether the sheet has
-- it (as a row of 1-2 … 1-4, a column of 1-1; a blank figure counts as present: the roll-forward then reads 0).
-- Without it DEBT_ROLL_FORWARD / DEBT_BALANCE_OVER_LIMIT / DEBT_PARTS have nothing to compare and say nothing.
-- Every check is about one sheet and reads only that sheet's lines and items: incremental by load, one
-- publisher-year of int_sheets_resolved at a time (macros/budget_units.sql, budget_mart_* with units_of 'sheets';
-- the units it was built from are kept beside it, int_detail_checks__built_units): only the units whose
-- fingerprint moved are read and written.
{%- set units = budget_mart_units_to_rebuild('sheets') %}
{{ config(**budget_mart_incremental_config('sheets')) }}
{{ budget_rebuild_marker(units) }}
with lines as (
    select * from {{ ref('int_lines_resolved') }}
    where is_evaluable and table_key is not null
      and {{ in_keys('rebuild_unit', units) }}
),

rules as (
    select rule_id, cast(threshold as integer) as threshold, applies_to
    from {{ ref('ref_rule_catalogue') }}
    where rule_id in ('DETAIL_FUNCTION_XIANG', 'DETAIL_ECONOMIC_KUAN', 'DETAIL_SANGONG_SPLIT')
),

coded_rows as (
    select distinct sheet_id, table_key, required_detail, side, code, item_name, source_file, sheet, source_row,
           publisher_code, publisher_name, fiscal_year
    from lines
    where code is not null and not is_total
),

-- codes with nothing below them in the classification (227 预备费, 23303 …): as detailed as it goes. Before, a
-- county's 本级支出表 listing 227 预备费 failed "function to 项" though no 项 exists under it
official_leaves as (
    select scheme, code, valid_from_year, valid_to_year from {{ ref('ref_classification_leaves') }}
),

-- codes that have a longer code under them on the same sheet and side (a join, not a correlated subquery)
with_children as (
    select distinct parent.sheet_id, parent.side, parent.code
    from coded_rows as parent
    join coded_rows as child
        on child.sheet_id = parent.sheet_id
       and child.side is not distinct from parent.side
       and length(child.code) > length(parent.code)
       and left(child.code, length(parent.code)) = parent.code
),

coded_checks as (
    select
        rules.rule_id,
        parent.sheet_id,
        parent.code,
        parent.item_name,
        parent.source_row,
        cast(length(parent.code) as string) || ' digits' as observed,
        rules.threshold,
        length(parent.code) >= rules.threshold or with_children.code is not null
            or official_leaves.code is not null as passes
    from coded_rows as parent
    join rules on rules.applies_to = parent.required_detail
    left join with_children
        on with_children.sheet_id = parent.sheet_id
       and with_children.side is not distinct from parent.side
       and with_children.code = parent.code
    left join official_leaves
        on official_leaves.code = parent.code
       and official_leaves.scheme = (case when rules.rule_id = 'DETAIL_FUNCTION_XIANG' then 'function'
                                          when parent.code like '5%' then 'economic_government'
                                          else 'economic_department' end)
       and parent.fiscal_year between official_leaves.valid_from_year and coalesce(official_leaves.valid_to_year, 9999)
    where rules.rule_id in ('DETAIL_FUNCTION_XIANG', 'DETAIL_ECONOMIC_KUAN')
),

sangong_sheets as (
    select sheet_id from {{ ref('int_sheets_resolved') }}
    where is_evaluable and required_detail = (select applies_to from rules where rule_id = 'DETAIL_SANGONG_SPLIT')
      and {{ in_keys(budget_publisher_year_unit('publisher_code', 'fiscal_year'), units) }}
),

-- The split is printed either as columns (公务用车购置及运行费 | 购置费 | 运行费) or, in tables with one row per
-- cost, as rows (公务用车购置及运行费 / 其中：购置费 / 运行费): int_line_items gives both as items at positions.
sangong_items as (
    select items.*
    from {{ ref('int_line_items') }} as items
    join sangong_sheets using (sheet_id)
    where {{ in_keys('items.rebuild_unit', units) }}
),

sangong_columns as (
    select
        sangong_sheets.sheet_id,
        coalesce(bool_or(sangong_items.item_key = 'vehicle_purchase'), false)
            and coalesce(bool_or(sangong_items.item_key = 'vehicle_running'), false) as has_split_columns
    from sangong_sheets
    left join sangong_items using (sheet_id)
    group by sangong_sheets.sheet_id
),

-- a non-zero vehicle amount whose purchase and running parts at the same position are blank or absent
vehicle_rows as (
    select
        vehicle.sheet_id,
        vehicle.source_row,
        vehicle.item_name,
        vehicle.amount_yuan <> 0
            and coalesce(bool_and({{ cell_is_blank('parts.value_text') }}), true) as unsplit
    from sangong_items as vehicle
    left join sangong_items as parts
        on parts.sheet_id = vehicle.sheet_id
       and parts.position_key = vehicle.position_key
       and parts.side is not distinct from vehicle.side
       and parts.item_key in ('vehicle_purchase', 'vehicle_running')
    where vehicle.item_key = 'vehicle'
    group by vehicle.sheet_id, vehicle.source_row, vehicle.item_name, vehicle.amount_yuan, vehicle.position_key
),

sangong_checks as (
    select
        'DETAIL_SANGONG_SPLIT' as rule_id,
        sangong_columns.sheet_id,
        cast(null as string) as code,
        cast(null as string) as item_name,
        min(vehicle_rows.source_row) filter (where vehicle_rows.unsplit) as source_row,
        case
            when not sangong_columns.has_split_columns then 'no purchase/running columns'
            when bool_or(vehicle_rows.unsplit) then 'vehicle amount without purchase/running parts'
            else 'split'
        end as observed,
        cast(null as integer) as threshold,
        sangong_columns.has_split_columns and not coalesce(bool_or(vehicle_rows.unsplit), false) as passes
    from sangong_columns
    left join vehicle_rows using (sheet_id)
    group by sangong_columns.sheet_id, sangong_columns.has_split_columns
),

debt_sheets as (
    select sheet_id, table_key from {{ ref('int_sheets_resolved') }}
    where is_evaluable and table_key is not null
      and {{ in_keys(budget_publisher_year_unit('publisher_code', 'fiscal_year'), units) }}
),

-- the item keys each debt sheet holds: row keys (items as rows) and column keys (1-1: items as columns)
debt_sheet_items as (
    select sheet_id, row_key as item_key from lines where row_key is not null
    union
    select sheet_id, column_key from lines where column_key is not null
),

debt_item_checks as (
    select
        'DEBT_ITEM_MISSING' as rule_id,
        debt_sheets.sheet_id,
        cast(null as string) as code,
        required.item_name_zh || ' ' || required.item_name_en || ' [' || required.item_key || '] · 影响 needed by '
            || required.needed_by as item_name,
        cast(null as integer) as source_row,
        case when held.item_key is null then '缺少 missing: ' || required.item_name_zh
             else '有 present: ' || required.item_name_zh end as observed,
        cast(null as integer) as threshold,
        held.item_key is not null as passes
    from debt_sheets
    join {{ ref('ref_debt_required_items') }} as required
        on {{ in_pipe_list('debt_sheets.table_key', 'required.table_keys') }}
    left join debt_sheet_items as held
        on held.sheet_id = debt_sheets.sheet_id
       and held.item_key = required.item_key
),

checks as (
    select * from coded_checks
    union all
    select * from sangong_checks
    union all
    select * from debt_item_checks
)

select
    checks.rule_id,
    sheets.publisher_code,
    sheets.publisher_name,
    sheets.fiscal_year,
    sheets.table_key,
    sheets.table_key as object_key,
    checks.code,
    checks.item_name,
    checks.observed,
    checks.threshold,
    checks.passes,
    sheets.source_file,
    sheets.sheet,
    checks.source_row
from checks
join {{ ref('int_sheets_resolved') }} as sheets using (sheet_id)
