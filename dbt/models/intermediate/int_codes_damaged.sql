-- Codes a spreadsheet rewrote in scientific notation (9.16403E+17: digits lost) in rows that were loaded without
-- them (QUAR_CODE_DAMAGED): the code cells of int_blanked_cells, where who and when each row names is worked out.
select rule_id, publisher_code, fiscal_year, family, source_file, sheet, source_row, column_name, field_name,
       observed_value, record_key, object_key
from {{ ref('int_blanked_cells') }}
where rule_id = 'QUAR_CODE_DAMAGED'
