-- The rows of debt tables that stand for the whole region (本地区 of 1-1: 本地区 = 本级 + 下级地区), decided in ONE
-- place from ONE vocabulary, seeds/ref_debt_whole_region_labels.csv: fct_debt_positions (row_scope region_total)
-- and the DEBT_REGION_SUM selector `whole_region` (int_reconciliation_checks) both read this model, so the mart
-- and the rule cannot disagree on which row is the whole region. A row is the whole region when its label key
-- (numbering and spaces removed) is a word of the vocabulary (exact, or containing it), or — match_kind
-- own_region_name — is a name the registry or ref_regions gives the region code of the table's own sheet
-- (银川市 in 银川市's 1-1, 宁夏回族自治区 in the autonomous region's): found by the code, not by a list of names.
-- Small: the labelled lines of debt tables only (the catalogue's book debt, in debt files or, as 贺兰县 prints them,
-- inside a budget workbook), one row per sheet row.
with lines as (
    select distinct lines.sheet_id, lines.source_row, lines.region_code, {{ label_key('lines.item_name') }} as label_key
    from {{ ref('int_lines_resolved') }} as lines
    join {{ ref('ref_disclosure_catalogue') }} as catalogue
        on catalogue.table_key = lines.table_key
    where catalogue.book = 'debt' and lines.item_name is not null
),

vocabulary as (
    select trim(word) as word, trim(match_kind) as match_kind
    from {{ ref('ref_debt_whole_region_labels') }}
),

-- every name a region code has (the registry's, the reference's), compared as label keys
region_names as (
    select distinct region_code, {{ label_key('region_name') }} as name_key
    from (
        select region_code, region_name from {{ ref('stg_registry__regions') }} where region_code is not null
        union all
        select cast(region_code as string), trim(region_name) from {{ ref('ref_regions') }}
    ) as names
    where region_name is not null
),

by_word as (
    select lines.sheet_id, lines.source_row, vocabulary.match_kind
    from lines
    join vocabulary
        on (vocabulary.match_kind = 'exact' and lines.label_key = vocabulary.word)
        or (vocabulary.match_kind = 'contains' and instr(lines.label_key, vocabulary.word) > 0)
),

by_own_name as (
    select lines.sheet_id, lines.source_row, own.match_kind
    from lines
    join region_names
        on region_names.region_code = lines.region_code
       and region_names.name_key = lines.label_key
    -- only while the vocabulary says so
    cross join (select distinct match_kind from vocabulary where match_kind = 'own_region_name') as own
)

select
    cast(sheet_id as string) as sheet_id,
    cast(source_row as integer) as source_row,
    cast(min(match_kind) as string) as match_kind
from (
    select * from by_word
    union all
    select * from by_own_name
) as matched
group by sheet_id, source_row
