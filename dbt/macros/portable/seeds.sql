{#- Seeds on Spark: dbt-spark binds every CSV value as '<value>' — an apostrophe in a value breaks the
    insert and an empty cell loads as the text 'None'. Here each value is written as a literal instead:
    empty cells → NULL, text through sql_string (quotes and backslashes escaped); the rows are a `values`
    list of text read once through one cast per column to the seed's column type (as dbt-spark types it),
    not a cast per value: Catalyst analyses one expression per column, not one per cell (ref_working_calendar,
    5 115 rows: a `dbt seed` of it 3.2–3.9 against 5.1–5.6 CPU-s, benchmarks/RESULTS.md s9 wave 19). A column
    of empty cells only is NULL's type in the list, cast like any other. DuckDB keeps dbt-duckdb's own loader. -#}
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
          insert into {{ this.render() }}
          select {% for type in types %}cast(c{{ loop.index0 }} as {{ type }}){% if not loop.last %}, {% endif %}{% endfor %}
          from values
          {% for row in chunk -%}
              ({%- for value in row -%}
                  {%- if value is none -%}null{%- else -%}{{ spark__sql_string(value | string) }}{%- endif -%}
                  {%- if not loop.last %},{% endif -%}
              {%- endfor -%})
              {%- if not loop.last %},{% endif %}
          {% endfor %}
          as v({% for type in types %}c{{ loop.index0 }}{% if not loop.last %}, {% endif %}{% endfor %})
      {% endset %}
      {% do adapter.add_query(sql, abridge_sql_log=True) %}
      {% if loop.index0 == 0 %}
          {% do statements.append(sql) %}
      {% endif %}
  {% endfor %}
  {{ return(statements[0]) }}
{% endmacro %}
