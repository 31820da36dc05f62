{#- The trading chain (int_bulletins_deduplicated → int_deals_assembled → int_deal_timelines_evaluated →
    fct_deals; fct_trading_bulletins is a view of int_bulletins_deduplicated) is built incrementally by load (issue 16), in partitions of one year.

    The partition key, partition_year, is a DEAL-level year: the year of the earliest NOTICE_SEND_TIME among the
    deal's current raw rows (every copy; 0 when none is dated). Every bulletin of a deal therefore lands in the
    deal's partition, so a deal whose bulletins span years (announced in December, awarded in January) is always
    assembled and evaluated from all its bulletins in one rebuilt partition. A bulletin-level year would split such
    a deal: rebuilding the January partition would re-assemble the deal without its December announcement. The key
    is read from raw rows, not from the canonical copies, so it is known before deduplication (the year of a deal's
    canonical copies, fct_deals.fiscal_year, differs only when a non-canonical copy carries an earlier date).

    Which partitions a build rebuilds: the watermark is the newest load time among the files whose rows the table
    holds (max source_loaded_at, a column set from the data, so an incremental build and a full refresh write equal
    rows). A trading file loaded, superseded (re-loaded) or retired after it has changed; every deal with a raw row
    in such a file — in ANY version of it, current or retired, so a removed or replaced file's deals are re-assembled
    without the rows that left — is touched, and so is every deal of a project one of those rows names when the project
    has a notice naming no section (keyed to its project's only section, ingest/trading.assign_sole_sections: a later
    file may move a notice of an unchanged file between deals; else read on each section's deal by int_deals_assembled),
    and every deal carrying a unified deal code one of those rows carries — with every deal of its project, likewise —,
    and that code's own deal (a notice naming only the code is keyed to the deal carrying it,
    ingest/trading.assign_deal_codes). The rebuilt years are the years those deals sit in now (in this
    table) and the years they belong to after the change (from the current raw rows; for a model after the first, from
    the chain model it reads, built before it: trading_rebuilt_upstream): a deal that moves years
    leaves its old partition and joins its new one. Untouched deals are unchanged: a bulletin's canonical copy
    depends only on its own copies and the relative order of their exports, which a change to other files does not
    alter, and a deal_key is part of the bulletin key, the same in every copy. The watermark may lag the last build
    (a file retired after the newest load): such a file is seen as changed again — more work, never a wrong row.

    Reference data (seeds, the calendar) and dbt code are not in the watermark: when they change, the build must be
    a full refresh (Dagster's transform asset decides this from the dbt code digest; by hand: dbt build
    --full-refresh). -#}

