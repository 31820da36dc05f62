-- stage: standardise
CREATE OR REPLACE MACRO ts(x) AS coalesce(
    try_strptime(x, '%Y-%m-%d %H:%M:%S'), try_strptime(x, '%Y/%m/%d %H:%M'),
    try_strptime(x, '%Y年%m月%d日'), try_strptime(x, '%Y%m%d'), try_strptime(x, '%Y-%m-%d'),
    CASE WHEN regexp_full_match(x, '\d{5}(\.\d+)?') THEN TIMESTAMP '1899-12-30' + to_microseconds(CAST(CAST(x AS DOUBLE) * 86400e6 AS BIGINT)) END);
CREATE OR REPLACE TABLE bulletins AS
SELECT DISTINCT ON (deal_id, bulletin_type, notice_send_time)
    coalesce(project_code || '/' || bid_section_code, unified_deal_code) AS deal_id,
    bulletin_type, trade_area, notice_name, ts(notice_send_time) AS notice_send_time,
    ts(doc_get_start_time) AS doc_get_start_time, ts(doc_get_end_time) AS doc_get_end_time,
    ts(bid_doc_refer_end_time) AS bid_deadline, ts(bid_open_time) AS bid_open_time,
    ts(publicity_start_time) AS publicity_start_time, ts(publicity_end_time) AS publicity_end_time,
    ts(contract_sign_time) AS contract_sign_time,
    CAST(replace(budget_amount, ',', '') AS DECIMAL(20,2)) * CASE amount_unit WHEN '万元' THEN 10000 ELSE 1 END AS budget_yuan,
    CAST(replace(bid_amount, ',', '') AS DECIMAL(20,2)) * CASE amount_unit WHEN '万元' THEN 10000 ELSE 1 END AS bid_yuan,
    TRY_CAST(bidder_count AS INTEGER) AS bidder_count, tenderer_code, win_bidder_code, notice_content, source_file
FROM trading_text;
-- stage: timeline
CREATE OR REPLACE TABLE calendar_index AS
SELECT CAST(calendar_date AS DATE) AS d,
       sum(CASE WHEN is_working_day THEN 1 ELSE 0 END) OVER (ORDER BY calendar_date) AS working_index
FROM ref_working_calendar;
CREATE OR REPLACE TABLE deals AS
SELECT deal_id,
    any_value(trade_area) AS trade_area, any_value(tenderer_code) AS tenderer_code,
    min(notice_send_time) FILTER (WHERE bulletin_type = '交易公告') AS announced_at,
    bool_or(notice_name LIKE '%公开招标%') AS is_open_tender,
    min(doc_get_start_time) AS doc_start, max(doc_get_end_time) AS doc_end,
    max(bid_deadline) AS bid_deadline, max(bid_open_time) AS bid_open,
    min(notice_send_time) FILTER (WHERE bulletin_type = '中标候选人公示') AS candidates_at,
    max(publicity_start_time) AS publicity_start, max(publicity_end_time) AS publicity_end,
    min(notice_send_time) FILTER (WHERE bulletin_type IN ('中标结果公告', '成交结果公告')) AS result_at,
    min(notice_send_time) FILTER (WHERE bulletin_type = '合同公告') AS contract_notice_at,
    max(contract_sign_time) AS contract_signed, max(budget_yuan) AS budget_yuan,
    max(bid_yuan) AS bid_yuan, max(bidder_count) AS bidder_count
FROM bulletins GROUP BY deal_id;
CREATE OR REPLACE TABLE timelines AS
SELECT d.*,
    date_diff('day', CAST(doc_start AS DATE), CAST(bid_deadline AS DATE)) AS tender_days,
    date_diff('day', CAST(doc_start AS DATE), CAST(doc_end AS DATE)) AS sale_days,
    e.working_index - s.working_index AS sale_working_days,
    date_diff('day', CAST(publicity_start AS DATE), CAST(publicity_end AS DATE)) AS publicity_days,
    date_diff('day', CAST(bid_open AS DATE), CAST(candidates_at AS DATE)) AS candidates_after_open,
    date_diff('day', CAST(result_at AS DATE), CAST(contract_signed AS DATE)) AS sign_after_result,
    cn.working_index - cs.working_index AS contract_notice_working_days
