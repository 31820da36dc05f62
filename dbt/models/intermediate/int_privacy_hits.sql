-- Personal data found in published free text (PRIV_*): NOTICE_NAME, NOTICE_CONTENT, CONTACT_PHONE of
-- trading bulletins (and the national standard's contact fields: contact persons, the agency's phone —
-- never published themselves, but a number a platform put there is still a personal number it holds)
-- and the title of portal rows. Text is split into maximal digit runs (RE2 has no
-- look-behind; a maximal run is never "inside a longer digit run"); each run is classified once.
-- PM_CODE is an ID field by definition: never a finding here (it is masked in extracts).
-- Texts without a run of 11 digits are dropped before anything else: at 10 M bulletins almost every
-- notice is such a text, and splitting all of them first ran out of memory.
with bulletin_texts as (
    select
        bulletins.bulletin_key,
        bulletins.deal_key,
        columns.column_name,
        columns.text_value,
        bulletins.source_file,
        bulletins.source_row
    from {{ ref('int_bulletins_deduplicated') }} as bulletins
    cross join lateral (
        values ('notice_name', bulletins.notice_name),
               ('notice_content', bulletins.notice_content),
               ('contact_phone', bulletins.contact_phone),
               ('contact_person', bulletins.contact_person),
               ('agency_contact_person', bulletins.agency_contact_person),
               ('agency_contact_phone', bulletins.agency_contact_phone)
    ) as columns(column_name, text_value)
    where regexp_matches(columns.text_value, '[0-9]{11}')
),

texts as (
    select
        bulletin_texts.bulletin_key,
        bulletin_texts.deal_key,
        deals.tenderer_code as publisher_code,
        deals.fiscal_year,
        bulletin_texts.column_name,
        bulletin_texts.text_value,
        bulletin_texts.source_file,
        bulletin_texts.source_row
    from bulletin_texts
    join {{ ref('int_deals_assembled') }} as deals using (deal_key)
    union all
    select
        null, null,
        publisher_code,
        -- a portal row has no fiscal year of its own: the year it was published
        cast(year(published_at) as integer),
        'title', title, source_file, source_row
    from {{ ref('stg_portal__publications') }}
    where title is not null
),

runs as (
    select texts.*, unnest({{ digit_runs('texts.text_value') }}) as digit_run
    from texts
),

-- an 18-character run may end in X (ID numbers); mobiles and cards are the digits before such an X
classified as (
    select
        runs.*,
        case
            when {{ is_valid_id_number('digit_run') }} then upper(digit_run)
            else rtrim(digit_run, 'Xx')
        end as run,
        case
            when {{ is_valid_id_number('digit_run') }} then 'id_number'
            when {{ is_mobile_number("rtrim(digit_run, 'Xx')") }} then 'mobile'
            when {{ is_luhn_card_number("rtrim(digit_run, 'Xx')") }} then 'bank_card'
        end as kind
    from runs
)

select
    bulletin_key,
    deal_key,
    publisher_code,
    fiscal_year,
    case kind when 'id_number' then 'PRIV_ID_NUMBER' when 'mobile' then 'PRIV_MOBILE' when 'bank_card' then 'PRIV_BANK_CARD' end as rule_id,
    column_name,
    kind,
    {{ mask_match('run', 'kind') }} as masked_match,
    source_file,
    source_row
from classified
where kind is not null
