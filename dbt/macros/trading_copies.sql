{#- Which copy of a bulletin is canonical — ONE definition, rendered by dbt for
    int_bulletins_deduplicated / int_bulletin_copies_compared and by Jinja2 for the Dagster duplicate
    report (dagster_project/ingest/trading_copies.py), so the two always name the same copy. Plain SQL
    only: no ref(), no adapter (Jinja2 alone renders it there).

    The rule (docs/CONTRACTS.md §2.2): the copy from the LATEST EXPORT wins, then the first in file order,
    then the first row. An export's time is the newest NOTICE_SEND_TIME it holds: an export lists what was
    published up to when it was made, so the one reaching further was made later (and carries the later
    corrections); exports stating no time at all come last. File order is the order a file manager lists
    the files in — path without its extension, so 导出.csv comes before 导出(1).csv, the usual name of a
    second download — then the full path. -#}

{% macro trading_export_ranks(bulletins) -%}
select
    source_file,
    export_time,
    row_number() over (order by export_time desc nulls last, file_order_key, source_file) as export_rank
from (
    select
        source_file,
        max(notice_send_time) as export_time,
        regexp_replace(source_file, '[.][^./]+$', '') as file_order_key
    from {{ bulletins }}
    group by source_file
) as exports
{%- endmacro %}

{#- One integer per copy that sorts copies in the rule's order: export rank, row, section part (the loader
    caps parts per record at 255). The minimum per bulletin_key is the canonical copy; an integer keeps
    the aggregate narrow enough to spill at 10 M rows. -#}
{% macro trading_copy_position(export_rank, source_row, source_part) -%}
((cast({{ export_rank }} as bigint) << 40) | (cast({{ source_row }} as bigint) << 8) | cast(least(coalesce({{ source_part }}, 1), 255) as bigint))
{%- endmacro %}
