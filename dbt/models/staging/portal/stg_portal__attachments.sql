-- One row per file a portal row names as its attachment: a cell listing several (`a.xlsx；b.pdf`, one per line …:
-- macros/attachments.sql attachment_list) is one row each, a cell naming one is one row, a blank cell none. Every
-- matching of publications to loaded files (what a publication published, DISC_ATTACHMENT_*) reads these rows.
with publications as (
    select * from {{ ref('stg_portal__publications') }}
    where attachment_as_published is not null
),

listed as (
    select publication_id, {{ unnest_list(attachment_list('attachment_as_published')) }} as listed_as
    from publications
),

pieces as (
    select distinct publication_id, {{ attachment_trimmed('listed_as') }} as written
    from listed
    union all
    {# a cell naming no file with an extension: the whole cell, one attachment #}
    select publication_id, attachment_as_published
    from publications
    where publication_id not in (select publication_id from listed)
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