{#- Years to rebuild as a list of integers; none = no incremental filter (first build, full refresh, parsing).
    Worked out once per model: when its SQL is compiled. The model's SQL carries the answer (trading_rebuild_marker)
    and the pre-hook, rendered when the compiled model runs, reads it back from there (trading_years_marked), so the
    partitions emptied are exactly those the SELECT rebuilds and the query over the raw rows runs once, not twice. -#}
{% macro trading_years_to_rebuild() -%}
  {#- `this` is none in a dbt unit test, where is_incremental() cannot look the relation up: a full build -#}
  {%- if not execute or this is none or not is_incremental() -%}
    {{ return(none) }}
  {%- endif -%}
  {%- set marked = trading_years_marked() -%}
  {%- if marked is not none -%}
    {{ return(marked) }}
  {%- endif -%}
  {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
  {%- if 'partition_year' not in columns or 'source_loaded_at' not in columns -%}
    {{ exceptions.raise_compiler_error(this ~ " was built before incremental trading partitions: run dbt build --full-refresh") }}
  {%- endif -%}
  {%- set raw_bulletins = source('trading', 'trading_bulletins') -%}
  {%- set upstream = trading_rebuilt_upstream() -%}
  {%- set query -%}
    with watermark as (
        select max(source_loaded_at) as loaded_through from {{ this }}
    ),
    changed_files as (
        select distinct files.source_file
        from {{ source('load_manifest', 'load_files') }} as files
        cross join watermark
        where files.family = 'trading'
          and (watermark.loaded_through is null
               or files.loaded_at > watermark.loaded_through
               or files.retired_at > watermark.loaded_through)
    ),
    changed_rows as (
        select bulletin_key, coalesce(project_code, tender_project_code) as project, unified_deal_code
        from {{ raw_bulletins }}
        where source_file in (select source_file from changed_files)
    ),
    -- a project with a notice naming no section: a changed file may have keyed that notice again, in a file no load
    -- changed (ingest/trading.assign_sole_sections), so every deal of the project is touched, and its own deal
    -- project/ too (no raw row may name it any more)
    -- the projects of the changed rows, and of the rows carrying a changed row's deal code: a row naming only the code
    -- touches the deal carrying it (below), whose project's change naming no section (project/, maybe in another
    -- year) int_deals_assembled reads on each section's deal — its partition must be rebuilt beside them
    changed_projects as (
        select project from changed_rows
        union
        select coalesce(project_code, tender_project_code) from {{ raw_bulletins }}
        where unified_deal_code in (select unified_deal_code from changed_rows)
    ),
    sectionless_projects as (
        select distinct coalesce(project_code, tender_project_code) as project
        from {{ raw_bulletins }}
        where bid_section_code is null
          and coalesce(project_code, tender_project_code) in (select project from changed_projects)
    ),
    touched_deals as (
        select split_part(bulletin_key, '|', 1) as deal_key from changed_rows
        union
        select split_part(bulletin_key, '|', 1) from {{ raw_bulletins }}
        where coalesce(project_code, tender_project_code) in (select project from sectionless_projects)
        union
        select project || '/' from sectionless_projects
        -- a notice naming only a deal code keyed to the deal carrying it (ingest/trading.assign_deal_codes), maybe in a
        -- file no load changed: every deal carrying a changed row's code is touched, and the code's own deal
        union
        select split_part(bulletin_key, '|', 1) from {{ raw_bulletins }}
        where unified_deal_code in (select unified_deal_code from changed_rows)
        union
        select unified_deal_code from changed_rows where unified_deal_code is not null
    ),
    years_now as (
        select distinct partition_year from {{ this }}
        where deal_key in (select deal_key from touched_deals)
    ),
    years_after as (
      {%- if upstream is none %}
        select distinct {{ trading_deal_year('min(notice_send_time)') }} as partition_year
        from {{ raw_bulletins }}
        where not coalesce(is_retired, false)
          and split_part(bulletin_key, '|', 1) in (select deal_key from touched_deals)
        group by split_part(bulletin_key, '|', 1)
      {%- else %}
        select distinct partition_year from {{ upstream }}
        where deal_key in (select deal_key from touched_deals)
      {%- endif %}
    )
    select partition_year from years_now
    union
    select partition_year from years_after
  {%- endset -%}
  {%- set years = run_query(query).columns[0].values() | map('int') | sort | list -%}
  {{ log(this.identifier ~ ": rebuilding partition_year " ~ (years | join(', ') or 'none'), info=True) }}
  {{ return(years) }}
{%- endmacro %}

{#- The chain model this one reads that already holds every deal in its current partition when this one is built
    (none for int_bulletins_deduplicated, the first: it works the years out from the raw rows). A model downstream of
    it runs after it in the same build, so a touched deal's year after the change — the year of its earliest current
    raw row — is the deal's partition_year there (every current raw row of a deal is a bulletin of it there, in the
    deal's partition; a deal without current rows is in neither). Read from there, by deal key, instead of grouping
    every raw row of every touched deal again: the plan query of each downstream model (six of the seven) cost ≈ 1.5 s
    of CPU at 1 M rows for one new year, two thirds of it that grouping (measured 2026-12-05). int_deals_assembled
    (one row per deal) when the model reads it, else int_bulletins_deduplicated. -#}
{% macro trading_rebuilt_upstream() -%}
  {%- set names = [] -%}
  {%- for r in (model.refs or []) -%}
    {%- do names.append(r.name if r is mapping else r[0]) -%}
  {%- endfor -%}
  {%- for name in ['int_deals_assembled', 'int_bulletins_deduplicated'] -%}
    {%- if name in names and this.identifier != name -%}
      {{ return(ref(name)) }}
    {%- endif -%}
  {%- endfor -%}
  {{ return(none) }}
{%- endmacro %}

{#- The rebuilt years written into the model's SQL as a comment, for its pre-hook (trading_years_marked). -#}
{% macro trading_rebuild_marker(years) -%}
/* gongkai_trading_partitions: {{ 'all' if years is none else (years | join(',') or 'none') }} */
{%- endmacro %}

{#- The years the compiled SQL of the running model was built for (its trading_rebuild_marker); none when the model
    is not compiled yet (while it compiles) or carries no marker. -#}
{% macro trading_years_marked() -%}
  {%- set code = (model or {}).get('compiled_code') or '' -%}
  {%- set tag = 'gongkai_trading_partitions: ' -%}
  {%- if tag not in code -%}
    {{ return(none) }}
  {%- endif -%}
  {%- set value = code.split(tag, 1)[1].split(' ', 1)[0] -%}
  {%- if value == 'all' -%}
    {{ return(none) }}
  {%- elif value == 'none' -%}
    {{ return([]) }}
  {%- endif -%}
  {{ return(value.split(',') | map('int') | list) }}
{%- endmacro %}

{#- A deal's partition year from its earliest notice time (0 = no dated bulletin). -#}
{% macro trading_deal_year(earliest_notice_time) -%}
coalesce(cast(year({{ earliest_notice_time }}) as integer), 0)
{%- endmacro %}

{#- Pre-hook of the trading chain's incremental models: empty the partitions about to be rebuilt (a partition left
    without deals must not keep its old rows; see clear_partitions). extra: partitions every build rewrites. -#}
{% macro trading_clear_rebuilt_partitions(extra=[]) -%}
  {%- set years = trading_years_to_rebuild() -%}
  {%- if years is not none and (years or extra) -%}
{{ clear_partitions(this, 'partition_year', years + extra) }}
  {%- endif -%}
{%- endmacro %}
