{#- Unit-test fixtures on Spark: dbt writes a YAML list value as Python prints it (['a', 'b']), which DuckDB
    reads as a list literal and Spark cannot parse. Here a list becomes array(…) of literals; every other value
    is cast as dbt-spark does (its safe_cast: quotes stripped for struct/array/map types given as text). -#}
{% macro spark__safe_cast(field, type) -%}
{%- if field is not string and field is iterable and field is not mapping -%}
cast(array({% for v in field %}{% if v is none %}null{% elif v is string %}{{ sql_string(v) }}{% else %}{{ v }}{% endif %}{% if not loop.last %}, {% endif %}{% endfor %}) as {{ type }})
{%- else -%}
{%- set field_clean = field.strip('"').strip("'") if (cast_from_string_unsupported_for(type) and field is string) else field -%}
cast({{ field_clean }} as {{ type }})
{%- endif -%}
{%- endmacro %}
