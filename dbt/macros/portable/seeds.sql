{#- Seeds on Spark: dbt-spark binds every CSV value as '<value>' — an apostrophe in a value breaks the
    insert and an empty cell loads as the text 'None'. Here each value is written as a literal instead:
    empty cells → NULL, text through sql_string (quotes and backslashes escaped), cast to the seed's
    column type as dbt-spark does. DuckDB keeps dbt-duckdb's own loader. -#}
{% macro spark__load_csv_rows(model, agate_table) %}
  {% set batch_size = get_batch_size() %}
  {% set column_override = model['config'].get('column_types', {}) %}
  {% set types = [] %}
  {% for col_name in agate_table.column_names %}
      {% do types.append(column_override.get(col_name, adapter.convert_type(agate_table, loop.index0))) %}
  {% endfor %}
  {% set statements = [] %}
  {% for chunk in agate_table.rows | batch(batch_size) %}
      {% set sql %}
          insert into {{ this.render() }} values
          {% for row in chunk -%}
              ({%- for value in row -%}
                  {%- if value is none -%}cast(null as {{ types[loop.index0] }})
                  {%- else -%}cast({{ sql_string(value | string) }} as {{ types[loop.index0] }})
                  {%- endif -%}
                  {%- if not loop.last %},{% endif -%}
              {%- endfor -%})
              {%- if not loop.last %},{% endif %}
          {% endfor %}
      {% endset %}
      {% do adapter.add_query(sql, abridge_sql_log=True) %}
      {% if loop.index0 == 0 %}
          {% do statements.append(sql) %}
      {% endif %}
  {% endfor %}
  {{ return(statements[0]) }}
{% endmacro %}
