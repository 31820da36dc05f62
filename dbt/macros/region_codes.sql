{#- Old GB/T 2260 codes (6421xx, 640321 …) are mapped to today's code through the seed
    ref_region_code_map; use as `{{ current_region_code('t.region_code', 'm') }}` with a
    `left join {{ ref('ref_region_code_map') }} m on m.old_code = trim(t.region_code)`. -#}
{% macro current_region_code(code, map_alias) -%}
coalesce({{ map_alias }}.new_code, nullif(trim(cast({{ code }} as string)), ''))
{%- endmacro %}
