{{ stg_workbook_lines('budget') }}
