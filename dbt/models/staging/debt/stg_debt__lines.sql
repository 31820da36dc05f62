{{ stg_workbook_lines('debt') }}
