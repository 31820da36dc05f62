-- Every version of every debt figure: present rows and superseded versions of replaced files.
{{ stg_workbook_line_versions('debt') }}
