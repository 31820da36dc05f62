-- Every version of every budget figure: present rows and superseded versions of replaced files.
{{ stg_workbook_line_versions('budget') }}
