-- Registry rows that say one thing twice, differently (REG_DUPLICATE_CONFLICT): a region listed again under another
-- name, level or parent; an entity listed again in one year's registry with another name, region, kind, parent,
-- fund flag or approval date; a congress approval of one region, year and document given two dates. The warehouse
-- uses one of them — the first row of a region or entity (dim_region, dim_entity, fct_disclosure_expected), the
-- earliest approval date (fct_disclosure_expected: the earlier deadline) — and each other row that differs from it
-- is a finding naming both rows and the fields that differ. A row repeated identically says nothing new: not here.
with regions as (
    select *,
           row_number() over (partition by region_code order by is_current_code desc, source_file, source_row) as rank
    from {{ ref('stg_registry__regions') }}
    where region_code is not null
),

region_conflicts as (
    select
        other.region_code as publisher_code,
        cast(null as integer) as fiscal_year,
        other.source_file, other.source_row,
        concat_ws(', ',
            case when other.region_name is distinct from kept.region_name then 'region_name' end,
            case when other.level is distinct from kept.level then 'level' end,
            case when other.parent_code is distinct from kept.parent_code then 'parent_code' end) as column_names,
        concat_ws(' · ', other.region_code, other.region_name, other.level, other.parent_code) as observed_value,
        kept.source_file as kept_source_file, kept.source_row as kept_source_row,
        concat_ws(' · ', kept.region_code, kept.region_name, kept.level, kept.parent_code) as kept_value
    from regions as other
    join regions as kept on kept.region_code = other.region_code and kept.rank = 1
    where other.rank > 1
      and (other.region_name is distinct from kept.region_name or other.level is distinct from kept.level
           or other.parent_code is distinct from kept.parent_code)
),

entities as (
    select *,
           row_number() over (partition by fiscal_year, entity_code order by source_file, source_row) as rank
    from {{ ref('stg_registry__entities') }}
    where entity_code is not null
),

entity_conflicts as (
    select
        other.entity_code, other.fiscal_year, other.source_file, other.source_row,
        concat_ws(', ',
            case when other.entity_name is distinct from kept.entity_name then 'entity_name' end,
            case when other.region_code is distinct from kept.region_code then 'region_code' end,
            case when other.entity_kind is distinct from kept.entity_kind then 'entity_kind' end,
            case when other.parent_entity_code is distinct from kept.parent_entity_code then 'parent_entity_code' end,
            case when other.has_government_fund <> kept.has_government_fund then 'has_government_fund' end,
            case when other.has_state_capital <> kept.has_state_capital then 'has_state_capital' end,
            case when other.budget_approved_on is distinct from kept.budget_approved_on then 'budget_approved_on' end,
            case when other.final_approved_on is distinct from kept.final_approved_on then 'final_approved_on' end),
        concat_ws(' · ', other.entity_name, other.region_code, other.entity_kind, other.parent_entity_code,
                  cast(other.budget_approved_on as string), cast(other.final_approved_on as string)),
        kept.source_file, kept.source_row,
        concat_ws(' · ', kept.entity_name, kept.region_code, kept.entity_kind, kept.parent_entity_code,
                  cast(kept.budget_approved_on as string), cast(kept.final_approved_on as string))
    from entities as other
    join entities as kept
        on kept.fiscal_year = other.fiscal_year and kept.entity_code = other.entity_code and kept.rank = 1
    where other.rank > 1
      and (other.entity_name is distinct from kept.entity_name or other.region_code is distinct from kept.region_code
           or other.entity_kind is distinct from kept.entity_kind
           or other.parent_entity_code is distinct from kept.parent_entity_code
           or other.has_government_fund <> kept.has_government_fund or other.has_state_capital <> kept.has_state_capital
           or other.budget_approved_on is distinct from kept.budget_approved_on
           or other.final_approved_on is distinct from kept.final_approved_on)
),

approvals as (
    select *,
           row_number() over (partition by region_code, fiscal_year, document
                              order by approved_on nulls last, source_file, source_row) as rank
    from {{ ref('stg_registry__approvals') }}
    where region_code is not null
),

approval_conflicts as (
    select
        other.region_code, other.fiscal_year, other.source_file, other.source_row,
        'approved_on',
        concat_ws(' · ', other.document, cast(other.approved_on as string)),
        kept.source_file, kept.source_row,
        concat_ws(' · ', kept.document, cast(kept.approved_on as string))
    from approvals as other
    join approvals as kept
        on kept.region_code = other.region_code and kept.fiscal_year = other.fiscal_year
       and kept.document = other.document and kept.rank = 1
    where other.rank > 1
      and other.approved_on is not null and other.approved_on <> kept.approved_on
)

select
    cast('REG_DUPLICATE_CONFLICT' as string) as rule_id,
    cast(publisher_code as string) as publisher_code,
    cast(fiscal_year as integer) as fiscal_year,
    cast(source_file as string) as source_file,
    cast(source_row as integer) as source_row,
    cast(column_names as string) as column_names,
    cast(observed_value as string) as observed_value,
    cast(kept_source_file as string) as kept_source_file,
    cast(kept_source_row as integer) as kept_source_row,
    cast(kept_value as string) as kept_value
from (
    select * from region_conflicts
    union all select * from entity_conflicts
    union all select * from approval_conflicts
) as conflicts
