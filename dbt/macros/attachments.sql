{#- A portal publication's attachment names a loaded file: the same path, or the file's path ends with '/' and the
    attachment (the portal log gives a bare file name or a tail of the path). Written as an OR, the join had no
    equality to hash on and ran as a nested loop over every sheet × publication (3.9 of int_sheet_duplicates' 4.0 s
    and 3.2 of int_sheets_resolved's 3.5 s at 1 M trading rows, loaded machine). Both alternatives imply equal last
    path segments, so that equality comes first: a hash join on it, then the same OR on the few pairs it leaves.
    The same pairs as the OR alone. -#}
{% macro attachment_names_file(attachment, source_file) -%}
{{ regex_extract(attachment, "'[^/]+$'") }} = {{ regex_extract(source_file, "'[^/]+$'") }}
       and ({{ attachment }} = {{ source_file }}
            or right({{ source_file }}, length({{ attachment }}) + 1) = '/' || {{ attachment }})
{%- endmacro %}
