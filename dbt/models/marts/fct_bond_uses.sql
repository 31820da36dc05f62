-- Use of bond proceeds (地方政府债券资金使用情况表), one row per project row. The Ningxia project code
-- shape P + YY + 64xxxx + '-' + nnnn is inferred: a mismatch is a warning (DEBT_BOND_CODE_SHAPE).
with lines as (
    select * from {{ ref('int_lines_resolved') }}
    where table_key like '%bond_use' and not is_total
),
rows as (
    select
        sheet_id,
        source_row,
        any_value(publisher_code) as publisher_code,
        any_value(fiscal_year) as fiscal_year,
        any_value(table_key) as table_key,
        any_value(source_file) as source_file,
        any_value(sheet) as sheet,
        max(text_value) filter (where column_key = 'project_name') as project_name,
        max(text_value) filter (where column_key = 'project_code') as project_code,
        max(text_value) filter (where column_key = 'project_area') as project_area,
        max(text_value) filter (where column_key = 'competent_department') as competent_department,
        max(text_value) filter (where column_key = 'implementing_unit') as implementing_unit,
        max(text_value) filter (where column_key = 'bond_type') as bond_type,
        max(coalesce(text_value, value_text)) filter (where column_key = 'issue_date') as issue_date_text,
        max(amount_yuan) filter (where column_key = 'bond_amount') as bond_amount_yuan
    from lines
    group by sheet_id, source_row
)
select
    cast(md5(sheet_id || '|' || source_row) as string) as bond_use_id,
    cast(publisher_code as string) as publisher_code,
    cast(fiscal_year as integer) as fiscal_year,
    cast(table_key as string) as table_key,
    cast(project_name as string) as project_name,
    cast(upper(project_code) as string) as project_code,
    cast(project_area as string) as project_area,
    cast(competent_department as string) as competent_department,
    cast(implementing_unit as string) as implementing_unit,
    cast(bond_type as string) as bond_type,
    cast({{ parse_date('issue_date_text') }} as date) as issue_date,
    cast(bond_amount_yuan as decimal(20, 2)) as bond_amount_yuan,
    cast(case when project_code is null then null
              else {{ regex_full_match('upper(project_code)', "'P[0-9]{2}64[0-9]{4}-[0-9]{4}'") }} end as boolean) as project_code_shape_ok,
    cast(source_file as string) as source_file,
    cast(sheet as string) as sheet,
    cast(source_row as integer) as source_row
from rows
