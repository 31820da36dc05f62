-- One row per evaluated identity (CONTRACTS.md §7): expected vs actual, difference and tolerance
-- (0.01 × unit multiplier × number of terms, at least 1). Only evaluable sheets (no rejected rows).
-- Simple "total = Σ parts" identities are data (seeds/ref_line_identities.csv); the structural ones
-- (hierarchy, two-sided balance, cross-table, region sum, balance ≤ limit) are written out below.
with lines as (
    select * from {{ ref('int_lines_resolved') }}
    where is_evaluable and table_key is not null and amount_yuan is not null
),

identities as (
    select *, string_split(table_keys, '|') as table_key_list from {{ ref('ref_line_identities') }}
),

identity_parts as (
    select
        identity_id, rule_id, table_keys, table_key_list, axis, total_key, skip_if_parts_blank,
        ltrim(part, '-') as part_key,
        case when starts_with(part, '-') then -1 else 1 end as sign,
        len(string_split(part_keys, '|')) as part_count
    from (select *, unnest(string_split(part_keys, '|')) as part from identities)
),

-- axis = column: one check per (sheet, row, side)
column_checks as (
    select
        identities.rule_id,
        identities.identity_id,
        totals.sheet_id,
        totals.source_row,
        totals.side,
        identities.total_key as column_key,
        any_value(totals.amount_yuan) as expected_yuan,
        sum(parts.sign * part_lines.amount_yuan) as actual_yuan,
        count(distinct parts.part_key) as parts_found,
        any_value(parts.part_count) as part_count,
        bool_and({{ cell_is_blank('part_lines.value_text') }}) as parts_all_blank,
        any_value(identities.skip_if_parts_blank) as skip_if_parts_blank
    from identities
    join lines as totals
        on (identities.table_keys = '*' or list_contains(identities.table_key_list, totals.table_key))
       and totals.column_key = identities.total_key
    join identity_parts as parts on parts.identity_id = identities.identity_id
    join lines as part_lines
        on part_lines.sheet_id = totals.sheet_id
       and part_lines.source_row = totals.source_row
       and part_lines.side is not distinct from totals.side
       and part_lines.column_key = parts.part_key
    where identities.axis = 'column'
    group by all
),

-- axis = row_key: one check per (sheet, column)
row_key_checks as (
    select
        identities.rule_id,
        identities.identity_id,
        totals.sheet_id,
        totals.source_row,
        totals.side,
        totals.column_key,
        any_value(totals.amount_yuan) as expected_yuan,
        sum(parts.sign * part_lines.amount_yuan) as actual_yuan,
        count(distinct parts.part_key) as parts_found,
        any_value(parts.part_count) as part_count,
        bool_and({{ cell_is_blank('part_lines.value_text') }}) as parts_all_blank,
        any_value(identities.skip_if_parts_blank) as skip_if_parts_blank
    from identities
    join lines as totals
        on list_contains(identities.table_key_list, totals.table_key)
       and totals.row_key = identities.total_key
    join identity_parts as parts on parts.identity_id = identities.identity_id
    join lines as part_lines
        on part_lines.sheet_id = totals.sheet_id
       and part_lines.row_key = parts.part_key
       and part_lines.column_key = totals.column_key
    where identities.axis = 'row_key'
    group by all
),

declared as (
    select rule_id, identity_id as check_item, sheet_id, source_row, side, column_key,
           expected_yuan, actual_yuan, part_count as term_count
    from column_checks
    where parts_found = part_count and not (skip_if_parts_blank and parts_all_blank)
    union all
    select rule_id, identity_id, sheet_id, source_row, side, column_key,
           expected_yuan, actual_yuan, part_count
    from row_key_checks
    where parts_found = part_count and not (skip_if_parts_blank and parts_all_blank)
),

-- RECON_HIERARCHY: parent code = Σ direct child codes present (per column); total row = Σ level-1 codes
coded as (
    select * from lines where code is not null and code_level is not null and not is_total
),

