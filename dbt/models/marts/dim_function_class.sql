-- Function classification (功能分类), one row per fiscal year × code: the code list is reissued yearly.
with years as (
    select fiscal_year from {{ integer_range(2015, 'year(' ~ as_of_date() ~ ')', 'fiscal_year') }} as t
)
select
    years.fiscal_year,
    cast(classes.code as string) as code,
    cast(classes.level as integer) as level,
    cast(classes.parent_code as string) as parent_code,
    cast(classes.name as string) as name
from {{ ref('ref_function_classes') }} as classes
join years
    on years.fiscal_year between classes.valid_from_year and coalesce(classes.valid_to_year, 9999)
