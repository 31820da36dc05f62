-- The counts of a department's 三公 detail (DOMAIN.md 2.2: a final gives trips abroad and people, vehicles bought and
-- held, domestic receptions: batches, people), one row per disclosure (publisher, year, document) and count
-- (ref_sangong_count_items): what its 三公 table gives (stg_budget__counts) and what its 三公 explanation states
-- (stg_budget__statements), each with where it stands. Rule inputs of NARR_COUNT_MISSING (a final's 三公 explanation
-- that states a count nowhere) and NARR_COUNT_MISMATCH (table and explanation give different counts). A budget is
-- asked for no count; its rows are here only where it gives some.
with items as (
    select count_key, document as required_in, name_zh, unit_zh
    from {{ ref('ref_sangong_count_items') }}
),

names as (
    select publisher_code, min(publisher_name) as publisher_name
    from {{ ref('int_sheets_resolved') }}
    where publisher_kind = 'department' and publisher_code is not null
    group by publisher_code
),

-- the table's count: the year's own column (a count column, or the 决算数 / 统计数 of an item row), first cell first —
-- of a count column's cells, one stating a count first: count columns beside one row per cost are filled on their own
-- cost's row (团组数 beside 因公出国（境）费), the other rows' blanks and dashes (合计 first) are no count of 0 (an item
-- row of a lower block is its count, 0 or not: the first such row stands)
table_counts as (
    select
        sheets.publisher_code, sheets.fiscal_year, sheets.phase as document, counts.count_key, counts.count_value,
        counts.source_file, counts.sheet, counts.source_row, counts.source_column,
        row_number() over (
            partition by sheets.publisher_code, sheets.fiscal_year, sheets.phase, counts.count_key
            order by counts.source_file, counts.sheet,
                     case when counts.column_key = counts.count_key and counts.count_value = 0 then 1 else 0 end,
                     counts.source_page nulls first, counts.source_row, counts.source_column
        ) as pick
    from {{ ref('stg_budget__counts') }} as counts
    join {{ ref('int_sheets_resolved') }} as sheets on sheets.sheet_id = counts.sheet_id
    where sheets.publisher_kind = 'department' and sheets.publisher_code is not null and sheets.is_evaluable
      and counts.column_key in (counts.count_key, 'amount')
),

stated as (
    select
        files.publisher_code, files.fiscal_year, files.document, statements.statement_key as count_key,
        statements.count_value, statements.value_text, statements.source_file, statements.sheet,
        statements.source_row,
        row_number() over (
            partition by files.publisher_code, files.fiscal_year, files.document, statements.statement_key
            order by statements.source_file, statements.source_page nulls first, statements.sheet,
                     statements.source_row
        ) as pick
    from {{ ref('stg_budget__statements') }} as statements
    join {{ ref('int_disclosure_files') }} as files on files.source_file = statements.source_file
    where statements.count_value is not null
),

explained as (
    select
        publisher_code, fiscal_year, document, table_key, source_file, sheet, source_row,
        row_number() over (
            partition by publisher_code, fiscal_year, document
            order by source_file, source_page nulls first, sheet, source_row, table_key
        ) as pick
    from {{ ref('int_explanations_resolved') }}
    where table_key in ('dept_expl_sangong', 'deptf_expl_sangong')
),

disclosures as (
    select publisher_code, fiscal_year, document from explained
    where pick = 1 and document in (select required_in from items)
    union
    select publisher_code, fiscal_year, document from stated
    union
    select publisher_code, fiscal_year, document from table_counts
)

select
    cast(md5(disclosures.publisher_code || '|' || cast(disclosures.fiscal_year as string) || '|' || disclosures.document
             || '|' || items.count_key) as string)                        as sangong_count_id,
    cast(disclosures.publisher_code as string)                             as publisher_code,
    cast(names.publisher_name as string)                                   as publisher_name,
    cast(disclosures.fiscal_year as integer)                               as fiscal_year,
    cast(disclosures.document as string)                                   as document,
    cast(items.count_key as string)                                        as count_key,
    cast(items.name_zh as string)                                          as count_name,
    cast(items.unit_zh as string)                                          as count_unit,
    cast(table_counts.count_value as integer)                              as table_count,
    cast(table_counts.source_file as string)                               as table_source_file,
    cast(table_counts.sheet as string)                                     as table_sheet,
    cast(table_counts.source_row as integer)                               as table_source_row,
    cast(table_counts.source_column as string)                             as table_source_column,
    cast(stated.count_value as integer)                                    as stated_count,
    cast(stated.value_text as string)                                      as stated_text,
    cast(stated.source_file as string)                                     as stated_source_file,
    cast(stated.sheet as string)                                           as stated_sheet,
    cast(stated.source_row as integer)                                     as stated_source_row,
    cast(explained.table_key as string)                                    as explanation_key,
    cast(explained.source_file as string)                                  as explanation_source_file,
    cast(explained.sheet as string)                                        as explanation_sheet,
    cast(explained.source_row as integer)                                  as explanation_source_row,
    cast(explained.table_key is not null and items.required_in = disclosures.document as boolean) as count_required,
    cast(case when table_counts.count_value is null or stated.count_value is null then null
              else table_counts.count_value = stated.count_value end as boolean) as counts_agree
from disclosures
cross join items
left join names on names.publisher_code = disclosures.publisher_code
left join table_counts
    on table_counts.publisher_code = disclosures.publisher_code and table_counts.fiscal_year = disclosures.fiscal_year
   and table_counts.document = disclosures.document and table_counts.count_key = items.count_key
   and table_counts.pick = 1
left join stated
    on stated.publisher_code = disclosures.publisher_code and stated.fiscal_year = disclosures.fiscal_year
   and stated.document = disclosures.document and stated.count_key = items.count_key and stated.pick = 1
left join explained
    on explained.publisher_code = disclosures.publisher_code and explained.fiscal_year = disclosures.fiscal_year
   and explained.document = disclosures.document and explained.pick = 1