hierarchy as (
    select
        'RECON_HIERARCHY' as rule_id,
        'parent_' || parent.code || '_children' as check_item,
        parent.sheet_id, parent.source_row, parent.side, parent.column_key,
        any_value(parent.amount_yuan) as expected_yuan,
        sum(child.amount_yuan) as actual_yuan,
        count(*) as term_count
    from coded as parent
    join coded as child
        on child.sheet_id = parent.sheet_id
       and child.side is not distinct from parent.side
       and child.column_key = parent.column_key
       and child.code_level = parent.code_level + 1
       and starts_with(child.code, parent.code)
    group by all
    union all
    select
        'RECON_HIERARCHY',
        'total_row_level1',
        total.sheet_id, total.source_row, total.side, total.column_key,
        any_value(total.amount_yuan),
        sum(level1.amount_yuan),
        count(*)
    from lines as total
    join coded as level1
        on level1.sheet_id = total.sheet_id
       and level1.side is not distinct from total.side
       and level1.column_key = total.column_key
       and level1.code_level = 1
    where total.is_total and total.code is null
      and total.source_row = (select max(t2.source_row) from lines t2
                              where t2.sheet_id = total.sheet_id and t2.is_total and t2.code is null
                                and t2.side is not distinct from total.side)
    group by all
),

-- RECON_SUMMARY_BALANCE: two-sided summaries, the last total row of each side (收入总计 vs 支出总计)
side_totals as (
    select sheet_id, side, column_key, arg_max(amount_yuan, source_row) as amount_yuan, max(source_row) as source_row
    from lines
    where side in ('income', 'expenditure') and is_total and column_key = 'amount'
    group by all
),

summary_balance as (
    select
        'RECON_SUMMARY_BALANCE' as rule_id,
        'income_total_vs_expenditure_total' as check_item,
        income.sheet_id, expenditure.source_row, 'expenditure' as side, income.column_key,
        income.amount_yuan as expected_yuan,
        expenditure.amount_yuan as actual_yuan,
        1 as term_count
    from side_totals as income
    join side_totals as expenditure
        on expenditure.sheet_id = income.sheet_id and expenditure.column_key = income.column_key
    where income.side = 'income' and expenditure.side = 'expenditure'
),

-- RECON_CROSS_TABLE: the basic table's total = the basic column of the expenditure table's total row
last_total_rows as (
    select *
    from lines
    where is_total
    qualify source_row = max(source_row) over (partition by sheet_id)
),

cross_table as (
    select
        'RECON_CROSS_TABLE' as rule_id,
        'basic_table_total_vs_' || expenditure.table_key || '_basic' as check_item,
        basic.sheet_id, basic.source_row, basic.side, basic.column_key,
        expenditure.amount_yuan as expected_yuan,
        basic.amount_yuan as actual_yuan,
        1 as term_count
    from last_total_rows as basic
    join last_total_rows as expenditure
        on expenditure.publisher_code = basic.publisher_code
       and expenditure.fiscal_year = basic.fiscal_year
       and expenditure.column_key = 'basic'
       and ((basic.table_key = 'dept_gpb_basic' and expenditure.table_key = 'dept_gpb_expenditure')
         or (basic.table_key = 'deptf_gpb_basic' and expenditure.table_key = 'deptf_gpb_expenditure'))
    where basic.column_key = 'total'
),

-- DEBT_REGION_SUM: 1-1 本地区 = 本级 + Σ lower regions, per column
debt_rows as (
    select *,
        case
            when item_name like '%本地区%' or (is_total and item_name not like '%本级%') then 'region_total'
            when item_name like '%本级%' then 'own_level'
            else 'lower_region'
        end as row_scope
    from lines
    where table_key in ('debt_1_1', 'debtf_1_1')
),

