-- Every readable sheet of a budget or debt workbook resolved to its publisher and catalogue table_key,
-- with the portal publication that published its workbook (CONTRACTS.md §7 "Published").
-- One table once: a second copy of a table of one publisher and year (int_sheet_duplicates) is left
-- out, so no mart counts it twice. A publisher neither the registry nor the portal names gets a
-- stable key from the name the file gives (never NULL), flagged is_registered_publisher = false.
with sheets as (
    select * from (
        {# both from the one macro stg_workbook_sheets: the same columns in the same order #}
        select * from {{ ref('stg_budget__sheets') }}
        union all
        select * from {{ ref('stg_debt__sheets') }}
    ) as all_sheets
    where sheet_id not in (select sheet_id from {{ ref('int_sheet_duplicates') }})
),

catalogue as (
    select
        table_key, publisher_kind, document, table_name_zh, required_detail,
        {{ title_key('table_name_zh') }} as table_name_key,
        count(*) over (partition by {{ title_key('table_name_zh') }}) as kinds_sharing_name
    from {{ ref('ref_disclosure_catalogue') }}
),

{{ publisher_name_ctes() }}

{{ registry_names_cte('sheets') }}

entity_by_name_any_year as (
    select entity_name, min(entity_code) as entity_code, min(region_code) as region_code
    from {{ ref('stg_registry__entities') }}
    where entity_code is not null
    group by entity_name
    having count(distinct entity_code) = 1
),

publications as (
    -- the publications that may publish the sheet (int_attachment_sheets: the title names no other publisher)
    select
        sheets.sheet_id,
        publications.publisher_code,
        publications.published_at,
        publications.title,
        publications.url,
        row_number() over (
            partition by sheets.sheet_id
            order by publications.published_at nulls last, publications.portal_file, publications.portal_row
        ) as publication_rank,
        count(*) over (partition by sheets.sheet_id) as publication_count
    from sheets
    join (
        {# one publication once, also when its cell lists the file twice (a name, then a link to it) #}
        select distinct sheet_id, publication_id, publisher_code, published_at, title, url, portal_file, portal_row
        from {{ ref('int_attachment_sheets') }}
        where may_publish
    ) as publications on publications.sheet_id = sheets.sheet_id
),

first_publication as (
    select * from publications where publication_rank = 1
),

rejected_sheets as (
    select distinct source_file, sheet
    from {{ ref('stg_load_manifest__load_rejects') }}
    where sheet is not null
),

named as (
    select
        sheets.*,
        region_by_name.region_code as region_code_by_name,
        coalesce(entity_by_name.entity_code, entity_by_name_any_year.entity_code) as entity_code_by_name,
        coalesce(entity_by_name.region_code, entity_by_name_any_year.region_code) as entity_region_by_name,
        first_publication.publisher_code as portal_publisher_code,
        first_publication.published_at,
        first_publication.title as publication_title,
        first_publication.url as publication_url,
        coalesce(first_publication.publication_count, 0) as publication_count,
        rejected_sheets.sheet is not null as has_rejects
    from sheets
    left join registry_names on registry_names.entity_name = sheets.entity_name
    left join region_by_name on region_by_name.region_name = registry_names.registry_name_key
    left join entity_by_name
        on entity_by_name.entity_name = registry_names.registry_name_key
       and entity_by_name.fiscal_year = sheets.fiscal_year
    left join entity_by_name_any_year on entity_by_name_any_year.entity_name = registry_names.registry_name_key
    left join first_publication on first_publication.sheet_id = sheets.sheet_id
    left join rejected_sheets
        on rejected_sheets.source_file = sheets.source_file and rejected_sheets.sheet = sheets.sheet
),

with_kind as (
    select
        named.*,
        -- the kind of publisher decides shared table names (一般公共预算支出表 …)
        case
            when named.entity_code_by_name is not null then 'department'
            when named.region_code_by_name is not null then 'government'
            when {{ regex_full_match("coalesce(named.portal_publisher_code, '')", "'[0-9]{6}'") }} then 'government'
            when named.portal_publisher_code is not null then 'department'
        end as publisher_kind_by_name
    from named
),

resolved as (
    select
        with_kind.*,
        catalogue.table_key,
        catalogue.publisher_kind,
        catalogue.document,
        catalogue.required_detail
    from with_kind
    left join catalogue
        on catalogue.table_name_key = {{ title_key('with_kind.table_name') }}
       and (catalogue.kinds_sharing_name = 1
            or catalogue.publisher_kind = coalesce(with_kind.publisher_kind_by_name, 'department'))
    where with_kind.status = 'parsed'
),

keyed as (
    select
        resolved.*,
        coalesce(
            case publisher_kind
                when 'government' then coalesce(region_code_by_name, portal_publisher_code)
                when 'department' then coalesce(entity_code_by_name, portal_publisher_code)
                else coalesce(entity_code_by_name, region_code_by_name, portal_publisher_code)
            end,
            {{ unregistered_publisher_key('coalesce(entity_name_key, title, source_file)') }}
        ) as publisher_code
    from resolved
)

select
    sheet_id,
    family,
    source_file,
    source_sha256,
    sheet,
    sheet_index,
    title,
    table_name,
    table_key,
    publisher_kind,
    publisher_code,
    publisher_code in (select publisher_code from registered_publishers) as is_registered_publisher,
    entity_name as publisher_name,
    case publisher_kind
        when 'government' then coalesce(region_code_by_name, portal_publisher_code)
        when 'department' then entity_region_by_name
    end as region_code,
    fiscal_year,
    coalesce(document, phase) as phase,
    required_detail,
    unit_label,
    unit_multiplier,
    code_layout,
    data_row_count,
    note_text,
    is_empty,
    has_empty_note,
    has_rejects,
    not has_rejects as is_evaluable,
    published_at,
    cast(published_at as date) as published_on,
    publication_title,
    publication_url,
    publication_count
from keyed
