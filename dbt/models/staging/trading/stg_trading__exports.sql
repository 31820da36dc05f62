-- One row per current trading export file: its time (the newest NOTICE_SEND_TIME it holds) and its rank in
-- the canonical-copy rule (1 = latest export; then file order). The macro is the one the Dagster duplicate
-- report renders over the same rows (dbt/macros/trading_copies.sql). Read from the source, not from
-- stg_trading__bulletins: the same rows and times (staging passes NOTICE_SEND_TIME through), without
-- standardising 10 M rows to read two columns.
{{ trading_export_ranks("(select source_file, notice_send_time from " ~ source('trading', 'trading_bulletins') ~ " where not coalesce(is_retired, false))") }}
