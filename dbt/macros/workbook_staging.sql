{#- Budget and debt workbooks share one raw shape (raw.<family>_sheets / raw.<family>_lines), so one
    macro stages both families: rename, cast, standardise only. -#}

{% macro stg_workbook_sheets(family) -%}
select
    md5(source_file || '|' || sheet)                   as sheet_id,
    '{{ family }}'                                      as family,
    source_file,
    source_sha256,
    sheet,
    sheet_index,
    {{ clean_name('title') }}                           as title,
    {{ clean_name('table_name') }}                      as table_name,
    {{ clean_name('entity_name') }}                     as entity_name,
    {# the publisher as compared with registry names: its own-level suffix (本级, (本级) …) ignored (CONTRACTS §7) #}
    {{ publisher_name_key('entity_name') }}             as entity_name_key,
    {{ clean_name('publisher_line') }}                  as publisher_line,
    cast(fiscal_year as integer)                        as fiscal_year,
    lower(trim(phase))                                  as phase,
    trim(unit_label)                                    as unit_label,
    cast(unit_multiplier as decimal(20, 4))             as unit_multiplier,
    code_layout,
    header_row_count,
    data_row_count,
    note_text,
    coalesce(is_empty, false)                           as is_empty,
    coalesce(has_empty_note, false)                     as has_empty_note,
    status,
    reason
from {{ source(family, family ~ '_sheets') }}
where not coalesce(is_retired, false)
{%- endmacro %}

{#- Columns of bond-use and similar tables that hold text, never amounts. -#}
{% macro workbook_text_column_keys() -%}
('project_name', 'project_code', 'project_area', 'competent_department', 'implementing_unit', 'bond_type', 'issue_date')
{%- endmacro %}

{% macro stg_workbook_lines(family) -%}
with lines as (
    select * from {{ source(family, family ~ '_lines') }} where not coalesce(is_retired, false)
),
sheets as (
    select source_file, sheet, unit_multiplier
    from {{ source(family, family ~ '_sheets') }}
    where not coalesce(is_retired, false)
)
select
    {# one line per cell: a PDF row also has its page; two cells of one row may share a column_key (1-4's
       一般债券 | 专项债券 cells are items of the row under `amount`), so the cell's column is part of it too #}
    md5(lines.source_file || '|' || lines.sheet || '|' || coalesce(cast(lines.source_page as string) || ':', '') || lines.source_row
        || '|' || coalesce(lines.side, '') || '|' || lines.column_key || '|' || lines.source_column) as line_id,
    '{{ family }}'                                             as family,
    md5(lines.source_file || '|' || lines.sheet)               as sheet_id,
    lines.source_file,
    lines.sheet,
    lines.source_row,
    {{ clean_name('lines.table_name') }}                       as table_name,
    lower(trim(lines.side))                                    as side,
    {%- set digits = "nullif(" ~ regex_replace_all("coalesce(lines.line_code, '')", "'[^0-9]'", "''") ~ ", '')" %}
    {{ digits }} as code,
    {{ code_level(digits) }} as code_level,
    {{ clean_name('lines.line_label') }}                       as item_name,
    lines.indent_level,
    lines.is_total,
    lines.row_key,
    lines.column_key,
    lines.source_column,
    lines.value_text,
    case when lines.column_key in {{ workbook_text_column_keys() }}
         then {{ clean_name('lines.value_text') }} end         as text_value,
    {{ workbook_line_amount_yuan('lines', 'sheets') }}          as amount_yuan
from lines
left join sheets
    on sheets.source_file = lines.source_file and sheets.sheet = lines.sheet
{%- endmacro %}

{#- A line's amount in 元: loaders convert to 元 already; where a loader left a numeric cell unconverted,
    it is converted here with the sheet's unit, rounded to the fen (分), never through float. -#}
{% macro workbook_line_amount_yuan(lines, sheets) -%}
    case
        when {{ lines }}.column_key in {{ workbook_text_column_keys() }} then null
        when {{ lines }}.amount_yuan is not null then cast({{ lines }}.amount_yuan as decimal(20, 2))
        else {{ to_yuan("try_cast(replace(replace(trim(" ~ lines ~ ".value_text), ',', ''), '，', '') as decimal(38, 6))",
                        'coalesce(' ~ sheets ~ '.unit_multiplier, 1)') }}
    end
{%- endmacro %}

{#- Every version of every figure line of a family: the present rows and the superseded versions of
    replaced files (is_retired, kept by the loaders; CONTRACTS §2), each with the load that wrote it and
    its sheet's year, publisher name and notes. Rename, cast, standardise only: the versions are paired
    in int_figure_versions. Text columns (bond-use project names …) are not figures. -#}
{% macro stg_workbook_line_versions(family) -%}
with lines as (
    select * from {{ source(family, family ~ '_lines') }}
),
sheets as (
    select load_id, source_file, sheet, sheet_index, title, entity_name, fiscal_year, unit_multiplier, note_text
    from {{ source(family, family ~ '_sheets') }}
)
select
    '{{ family }}'                                             as family,
    lines.load_id,
    lines.source_file,
    lines.source_sha256,
    lines.sheet,
    sheets.sheet_index,
    lines.source_row,
    {{ clean_name('lines.table_name') }}                       as table_name,
    lower(trim(lines.side))                                    as side,
    nullif({{ regex_replace_all("coalesce(lines.line_code, '')", "'[^0-9]'", "''") }}, '') as code,
    {{ clean_name('lines.line_label') }}                       as item_name,
    lines.row_key,
    lines.column_key,
    lines.source_column,
    cast(sheets.fiscal_year as integer)                        as fiscal_year,
    {{ publisher_name_key('sheets.entity_name') }}             as entity_name_key,
    {{ clean_name('sheets.title') }}                           as title,
    sheets.note_text,
    {{ workbook_line_amount_yuan('lines', 'sheets') }}          as amount_yuan
from lines
left join sheets
    on sheets.load_id = lines.load_id and sheets.source_file = lines.source_file and sheets.sheet = lines.sheet
where lines.column_key not in {{ workbook_text_column_keys() }}
{%- endmacro %}