region_sum as (
    select
        'DEBT_REGION_SUM' as rule_id,
        'region_total_vs_own_plus_lower' as check_item,
        region_total.sheet_id, region_total.source_row, region_total.side, region_total.column_key,
        any_value(region_total.amount_yuan) as expected_yuan,
        sum(parts.amount_yuan) as actual_yuan,
        count(*) as term_count
    from debt_rows as region_total
    join debt_rows as parts
        on parts.sheet_id = region_total.sheet_id
       and parts.column_key = region_total.column_key
       and parts.row_scope in ('own_level', 'lower_region')
    where region_total.row_scope = 'region_total'
    group by all
),

-- DEBT_BALANCE_OVER_LIMIT: balance ≤ limit per 1-1 row (expected = limit, actual = balance)
over_limit as (
    select
        'DEBT_BALANCE_OVER_LIMIT' as rule_id,
        'balance_' || pairs.suffix || '_le_limit' as check_item,
        balance.sheet_id, balance.source_row, balance.side, balance.column_key,
        limit_line.amount_yuan as expected_yuan,
        balance.amount_yuan as actual_yuan,
        1 as term_count
    from (values ('total'), ('general'), ('special')) as pairs(suffix)
    join debt_rows as balance on balance.column_key = 'balance_' || pairs.suffix
    join debt_rows as limit_line
        on limit_line.sheet_id = balance.sheet_id
       and limit_line.source_row = balance.source_row
       and limit_line.column_key = 'limit_' || pairs.suffix
),

-- DEBT_BALANCE_OVER_LIMIT on 1-2/1-3 (items as rows, one column per region scope as in the Ministry's layout):
-- the year-end balance ≤ that year's limit, per column (expected = limit, actual = balance)
item_over_limit as (
    select
        'DEBT_BALANCE_OVER_LIMIT' as rule_id,
        'closing_balance_le_prior_limit' as check_item,
        balance.sheet_id, balance.source_row, balance.side, balance.column_key,
        limit_line.amount_yuan as expected_yuan,
        balance.amount_yuan as actual_yuan,
        1 as term_count
    from lines as balance
    join lines as limit_line
        on limit_line.sheet_id = balance.sheet_id
       and limit_line.column_key = balance.column_key
       and limit_line.row_key = 'prior_limit'
    where balance.row_key = 'closing_balance'
      and balance.table_key in ('debt_1_2', 'debt_1_3', 'debtf_1_2', 'debtf_1_3')
),

checks as (
    select * from declared
    union all by name select * from hierarchy
    union all by name select * from summary_balance
    union all by name select * from cross_table
    union all by name select * from region_sum
    union all by name select * from over_limit
    union all by name select * from item_over_limit
),

sheets as (
    select * from {{ ref('int_sheets_resolved') }}
)

select
    cast(checks.rule_id as varchar) as rule_id,
    sheets.publisher_code,
    sheets.publisher_name,
    sheets.fiscal_year,
    sheets.table_key,
    sheets.table_key as object_key,
    cast(checks.check_item as varchar) as check_item,
    checks.side,
    checks.column_key,
    cast(checks.expected_yuan as decimal(20, 2)) as expected_yuan,
    cast(checks.actual_yuan as decimal(20, 2)) as actual_yuan,
    cast(checks.actual_yuan - checks.expected_yuan as decimal(20, 2)) as difference_yuan,
    cast(0.01 * coalesce(sheets.unit_multiplier, 1) * greatest(checks.term_count, 1) as decimal(20, 2)) as tolerance_yuan,
    case
        when checks.rule_id = 'DEBT_BALANCE_OVER_LIMIT' then checks.actual_yuan <= checks.expected_yuan
        else abs(checks.actual_yuan - checks.expected_yuan) <= 0.01 * coalesce(sheets.unit_multiplier, 1) * greatest(checks.term_count, 1)
    end as is_consistent,
    sheets.source_file,
    sheets.sheet,
    checks.source_row
from checks
join sheets using (sheet_id)
