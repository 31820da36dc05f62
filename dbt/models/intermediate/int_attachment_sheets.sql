-- Every sheet of a budget or debt workbook a portal attachment names by its file (macros/attachments.sql), with the
-- publisher the sheet's title names and whether the publication may publish it. A file name is not an identity: two
-- publishers' files may share one (预算公开表.xlsx), and a portal log gives a bare name, or a download URL / a path on
-- the clerk's disk reduced to one (stg_portal__attachments). A registered publisher's publication publishes a sheet
-- only when the sheet's title names no known publisher, or names that publisher, its parent department or its region
-- (who may publish for it) — never another one's. int_sheets_resolved dates sheets by the pairs that may; an
-- attachment whose every sheet is another publisher's is DISC_ATTACHMENT_OTHER_PUBLISHER.
with sheets as (
    select sheet_id, source_file, sheet, sheet_index, fiscal_year, entity_name, entity_name_key
    from {{ ref('stg_budget__sheets') }}
    union all
    select sheet_id, source_file, sheet, sheet_index, fiscal_year, entity_name, entity_name_key
    from {{ ref('stg_debt__sheets') }}
),

{{ publisher_name_ctes() }}

{{ registry_names_cte('sheets') }}

attachments as (
    select * from {{ ref('stg_portal__attachments') }}
)

select
    attachments.attachment_id,
    attachments.publication_id,
    attachments.source_file                                     as portal_file,
    attachments.source_row                                      as portal_row,
    attachments.publisher_code,
    attachments.portal_column,
    attachments.published_at,
    attachments.published_on,
    attachments.title,
    attachments.url,
    attachments.attachment,
    sheets.sheet_id,
    sheets.source_file,
    sheets.sheet,
    sheets.sheet_index,
    sheets.fiscal_year,
    sheets.entity_name                                          as title_publisher_name,
    coalesce(title_entity.entity_code, title_region.region_code) as title_publisher_code,
    coalesce((title_region.region_code is null and title_entity.entity_code is null)
       or attachments.publisher_code not in (select publisher_code from registered_publishers)
       or attachments.publisher_code = title_region.region_code
       or attachments.publisher_code = title_entity.entity_code
       or attachments.publisher_code = title_entity.parent_entity_code
       or attachments.publisher_code = title_entity.region_code, false) as may_publish
from sheets
join attachments
    on {{ attachment_names_file('attachments.attachment', 'sheets.source_file') }}
left join registry_names on registry_names.entity_name = sheets.entity_name
left join region_by_name as title_region on title_region.region_name = registry_names.registry_name_key
left join entity_by_name as title_entity
    on title_entity.entity_name = registry_names.registry_name_key and title_entity.fiscal_year = sheets.fiscal_year
