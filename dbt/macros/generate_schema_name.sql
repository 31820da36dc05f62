{# Schemas are named exactly staging / intermediate / marts / reference (no target-name prefix),
   so every consumer (GX suites, publish, dashboards) can hard-code them. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
