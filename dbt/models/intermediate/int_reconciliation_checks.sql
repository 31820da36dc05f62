-- One row per evaluated identity (CONTRACTS.md §7), all read from ONE spec, seeds/ref_line_identities.csv:
-- each identity has a left term, a right term (Σ of items, '-' subtracts) and optionally a guard; a term
-- names tables, a side, a row selector and items. Column-layout and row-layout tables go through the same
-- path (int_line_items: an item at a position). Terms are matched on:
--   position  the same row (column layout) or column (row layout) of one sheet (合计 = 基本 + 项目);
--   item      the same item of one sheet (收入总计 = 支出总计; 本地区 = 本级 + 下级, per column);
--   code_item the same code and item of one sheet (parent = Σ children);
--   label_item a section and the lines under it, by indent, of one sheet printed by name only (int_line_items);
--   code      the same classification code in the publisher's tables of one year and phase;
--   none      one figure per table of the publisher, year and phase (收支总表 支出总计 = 支出总表 合计).
-- Row selectors: each (every row), total (the sheet's last total row), label:<regex> (the first row whose label key
-- matches), whole_region (the debt table's whole-region row, int_debt_whole_region_rows: one vocabulary with the
-- mart), whole_region_column / region_columns (a 1-1 with items as rows: its 本地区 column / its 本级 and regions'
-- columns), column:<regex> (items as rows: the columns whose key matches), code / code_parent / code_level1 / lei_name,
-- label_section / label_parent (a table by name only: a line as a section / a line under one),
-- rest (every other non-total row); 'a>b': a, else b.
-- A row-layout position match (items as rows, e.g. debt 1-2's 限额 and 年末余额) also says which column it judged
-- (position_column: amount = 本地区, amount_own_level = 本级, region:<name>; source_column: the cell's column).
-- Tolerance: half a unit of each figure's table per figure compared (DOMAIN.md 2.2): two rounded 元 figures
-- may differ by 1 元; a debt table, half of the last decimal it prints (figure_step below).
-- Alternatives (alternative_of) are other readings of the same identity: it holds when any of them holds, and the
-- row reported is the one that held (else the primary).
-- Incremental by load, one publisher-year at a time (macros/budget_units.sql): an identity is evaluated within one
-- publisher, year and phase, so only the items of the units to rebuild are read.
{%- set units = budget_units_to_rebuild('publisher_year') %}
{{ config(pre_hook="{{ budget_clear_rebuilt_units('publisher_year') }}", **budget_unit_incremental_config()) }}
{{ budget_rebuild_marker(units) }}
with identities as (
    select
        *,
        length(right_items) - length(replace(right_items, '|', '')) + 1 as right_item_count
    from {{ ref('ref_line_identities') }}
),

terms as (
    select identity_id, match_on, 'L' as role, left_tables as tables, left_side as side, left_rows as selectors,
           left_items as items
    from identities
    union all
    select identity_id, match_on, 'R', coalesce(right_tables, left_tables), right_side, right_rows, right_items
    from identities
    union all
    select identity_id, match_on, 'G', guard_tables, cast(null as string), guard_rows, guard_items
    from identities
    where guard_tables is not null
),

-- 'a>b': rows chosen by a where a sheet has them, else by b
selectors as (
    select *, 1 as preference, split_part(selectors, '>', 1) as selector from terms
    union all
    select *, 2, split_part(selectors, '>', 2) from terms where selectors like '%>%'
),

parsed as (
    select
        *,
        case when selector like 'label:%' then 'label' when selector like 'column:%' then 'column'
             else selector end as selector_kind,
        case when selector like 'label:%' then substr(selector, 7) end as label_pattern,
        case when selector like 'column:%' then substr(selector, 8) end as column_pattern
    from selectors
),

-- figure_step: the step a figure of the sheet is rounded to — one unit of its table (DOMAIN.md 2.2: a 1-unit gap is
-- rounding), except in debt tables in 亿元 (DOMAIN.md 2.3: "rounding tolerance stated in the table's unit") printed to
-- 2-4 decimals: there the last decimal printed — the most decimals a figure of the sheet shows. Half a 亿元 per figure
-- made a 1-2's year-end balance 500 万元 off its roll-forward "rounding". A workbook cell stores what a formula computed
-- (3.441395) and prints it through its number format (0.00 → 3.44): value_text is the printed text where the cell has
-- a format (number_formats.py; '1,234.57', '¥3.44', '3.44亿元'), else the stored value's — and a step of the stored
-- digits made a printed table that adds up (3.44 + 1.93 = 5.37) fail by 15 元, so a sheet some figure of which shows
-- more than 4 decimals (no format read: General, a PDF of such a cell) keeps one unit. Not in 万元: a 万元 figure
-- computed from 元 stores 4 decimals however it is printed.
items_in_scope as (
    select
        *,
        coalesce(unit_multiplier, 1) * case
            when is_debt_book and coalesce(unit_multiplier, 1) >= 100000000
                 and coalesce(max(printed_decimals) over (partition by sheet_id), 0) <= 4
            then power(10, -coalesce(max(printed_decimals) over (partition by sheet_id), 0))
            else 1 end as figure_step
    from (
        select
            items.*,
            coalesce(catalogue.book = 'debt', false) as is_debt_book,
            length(regexp_extract(trim(items.value_text), '^[^0-9]{0,3}[0-9][0-9,，]*[.]([0-9]+)[^0-9.]{0,4}$', 1))
                as printed_decimals
        from {{ ref('int_line_items') }} as items
        left join {{ ref('ref_disclosure_catalogue') }} as catalogue on catalogue.table_key = items.table_key
        where {{ in_keys('rebuild_unit', units) }}
    )
),

-- each term's (table, item) pairs, resolved on the small catalogue and item vocabularies so that the join with
-- the lines below is an equi-join (the '|' lists are matched once here, not once per line)
term_keys as (
    select
        parsed.*,
        catalogue.table_key,
        vocabulary.item_key,
        {{ list_sign('vocabulary.item_key', 'parsed.items') }} as sign
    from parsed
    join {{ ref('ref_disclosure_catalogue') }} as catalogue
        on {{ in_pipe_list('catalogue.table_key', 'parsed.tables') }}
    join (select distinct item_key from items_in_scope) as vocabulary
        on {{ in_pipe_list('vocabulary.item_key', 'parsed.items') }}
),

candidates as (
    select
        term_keys.identity_id, term_keys.match_on, term_keys.role, term_keys.preference, term_keys.selector_kind,
        term_keys.sign,
        items.*
    from term_keys
    join items_in_scope as items
        on items.table_key = term_keys.table_key
       and items.item_key = term_keys.item_key
       and (term_keys.side is null or items.side = term_keys.side)
       and (items.is_primary_sheet or term_keys.match_on in ('position', 'item', 'code_item', 'label_item'))
    left join {{ ref('int_debt_whole_region_rows') }} as whole_region
        on term_keys.selector_kind = 'whole_region'
       and whole_region.sheet_id = items.sheet_id
       and whole_region.source_row = items.source_row
    where case term_keys.selector_kind
        when 'each' then true
        when 'total' then items.is_total and items.code is null and items.source_row = items.last_total_row
        when 'label' then {{ regex_search('items.label_key', 'term_keys.label_pattern') }}
        when 'whole_region' then whole_region.sheet_id is not null
        -- a 1-1 with items as rows: its whole-region column (本地区, or the own name: amount) / every other region's
        when 'whole_region_column' then items.is_row_layout and items.position_key = 'amount'
        when 'region_columns' then items.is_row_layout and items.position_key <> 'amount'
        -- items as rows: the columns whose key matches (合计 | 一般债券 | 专项债券 of a 1-4 row that is no *_total)
        when 'column' then items.is_row_layout and {{ regex_search('items.position_key', 'term_keys.column_pattern') }}
        when 'code' then items.code_level is not null and not items.is_total
        when 'code_parent' then items.code_level >= 2 and not items.is_total
        when 'code_level1' then items.code_level = 1 and not items.is_total
        when 'lei_name' then items.lei_code is not null and not items.is_total
        when 'rest' then not items.is_total
        -- a table by name only (int_line_items.label_parent_row): any line as a section, a line under a section
        when 'label_section' then items.code is null and not items.is_total and not items.is_row_layout
        when 'label_parent' then items.label_parent_row is not null
        else false
    end
),

-- the preferred selector where the sheet has its rows; a label (or whole_region) picks its first matching row
chosen as (
    select *
    from candidates
    qualify preference = min(preference) over (partition by identity_id, role, sheet_id)
        and (selector_kind not in ('label', 'whole_region')
             or source_row = min(source_row) over (partition by identity_id, role, sheet_id, preference))
),

left_rows as (
    select distinct identity_id, sheet_id, source_row from chosen where role = 'L'
),

-- 'rest': every other non-total row of the sheet
terms_chosen as (
    select chosen.*
    from chosen
    left join left_rows
        on chosen.selector_kind = 'rest'
       and left_rows.identity_id = chosen.identity_id
       and left_rows.sheet_id = chosen.sheet_id
       and left_rows.source_row = chosen.source_row
    where left_rows.identity_id is null
),

matched as (
    select
        *,
        case match_on
            when 'position' then sheet_id || '|' || coalesce(side, '') || '|' || position_key
            when 'item' then sheet_id || '|' || item_key
            when 'code_item' then sheet_id || '|' || coalesce(side, '') || '|'
                || case when selector_kind = 'code_parent' then left(code, length(code) - 2) else code end
                || '|' || item_key
            when 'code' then case when selector_kind = 'lei_name' then lei_code else code end
            when 'label_item' then sheet_id || '|' || coalesce(side, '') || '|'
                || cast(case when selector_kind = 'label_parent' then label_parent_row else source_row end as string)
                || '|' || item_key
            else ''
        end as match_value
    from terms_chosen
    where role in ('L', 'R')
),

guards as (
    select identity_id, publisher_code, fiscal_year, phase, sum(abs(amount_yuan)) as guard_yuan
    from terms_chosen
    where role = 'G'
    group by all
),

evaluated as (
    select
        identity_id, publisher_code, fiscal_year, phase, match_value,
        sum(amount_yuan) filter (where role = 'L') as left_yuan,
        sum(sign * amount_yuan) filter (where role = 'R') as right_yuan,
        count(*) filter (where role = 'L') as left_lines,
        count(*) filter (where role = 'R') as right_lines,
        count(distinct item_key) filter (where role = 'R') as right_items_found,
        -- a term's cell the reader found not stated (int_line_items: no figure): the identity cannot be judged
        count(*) filter (where amount_yuan is null) as unstated_lines,
        coalesce(bool_and({{ cell_is_blank('value_text') }}) filter (where role = 'R'), false) as right_all_blank,
        sum(0.5 * figure_step) as tolerance_yuan,
        {#- the first line of each term (by row, then sheet, side, item): every field from that one line, whatever
            order the engine reads the lines in -#}
        {%- set first_line = struct_of({'r': 'source_row', 's': 'sheet_id', 'd': "coalesce(side, '')", 'i': 'item_key'}) %}
        min_by(sheet_id, {{ first_line }}) filter (where role = 'L') as left_sheet_id,
        min(source_row) filter (where role = 'L') as left_source_row,
        min_by(sheet_id, {{ first_line }}) filter (where role = 'R') as right_sheet_id,
        min(source_row) filter (where role = 'R') as right_source_row,
        min_by(side, {{ first_line }}) filter (where role = 'L') as left_side,
        min_by(item_key, {{ first_line }}) filter (where role = 'L') as left_item,
        -- a section of a table by name only is named by its label (no code)
        min_by(coalesce(code, lei_code, case when selector_kind = 'label_section' then item_name end), {{ first_line }})
            filter (where role = 'L') as left_code,
        coalesce(bool_or(is_row_layout) filter (where role = 'L'), false) as left_row_layout,
        min_by(position_key, {{ first_line }}) filter (where role = 'L') as left_position,
        min_by(source_column, {{ first_line }}) filter (where role = 'L') as left_source_column,
        coalesce(bool_or(selector_kind = 'column') filter (where role = 'L'), false) as left_by_column
    from matched
    group by identity_id, publisher_code, fiscal_year, phase, match_value
),

judged as (
    select
        evaluated.*,
        identities.rule_id,
        identities.comparison,
        identities.object_side,
        identities.note,
        identities.match_on,
        coalesce(identities.alternative_of, identities.identity_id) as identity_group,
        identities.alternative_of is not null as is_alternative,
        case identities.comparison
            when 'ge' then evaluated.left_yuan >= evaluated.right_yuan
            else abs(evaluated.right_yuan - evaluated.left_yuan) <= evaluated.tolerance_yuan
        end as is_consistent
    from evaluated
    join identities using (identity_id)
    left join guards using (identity_id, publisher_code, fiscal_year, phase)
    where evaluated.left_lines > 0
      and evaluated.right_lines > 0
      and (case when identities.min_right_items = 'all'
                then evaluated.right_items_found = identities.right_item_count
                else evaluated.right_items_found >= cast(identities.min_right_items as integer) end)
      and not (identities.skip_if_right_blank and evaluated.right_all_blank)
      and evaluated.unstated_lines = 0
      and coalesce(guards.guard_yuan, 0) = 0
),

-- an identity holds when any of its readings holds: report the reading that held, else the primary
decided as (
    select *
    from judged
    qualify row_number() over (
        partition by identity_group, publisher_code, fiscal_year, phase, match_value
        order by is_consistent desc, is_alternative, identity_id
    ) = 1
),

sheets as (
    select * from {{ ref('int_sheets_resolved') }}
),

-- the units' fingerprints come with the items (int_line_items is built first in the same build, so they are today's)
unit_fingerprints as (
    select distinct rebuild_unit, unit_fingerprint from items_in_scope
)

select
    cast(decided.rule_id as string) as rule_id,
    object_sheet.publisher_code,
    object_sheet.publisher_name,
    decided.fiscal_year,
    object_sheet.table_key,
    object_sheet.table_key as object_key,
    cast(decided.identity_id as string) as identity_id,
    cast(decided.identity_id || coalesce(' ' || decided.left_code, '') || ' [' || decided.left_item || ']' as string)
        as check_item,
    cast(compared_sheet.table_key as string) as compared_table_key,
    decided.left_side as side,
    decided.left_item as column_key,
    cast(decided.left_yuan as decimal(20, 2)) as expected_yuan,
    cast(decided.right_yuan as decimal(20, 2)) as actual_yuan,
    cast(decided.right_yuan - decided.left_yuan as decimal(20, 2)) as difference_yuan,
    cast(decided.tolerance_yuan as decimal(20, 2)) as tolerance_yuan,
    decided.comparison,
    decided.is_consistent,
    decided.comparison = 'eq' and decided.is_consistent and decided.right_yuan <> decided.left_yuan as is_rounding,
    cast(decided.note as string) as identity_note,
    object_sheet.source_file,
    object_sheet.sheet,
    case when decided.object_side = 'right' then decided.right_source_row else decided.left_source_row end as source_row,
    -- the column judged: a position match's in a row-layout table, and an item match's chosen by column (1-4's 合计
    -- against its 一般债券 | 专项债券 cells: the 合计 cell's)
    cast(case when (decided.match_on = 'position' or decided.left_by_column) and decided.left_row_layout
              then decided.left_position end as string) as position_column,
    cast(case when (decided.match_on = 'position' or decided.left_by_column) and decided.left_row_layout
              then decided.left_source_column end as string) as source_column,
    unit_fingerprints.rebuild_unit,
    unit_fingerprints.unit_fingerprint
from decided
join unit_fingerprints
    on unit_fingerprints.rebuild_unit = {{ budget_publisher_year_unit('decided.publisher_code', 'decided.fiscal_year') }}
join sheets as object_sheet
    on object_sheet.sheet_id = case when decided.object_side = 'right' then decided.right_sheet_id else decided.left_sheet_id end
join sheets as compared_sheet
    on compared_sheet.sheet_id = case when decided.object_side = 'right' then decided.left_sheet_id else decided.right_sheet_id end
