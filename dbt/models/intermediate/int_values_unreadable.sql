-- Values that are there but cannot be read (an impossible date 2016/2/30, a flag or word no vocabulary knows) in rows
-- loaded without them (`bad: blank` in the ingest specs; QUAR_VALUE_UNREADABLE): the non-code cells of
-- int_blanked_cells, each with the publisher and year its row names, the field's kind and the value as found.
select rule_id, publisher_code, fiscal_year, family, source_file, sheet, source_row, column_name, field_name,
       field_kind, observed_value, record_key, object_key
from {{ ref('int_blanked_cells') }}
where rule_id = 'QUAR_VALUE_UNREADABLE'
