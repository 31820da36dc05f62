{#- Detection of personal data in free text for the privacy scan (PRIV_*), DuckDB SQL only.
    RE2 has no look-behind, so "not inside a longer digit run" is expressed either with
    (^|[^0-9]) ... ([^0-9]|$) groups or by splitting text into maximal digit runs first. -#}

{#- Maximal digit runs of at least 11 digits (an ID number may end in X): the shortest personal
    number looked for is a mobile (11 digits), and shorter runs (years, amounts) are most of the digits
    in a notice. The leftmost match of [0-9]{11,} starts where its run starts and is greedy, so a run is
    never part of a longer run, which is exactly "not inside a longer digit run". -#}
{% macro digit_runs(text) -%}
regexp_extract_all(coalesce({{ text }}, ''), '[0-9]{11,}[Xx]?')
{%- endmacro %}

{#- 居民身份证号码 GB 11643: 17 digits + check (ISO 7064 MOD 11-2) and a real birth date. -#}
{% macro is_valid_id_number(s) -%}
(
    regexp_full_match({{ s }}, '[1-9][0-9]{16}[0-9Xx]')
    and try_strptime(substr({{ s }}, 7, 8), '%Y%m%d') is not null
    and substr('10X98765432',
               cast((list_sum(list_transform([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2],
                   lambda w, i: coalesce(try_cast(substr({{ s }}, i, 1) as integer), 0) * w)) % 11) + 1 as bigint), 1)
        = upper(substr({{ s }}, 18, 1))
)
{%- endmacro %}

{#- Mobile number 1[3-9] + 9 digits not inside a longer digit run. -#}
{% macro is_mobile_number(s) -%}
regexp_full_match({{ s }}, '1[3-9][0-9]{9}')
{%- endmacro %}

{% macro contains_mobile_number(text) -%}
regexp_matches(coalesce({{ text }}, ''), '(^|[^0-9])1[3-9][0-9]{9}([^0-9]|$)')
{%- endmacro %}

{#- Bank card: a 16-19 digit run passing the Luhn check. -#}
{% macro is_luhn_card_number(s) -%}
(
    regexp_full_match({{ s }}, '[0-9]{16,19}')
    and list_sum(list_transform(range(1, length({{ s }}) + 1),
        lambda i: case
            when i % 2 = 0 then (coalesce(try_cast(substr(reverse({{ s }}), i, 1) as integer), 0) * 2)
                                - case when coalesce(try_cast(substr(reverse({{ s }}), i, 1) as integer), 0) * 2 > 9 then 9 else 0 end
            else coalesce(try_cast(substr(reverse({{ s }}), i, 1) as integer), 0)
        end)) % 10 = 0
)
{%- endmacro %}

{#- Keep the shape, hide the person (same masks as dagster_project/identifiers.py):
    ID number first 6 + last 4, mobile first 3 + last 4, bank card last 4. -#}
{% macro mask_match(s, kind) -%}
case {{ kind }}
    when 'id_number' then left({{ s }}, 6) || repeat('*', length({{ s }}) - 10) || right({{ s }}, 4)
    when 'mobile' then left({{ s }}, 3) || '****' || right({{ s }}, 4)
    else repeat('*', length({{ s }}) - 4) || right({{ s }}, 4)
end
{%- endmacro %}
