{{ stg_workbook_sheets('debt') }}
