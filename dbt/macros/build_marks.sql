{#- Which dbt invocation last wrote this relation (transform/generations.py): a post-hook of every model, seed and
    snapshot, run inside the relation's own transaction (a project on-run-start/-end hook's writes are rolled back).
    Dagster's dbt asset marks its own invocation's records `dagster` after its build; a record left with another
    invocation id is a relation written by a hand `dbt build`, whose generation says nothing. DuckDB only (the
    state table is the warehouse's): blank elsewhere, and a blank hook is not run.
    One hook of three statements, not a hook per statement: each hook is a round trip of its own through dbt (render,
    execute, log events) on every node built — ≈ 8 ms a node at load 15, half the hooks' time (benchmarks/RESULTS.md,
    wave 16 P4). The table is made when missing: a hand build on a warehouse Dagster never built. -#}
{% macro mark_built() -%}
{%- if target.type == 'duckdb' -%}
create schema if not exists raw;
create table if not exists raw.stage_state (stage varchar primary key, fingerprint varchar not null,
    completed_at timestamp not null);
insert or replace into raw.stage_state
values ('dbt_built:{{ this.identifier }}', '{{ invocation_id }}', localtimestamp)
{%- endif -%}
{%- endmacro %}
