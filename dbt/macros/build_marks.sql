{#- Which dbt invocation last wrote this relation (transform/generations.py): a post-hook of every model, seed and
    snapshot, run inside the relation's own transaction (a project on-run-start/-end hook's writes are rolled back).
    Dagster's dbt asset marks its own invocation's records `dagster` after its build; a record left with another
    invocation id is a relation written by a hand `dbt build`, whose generation says nothing. DuckDB only (the
    state table is the warehouse's): blank elsewhere, and a blank hook is not run. -#}
{% macro mark_built() -%}
{%- if target.type == 'duckdb' -%}
insert or replace into raw.stage_state
values ('dbt_built:{{ this.identifier }}', '{{ invocation_id }}', localtimestamp)
{%- endif -%}
{%- endmacro %}

{% macro ensure_build_marks() -%}
{%- if target.type == 'duckdb' -%}
create schema if not exists raw;
create table if not exists raw.stage_state (stage varchar primary key, fingerprint varchar not null,
    completed_at timestamp not null)
{%- endif -%}
{%- endmacro %}
