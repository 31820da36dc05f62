-- One row per file a portal row names as its attachment: a cell listing several (`a.xlsx；b.pdf`, one per line …:
-- macros/attachments.sql attachment_list) is one row each, a cell naming one is one row, a blank cell none. Every
-- matching of publications to loaded files (what a publication published, DISC_ATTACHMENT_*) reads these rows. A
-- clerk's label before a name (`附件1：x.xlsx`) is dropped, unless a file there is named with it.
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

-- the names of the files there, to tell a clerk's label (`附件1：x.xlsx` for x.xlsx) from a file really named so
file_names as (
    select distinct lower(file_name) as file_name
    from {{ ref('stg_load_manifest__load_files') }}
    where {{ regex_search('file_name', "'^附件'") }}
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
        case when file_names.file_name is not null then labelled.as_listed else labelled.label_off end as written
    from labelled
    left join file_names on file_names.file_name = labelled.listed_name
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
