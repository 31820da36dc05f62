-- Budget and debt lines with their sheet's resolution (publisher, table_key, evaluability).
-- Incremental by load, one publisher-year at a time (macros/budget_units.sql): only the lines of sheets whose
-- publisher-year's resolved sheets changed are read (their files' lines: budget_unit_files); each row carries its
-- unit and the unit's input fingerprint.
{%- set units = budget_units_to_rebuild('publisher_year') %}
{%- set files = budget_unit_files(units) %}
{{ config(pre_hook="{{ budget_clear_rebuilt_units('publisher_year') }}", **budget_unit_incremental_config()) }}
{{ budget_rebuild_marker(units) }}
with sheets as (
    select
        sheets.*,
        {{ budget_publisher_year_unit('sheets.publisher_code', 'sheets.fiscal_year') }} as rebuild_unit
    from {{ ref('int_sheets_resolved') }} as sheets
),

unit_fingerprints as (
    {{ budget_publisher_year_fingerprints() }}
),

sheets_in_scope as (
    select sheets.*, unit_fingerprints.unit_fingerprint
    from sheets
    join unit_fingerprints on unit_fingerprints.rebuild_unit = sheets.rebuild_unit
    where {{ in_keys('sheets.rebuild_unit', units) }}
)

select
    lines.*,
    sheets.table_key,
    sheets.publisher_kind,
    sheets.publisher_code,
    sheets.publisher_name,
    sheets.region_code,
    sheets.fiscal_year,
    sheets.phase,
    sheets.required_detail,
    sheets.unit_multiplier,
    sheets.is_evaluable,
    sheets.rebuild_unit,
    sheets.unit_fingerprint
from (
    {# both from the one macro stg_workbook_lines: the same columns in the same order #}
    select * from {{ ref('stg_budget__lines') }} where {{ in_keys('source_file', files) }}
    union all
    select * from {{ ref('stg_debt__lines') }} where {{ in_keys('source_file', files) }}
) as lines
-- `on`, not `using`: Spark would move the USING column to the front of lines.*
join sheets_in_scope as sheets on sheets.sheet_id = lines.sheet_id