FROM deals d
LEFT JOIN calendar_index s ON s.d = CAST(d.doc_start AS DATE)
LEFT JOIN calendar_index e ON e.d = CAST(d.doc_end AS DATE)
LEFT JOIN calendar_index cs ON cs.d = CAST(d.contract_signed AS DATE)
LEFT JOIN calendar_index cn ON cn.d = CAST(d.contract_notice_at AS DATE);
-- stage: rules
CREATE OR REPLACE TABLE rule_counts AS
SELECT 'TRADE_RESULT_WITHOUT_ANNOUNCEMENT' AS rule_id, count(*) FILTER (WHERE announced_at IS NULL AND (result_at IS NOT NULL OR candidates_at IS NOT NULL)) AS failures FROM timelines
UNION ALL SELECT 'TRADE_SHORT_TENDER_PERIOD', count(*) FILTER (WHERE (trade_area = '工程建设项目招标投标' OR is_open_tender) AND tender_days < 20) FROM timelines
UNION ALL SELECT 'TRADE_DOC_SALE_WORKS', count(*) FILTER (WHERE trade_area = '工程建设项目招标投标' AND sale_days < 5) FROM timelines
UNION ALL SELECT 'TRADE_DOC_SALE_GP', count(*) FILTER (WHERE trade_area = '政府采购' AND sale_working_days < 5) FROM timelines
UNION ALL SELECT 'TRADE_CANDIDATE_PUBLICITY_SHORT', count(*) FILTER (WHERE publicity_days < 3) FROM timelines
UNION ALL SELECT 'TRADE_CANDIDATE_PUBLISHED_LATE', count(*) FILTER (WHERE candidates_after_open > 3) FROM timelines
UNION ALL SELECT 'TRADE_CONTRACT_SIGN_LATE', count(*) FILTER (WHERE sign_after_result > 30) FROM timelines
UNION ALL SELECT 'TRADE_GP_CONTRACT_NOTICE_LATE', count(*) FILTER (WHERE trade_area = '政府采购' AND contract_notice_working_days > 2) FROM timelines
UNION ALL SELECT 'TRADE_AMOUNT_OVER_BUDGET', count(*) FILTER (WHERE bid_yuan > budget_yuan) FROM timelines
UNION ALL SELECT 'TRADE_FEW_BIDDERS', count(*) FILTER (WHERE (trade_area = '工程建设项目招标投标' OR is_open_tender) AND bidder_count < 3 AND result_at IS NOT NULL) FROM timelines
UNION ALL SELECT 'PRIV_MOBILE', count(*) FILTER (WHERE regexp_matches(notice_content, '(^|[^0-9])1[3-9][0-9]{9}([^0-9]|$)')) FROM bulletins;
-- stage: disclosure
CREATE OR REPLACE TABLE expected AS
SELECT e.entity_code AS publisher_code, e.entity_name, CAST(regexp_extract(e.file, 'entities_(\d{4})', 1) AS INTEGER) AS fiscal_year,
       c.table_key, c.table_name_zh, c.document,
       CAST(coalesce(CASE c.document WHEN 'budget' THEN e.budget_approved_on ELSE e.final_approved_on END,
                     a.approved_on) AS DATE) + INTERVAL 20 DAY AS deadline
FROM registry_entities e
JOIN ref_disclosure_catalogue c ON c.publisher_kind = 'department'
LEFT JOIN registry_approvals a ON a.region_code = e.region_code
     AND CAST(a.fiscal_year AS INTEGER) = CAST(regexp_extract(e.file, 'entities_(\d{4})', 1) AS INTEGER) AND a.document = c.document
UNION ALL
SELECT r.region_code, r.region_name, CAST(a.fiscal_year AS INTEGER), c.table_key, c.table_name_zh, c.document,
       CAST(a.approved_on AS DATE) + INTERVAL 20 DAY
FROM registry_regions r
JOIN registry_approvals a ON a.region_code = r.region_code
JOIN ref_disclosure_catalogue c ON c.publisher_kind = 'government' AND c.document = a.document
     AND list_contains(string_split(c.applies_to_levels, '|'), r.level);
CREATE OR REPLACE TABLE published AS
SELECT t.attachment, t.title, min(CAST(p.published_at AS TIMESTAMP)) AS published_at
FROM sheet_titles t JOIN portal p ON p.attachment = t.attachment GROUP BY ALL;
-- Each expected table is matched to the published sheets whose title names its year, table and publisher. The years a
-- title names (every 4-digit run of it, overlapping) are a join key: the contains() tests then run within one year,
-- not across every expected row × every sheet (that cross product grew with the square of the years: 28 s of the
-- floor at ten years, work the pipeline, matching by recognised table, does not do).
CREATE OR REPLACE TABLE published_years AS
SELECT DISTINCT pb.title, pb.published_at, CAST(substr(pb.title, i, 4) AS INTEGER) AS fiscal_year
FROM published pb, unnest(range(1, length(pb.title) - 2)) AS w(i)
WHERE regexp_full_match(substr(pb.title, i, 4), '[0-9]{4}');
CREATE OR REPLACE TABLE disclosure_status AS
WITH numbered AS (SELECT row_number() OVER () AS expected_row, * FROM expected),
matched AS (
    SELECT x.expected_row, min(pb.published_at) AS published_at
    FROM numbered x
    JOIN published_years pb ON pb.fiscal_year = x.fiscal_year
    WHERE contains(replace(replace(pb.title, '“', ''), '”', ''), replace(replace(x.table_name_zh, '“', ''), '”', ''))
      AND contains(pb.title, x.entity_name)
    GROUP BY x.expected_row
)
SELECT x.* EXCLUDE (expected_row), p.published_at,
       CASE WHEN p.published_at IS NULL THEN 'missing'
            WHEN CAST(p.published_at AS DATE) > x.deadline THEN 'late' ELSE 'on_time' END AS status
FROM numbered x
LEFT JOIN matched p ON p.expected_row = x.expected_row;
-- stage: parquet
COPY bulletins TO '{out}/bulletins.parquet' (FORMAT parquet);
COPY timelines TO '{out}/deals.parquet' (FORMAT parquet);
COPY disclosure_status TO '{out}/disclosure_status.parquet' (FORMAT parquet);
COPY rule_counts TO '{out}/rule_counts.parquet' (FORMAT parquet)
