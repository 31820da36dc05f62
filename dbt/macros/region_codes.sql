{#- Old GB/T 2260 codes (6421xx, 640321 …) are mapped to today's code through the seed
    ref_region_code_map; use as `{{ current_region_code('t.region_code', 'm') }}` with a
    `left join {{ ref('ref_region_code_map') }} m on m.old_code = trim(t.region_code)`. -#}
{% macro current_region_code(code, map_alias) -%}
coalesce({{ map_alias }}.new_code, nullif(trim(cast({{ code }} as string)), ''))
{%- endmacro %}

{#- A region code as the registry writes it, compared as digits: full-width digits typed on a Chinese IME
    (６４０１２２) folded to ASCII, trimmed; blank → NULL. Without it ６４０１２２ is a region of its own: its
    entities, approvals and children miss 640122, and 贺兰县 has two codes, so no file is matched to it by name. -#}
{% macro region_code_as_written(code) -%}
nullif(trim({{ normalise_text('cast(' ~ code ~ ' as string)') }}), '')
{%- endmacro %}
