-- A table, not a view (issue 16): the view was evaluated whole by each reader — its two tests, int_attachment_sheets,
-- the quality unit that validates it and that unit's fingerprint — every time a budget or debt load moved the sheets it
-- reads (≈ 1.8 s of node time for the tests alone on a changed budget figure at 100 k rows, loaded); built once now.
{{ config(materialized='table') }}

-- One row per file a portal row names as its attachment: a cell listing several (`a.xlsx；b.pdf`, one per line …:
-- macros/attachments.sql attachment_list) is one row each, a cell naming one is one row, a blank cell none. Every
-- matching of publications to loaded files (what a publication published, DISC_ATTACHMENT_*) reads these rows. A
-- clerk's label before a name (`附件1：x.xlsx`) is dropped, unless a file of the publication's own publisher is named
-- with it (another publisher's `附件1：x.xlsx` elsewhere in the raw root says nothing of this cell).
with publications as (
    select * from {{ ref('stg_portal__publications') }}
    where attachment_as_published is not null
),

listed as (
    select publication_id, {{ unnest_list(attachment_list('attachment_as_published')) }} as listed_as
    from publications
),

listed_trimmed as (
    select distinct publication_id, {{ attachment_trimmed('listed_as') }} as as_listed
    from listed
    union all
    {# a cell naming no file with an extension: the whole cell, one attachment #}
    select publication_id, attachment_as_published
    from publications
    where publication_id not in (select publication_id from listed)
),

-- the files named with a label, to tell a clerk's label (`附件1：x.xlsx` for x.xlsx) from a file really named so
label_files as (
    select source_file, lower(file_name) as file_name
    from {{ ref('stg_load_manifest__load_files') }}
    where {{ regex_search('file_name', "'^附件'") }}
),

{{ publisher_name_ctes() }}

title_sheets as (
    select source_file, fiscal_year, entity_name, entity_name_key from {{ ref('stg_budget__sheets') }}
    union all
    select source_file, fiscal_year, entity_name, entity_name_key from {{ ref('stg_debt__sheets') }}
),

{{ registry_names_cte('title_sheets') }}

-- … and whose they are: the publisher each sheet's title names (as int_attachment_sheets reads it), NULL for a title
-- naming no known publisher
label_file_sheets as (
    select sheets.source_file, title_region.region_code, title_entity.entity_code,
           title_entity.parent_entity_code, title_entity.region_code as entity_region_code
    from title_sheets as sheets
    left join registry_names on registry_names.entity_name = sheets.entity_name
    left join region_by_name as title_region on title_region.region_name = registry_names.registry_name_key
    left join entity_by_name as title_entity
        on title_entity.entity_name = registry_names.registry_name_key and title_entity.fiscal_year = sheets.fiscal_year
    where sheets.source_file in (select source_file from label_files)
),

-- a labelled name is the publication's own file when a file so named is one its publisher may publish: one of its
-- sheets names no known publisher or names that publisher, its parent department or its region (or the publisher is
-- not registered: nothing to tell by), or the file has no sheet read (nothing says it is another's)
own_label_files as (
    select distinct publications.publication_id, label_files.file_name
    from publications
    cross join label_files
    left join registered_publishers on registered_publishers.publisher_code = publications.publisher_code
    left join label_file_sheets as s on s.source_file = label_files.source_file
    where registered_publishers.publisher_code is null
       or s.source_file is null
       or (s.region_code is null and s.entity_code is null)
       or publications.publisher_code in (s.region_code, s.entity_code, s.parent_entity_code, s.entity_region_code)
),

labelled as (
    select
        listed_trimmed.publication_id,
        listed_trimmed.as_listed,
        {{ attachment_label_off('listed_trimmed.as_listed') }} as label_off,
        lower({{ regex_extract(attachment_in_raw_root('listed_trimmed.as_listed'), "'[^/]+$'") }}) as listed_name
    from listed_trimmed
),

pieces as (
    select distinct
        labelled.publication_id,
        case when own_label_files.file_name is not null then labelled.as_listed else labelled.label_off end as written
    from labelled
    left join own_label_files
        on own_label_files.publication_id = labelled.publication_id and own_label_files.file_name = labelled.listed_name
)

select
    md5(publications.publication_id || '|' || pieces.written)  as attachment_id,
    publications.publication_id,
    publications.source_file,
    publications.source_row,
    publications.publisher_code,
    publications.publisher_name,
    publications.portal_column,
    publications.title,
    publications.published_at,
    publications.published_on,
    publications.url,
    {{ attachment_in_raw_root('pieces.written') }}              as attachment,
    {{ regex_extract(attachment_in_raw_root('pieces.written'), "'[^/]+$'") }} as attachment_file_name,
    pieces.written                                             as attachment_as_published,
    count(*) over (partition by pieces.publication_id)         as attachments_in_cell
from pieces
join publications using (publication_id)
where pieces.written <> ''
