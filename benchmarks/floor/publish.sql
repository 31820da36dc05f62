-- The equal-work floor's publication: the same published datasets as gongkai's release, hand-written.
-- Run by floor.py once per fiscal year ({year}; {out} = the year's folder): masked rows (ID numbers and
-- mobiles in free text, the project manager's ID first 6 + last 4), Parquet (zstd), CSV (the BOM is
-- prefixed by floor.py: DuckDB has no option for it) and one OCDS release per bulletin as a JSON line
-- (floor.py wraps the lines in a package envelope and gzips them, as gongkai does).
-- stage: publish_mask
CREATE OR REPLACE MACRO mask_text(x) AS regexp_replace(regexp_replace(x,
    '([1-9][0-9]{5})[0-9]{8}([0-9]{3}[0-9Xx])', '\1********\2', 'g'),
    '(^|[^0-9])(1[3-9][0-9])[0-9]{4}([0-9]{4})([^0-9]|$)', '\1\2****\3\4', 'g');
CREATE OR REPLACE TEMP TABLE pub_bulletins AS
SELECT b.deal_id, t.fiscal_year, b.bulletin_type, b.trade_area, mask_text(b.notice_name) AS notice_name,
       b.notice_send_time, b.budget_yuan, b.bid_yuan, b.bidder_count, b.tenderer_code, b.win_bidder_code,
       mask_text(b.notice_content) AS notice_content, b.source_file,
       md5(coalesce(b.deal_id, '') || '|' || coalesce(b.bulletin_type, '') || '|' || coalesce(CAST(b.notice_send_time AS VARCHAR), '')) AS bulletin_key
FROM bulletins b LEFT JOIN (SELECT deal_id, year(coalesce(announced_at, doc_start, result_at)) AS fiscal_year FROM timelines) t USING (deal_id)
WHERE t.fiscal_year = {year};
-- stage: publish_parquet
COPY pub_bulletins TO '{out}/trading_bulletins-{year}.parquet' (FORMAT parquet, COMPRESSION zstd);
COPY (SELECT * FROM timelines WHERE year(coalesce(announced_at, doc_start, result_at)) = {year})
    TO '{out}/deals-{year}.parquet' (FORMAT parquet, COMPRESSION zstd);
COPY (SELECT * FROM disclosure_status WHERE fiscal_year = {year}) TO '{out}/disclosure_status-{year}.parquet' (FORMAT parquet, COMPRESSION zstd);
-- stage: publish_csv
COPY (SELECT * FROM read_parquet('{out}/trading_bulletins-{year}.parquet')) TO '{out}/trading_bulletins-{year}.csv.nobom' (FORMAT csv, HEADER true);
COPY (SELECT * FROM read_parquet('{out}/deals-{year}.parquet')) TO '{out}/deals-{year}.csv.nobom' (FORMAT csv, HEADER true);
COPY (SELECT * FROM read_parquet('{out}/disclosure_status-{year}.parquet')) TO '{out}/disclosure_status-{year}.csv.nobom' (FORMAT csv, HEADER true);
-- stage: publish_ocds
COPY (
    SELECT CASE WHEN row_number() OVER (ORDER BY deal_id, notice_send_time, bulletin_key) = 1 THEN '' ELSE ',' END
        || to_json({
        ocid: 'ocds-floor-' || deal_id, id: bulletin_key,
        date: strftime(notice_send_time, '%Y-%m-%dT%H:%M:%S') || '+08:00', tag: [CASE
            WHEN bulletin_type IN ('交易公告', '招标公告', '采购公告') THEN 'tender'
            WHEN bulletin_type IN ('中标候选人公示', '中标结果公告', '成交结果公告') THEN 'award'
            WHEN bulletin_type = '合同公告' THEN 'contract' ELSE 'tenderUpdate' END],
        initiationType: 'tender', language: 'zh',
        parties: list_filter([
            CASE WHEN tenderer_code IS NOT NULL THEN {id: 'CN-USCC-' || tenderer_code, roles: ['buyer']} END,
            CASE WHEN win_bidder_code IS NOT NULL THEN {id: 'CN-USCC-' || win_bidder_code, roles: ['supplier']} END],
            lambda p: p IS NOT NULL),
        tender: {id: deal_id, title: notice_name, value: {amount: CAST(budget_yuan AS DOUBLE), currency: 'CNY'},
                 numberOfTenderers: bidder_count},
        awards: CASE WHEN bid_yuan IS NOT NULL THEN [{id: deal_id || '-award', value: {amount: CAST(bid_yuan AS DOUBLE), currency: 'CNY'}}] END
    }) AS line
    FROM read_parquet('{out}/trading_bulletins-{year}.parquet') WHERE notice_send_time IS NOT NULL
    ORDER BY deal_id, notice_send_time, bulletin_key
) TO '{out}/release-package-{year}.lines' (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x01')
