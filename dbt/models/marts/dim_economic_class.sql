-- Economic classification (经济分类), department (301…) and government (501…) schemes, per fiscal year.
with years as (
    select fiscal_year from {{ integer_range(2015, 'year(' ~ as_of_date() ~ ')', 'fiscal_year') }} as t
)
select
    years.fiscal_year,
    cast(classes.code as string) as code,
    cast(classes.level as integer) as level,
    cast(classes.parent_code as string) as parent_code,
    cast(classes.name as string) as name,
    cast(classes.scheme as string) as scheme
from {{ ref('ref_economic_classes') }} as classes
join years
    on years.fiscal_year between classes.valid_from_year and coalesce(classes.valid_to_year, 9999)
