{{ stg_workbook_sheets('budget') }}
