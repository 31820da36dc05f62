-- Raw layer of the gongkai warehouse: what the publishers' files said, with provenance.
-- Every data table carries load_id, source_file (posix path relative to the raw root),
-- source_sha256, and a 1-based source_row as a person sees it (Excel row; for CSV the header is row 1).
-- Rows of a file that disappeared from the raw root are kept with is_retired = true, never deleted.
-- Rows of a file whose content changed are superseded: kept with is_retired = true (their load_id names a
-- raw.load_files row that is no longer current), then the new version is inserted. Nothing is deleted.
CREATE SCHEMA IF NOT EXISTS raw;

-- One row per load attempt of a file. is_current marks the row describing the file's present state.
CREATE TABLE IF NOT EXISTS raw.load_files (
    load_id        VARCHAR NOT NULL,
    source_file    VARCHAR NOT NULL,
    source_sha256  VARCHAR NOT NULL,
    bytes          BIGINT  NOT NULL,
    family         VARCHAR NOT NULL,   -- registry | budget | debt | trading | portal
    file_format    VARCHAR,            -- xlsx | csv | json | jsonl
    encoding       VARCHAR,            -- utf-8 | utf-8-sig | gb18030 (text files)
    detected_kind  VARCHAR,            -- e.g. regions | entities | approvals | publications | bulletins | workbook
    status         VARCHAR NOT NULL,   -- loaded | loaded_with_rejects | rejected | retired
    reason         VARCHAR,            -- why rejected / what was rejected, in words a clerk can act on
    rows_in        BIGINT  NOT NULL,   -- data rows read from the file
    rows_loaded    BIGINT  NOT NULL,
    rows_rejected  BIGINT  NOT NULL,   -- invariant: rows_in = rows_loaded + rows_rejected
    loaded_at      TIMESTAMP NOT NULL,
    is_current     BOOLEAN NOT NULL,
    retired_at     TIMESTAMP
);

-- One row per rejected row (or per rejected file: source_row NULL) with the reason.
CREATE TABLE IF NOT EXISTS raw.load_rejects (
    load_id        VARCHAR NOT NULL,
    family         VARCHAR NOT NULL,
    source_file    VARCHAR NOT NULL,
    source_sha256  VARCHAR NOT NULL,
    sheet          VARCHAR,
    source_row     INTEGER,
    source_column  VARCHAR,            -- Excel column letter for workbooks, header text for CSV/JSON
    raw_value      VARCHAR,
    reason         VARCHAR NOT NULL,
    is_retired     BOOLEAN NOT NULL DEFAULT false
);

-- One row per cell of a LOADED row whose value was stored NULL because it cannot be what its column holds (a code
-- a spreadsheet rewrote in scientific notation, `damaged: blank` in the specs): the row is loaded, so it is no
-- reject (rows_in = rows_loaded + rows_rejected holds); the cell is kept here, with its file, for a finding
-- (QUAR_CODE_DAMAGED). Superseded and retired with its file, like load_rejects.
CREATE TABLE IF NOT EXISTS raw.load_blanked_cells (
    load_id        VARCHAR NOT NULL,
    family         VARCHAR NOT NULL,
    source_file    VARCHAR NOT NULL,
    source_sha256  VARCHAR NOT NULL,
    sheet          VARCHAR,            -- workbook sheet (NULL in a text file)
    source_row     INTEGER NOT NULL,   -- the row as the family's raw table numbers it (joins its row)
    sheet_row      INTEGER,            -- the row of that sheet a person sees (workbooks; NULL: source_row)
    source_column  VARCHAR NOT NULL,   -- the column's header as printed
    field_name     VARCHAR NOT NULL,   -- the field it would have filled (spec name, e.g. tenderer_code)
    raw_value      VARCHAR NOT NULL,   -- the cell as found
    is_retired     BOOLEAN NOT NULL DEFAULT false
);
-- the field's kind (code | date | timestamp | boolean | enum | …): a code is QUAR_CODE_DAMAGED, any other kind
-- QUAR_VALUE_UNREADABLE; NULL in a warehouse loaded before it was kept (then only codes were blanked)
ALTER TABLE raw.load_blanked_cells ADD COLUMN IF NOT EXISTS field_kind VARCHAR;
-- the row of the record the cell's row was read into where that is another row: a 513 consortium's member row folded
-- into its first row (ingest/trading_unions.py) — the record (its deal's publisher and year) is found there; NULL: the
-- cell's own row (review V1: a member's damaged code lost its publisher and year)
ALTER TABLE raw.load_blanked_cells ADD COLUMN IF NOT EXISTS record_row INTEGER;

-- Workbook families (budget, debt) share one shape: <family>_sheets and <family>_lines.
-- One row per sheet met in a readable workbook (known table or not).
CREATE TABLE IF NOT EXISTS raw.budget_sheets (
    load_id           VARCHAR NOT NULL,
    source_file       VARCHAR NOT NULL,
    source_sha256     VARCHAR NOT NULL,
    sheet             VARCHAR NOT NULL,
    sheet_index       INTEGER NOT NULL,  -- 0-based position in the workbook
    title             VARCHAR,           -- title row text as published
    table_name        VARCHAR,           -- canonical Chinese table name matched (NULL: unknown table)
    entity_name       VARCHAR,           -- publisher named in the title (text before the year)
    publisher_line    VARCHAR,           -- e.g. '部门：宁夏回族自治区教育厅'
    fiscal_year       INTEGER,
    phase             VARCHAR,           -- budget | final
    unit_label        VARCHAR,           -- 元 | 千元 | 万元 | 亿元 as printed
    unit_multiplier   DECIMAL(20, 4),    -- 元 per unit
    code_layout       VARCHAR,           -- single | split | none
    header_row_count  INTEGER,
    data_row_count    INTEGER,           -- rows loaded as lines (rejected rows not counted)
    note_text         VARCHAR,           -- footnotes ('注：…'), joined with newlines
    is_empty          BOOLEAN,           -- no detail row carries a non-zero amount
    has_empty_note    BOOLEAN,           -- the note says why the table is empty
    status            VARCHAR NOT NULL,  -- parsed | unknown_table | error
    reason            VARCHAR,
    is_retired        BOOLEAN NOT NULL DEFAULT false
);
-- One row per (data row, spec column) of a parsed sheet: a long table so one shape fits every table.
CREATE TABLE IF NOT EXISTS raw.budget_lines (
    load_id        VARCHAR NOT NULL,
    source_file    VARCHAR NOT NULL,
    source_sha256  VARCHAR NOT NULL,
    sheet          VARCHAR NOT NULL,
    source_row     INTEGER NOT NULL,
    table_name     VARCHAR NOT NULL,
    side           VARCHAR,          -- NULL | income | expenditure (two-sided summary tables)
    line_code      VARCHAR,          -- digits only, split 类|款|项 joined; NULL when the row has no code
    line_label     VARCHAR,          -- item / region / project name, trimmed
    indent_level   INTEGER,          -- leading-space depth of the label (0 = none)
    is_total       BOOLEAN NOT NULL, -- 合计 / 总计 / 收入总计 / 支出总计 …
    row_key        VARCHAR,          -- standard item key for item-row tables (debt 1-2 … 1-4), else NULL
    column_key     VARCHAR NOT NULL, -- spec column key, e.g. total | basic | project | limit_general
    source_column  VARCHAR NOT NULL, -- Excel column letter
    value_text     VARCHAR,          -- the cell as printed (a workbook cell through its number format), for audit
    amount_yuan    DECIMAL(20, 2),   -- amount converted to 元; NULL for text columns
    is_retired     BOOLEAN NOT NULL DEFAULT false
);
-- PDFs: the page a line was read on (source_row then counts the lines of that page; a reject names its
-- page in its reason, its sheet is the table with its page range). Added in place so warehouses built
-- before PDFs were read keep their rows.
ALTER TABLE raw.budget_lines ADD COLUMN IF NOT EXISTS source_page INTEGER;
-- The debt family has the same shape; CREATE TABLE AS copies the columns but not their defaults or
-- NOT NULL, so those are restored below (idempotent).
CREATE TABLE IF NOT EXISTS raw.debt_sheets AS SELECT * FROM raw.budget_sheets WITH NO DATA;
CREATE TABLE IF NOT EXISTS raw.debt_lines  AS SELECT * FROM raw.budget_lines  WITH NO DATA;
ALTER TABLE raw.debt_sheets ALTER COLUMN is_retired SET DEFAULT false;
ALTER TABLE raw.debt_lines  ALTER COLUMN is_retired SET DEFAULT false;
UPDATE raw.debt_sheets SET is_retired = false WHERE is_retired IS NULL;
UPDATE raw.debt_lines  SET is_retired = false WHERE is_retired IS NULL;
ALTER TABLE raw.debt_sheets ALTER COLUMN is_retired SET NOT NULL;
ALTER TABLE raw.debt_lines  ALTER COLUMN is_retired SET NOT NULL;
ALTER TABLE raw.debt_lines  ADD COLUMN IF NOT EXISTS source_page INTEGER;

-- Required explanations found in a budget disclosure's running text (a PDF's narrative pages, a workbook's
-- 说明 sheet): one row per catalogue explanation found, where its heading stands.
CREATE TABLE IF NOT EXISTS raw.budget_sections (
    load_id        VARCHAR NOT NULL,
    source_file    VARCHAR NOT NULL,
    source_sha256  VARCHAR NOT NULL,
    section_name   VARCHAR NOT NULL,   -- catalogue table_name_zh of the explanation (book explanation)
    heading        VARCHAR,            -- the heading as printed
    sheet          VARCHAR,            -- workbook sheet (NULL in a PDF)
    source_page    INTEGER,            -- PDF page (NULL in a workbook)
    source_row     INTEGER NOT NULL,   -- line on the page / row of the sheet
    body_chars     INTEGER,            -- characters of text under the heading
    entity_name    VARCHAR,            -- the disclosure the file is: from its tables, else its cover
    fiscal_year    INTEGER,
    phase          VARCHAR,
    is_retired     BOOLEAN NOT NULL DEFAULT false
);
-- Figures and years the narrative states (收入预算总计 … 万元; years named in the 编制说明), to be read
-- against the tables.
CREATE TABLE IF NOT EXISTS raw.budget_statements (
    load_id        VARCHAR NOT NULL,
    source_file    VARCHAR NOT NULL,
    source_sha256  VARCHAR NOT NULL,
    statement_key  VARCHAR NOT NULL,   -- income_total | expenditure_total | fiscal_appropriation | sangong_total | office_running | year_named
    section_name   VARCHAR,            -- the explanation it stands in
    value_text     VARCHAR,            -- the words as printed
    amount_yuan    DECIMAL(20, 2),
    tolerance_yuan DECIMAL(20, 2),     -- half a unit of the last digit printed
    year_named     INTEGER,
    sheet          VARCHAR,
    source_page    INTEGER,
    source_row     INTEGER NOT NULL,
    excerpt        VARCHAR,
    is_retired     BOOLEAN NOT NULL DEFAULT false
);

-- A count a statement gives (团组2个 …, statement_key the count's key): a whole number, NULL for every other statement.
ALTER TABLE raw.budget_statements ADD COLUMN IF NOT EXISTS count_value INTEGER;

-- Counts a budget table gives beside its amounts: the 三公 detail of a final (trips abroad and people, vehicles bought
-- and held, domestic receptions: batches, people; ingest/count_cells.py). Whole numbers, not amounts: never in
-- raw.budget_lines (no unit scales them). One row per count cell of a loaded row.
CREATE TABLE IF NOT EXISTS raw.budget_counts (
    load_id        VARCHAR NOT NULL,
    source_file    VARCHAR NOT NULL,
    source_sha256  VARCHAR NOT NULL,
    sheet          VARCHAR NOT NULL,
    source_row     INTEGER NOT NULL,
    source_page    INTEGER,            -- PDF page (source_row then counts the lines of that page)
    table_name     VARCHAR NOT NULL,
    line_label     VARCHAR,            -- the item row's label (因公出国（境）团组数（个）), NULL in a row of count columns
    count_key      VARCHAR NOT NULL,   -- trips_abroad | persons_abroad | vehicles_bought | vehicles_held | receptions | reception_persons | other_count
    column_key     VARCHAR NOT NULL,   -- the column it stands in: the count key itself, or amount / budget … of an item row
    source_column  VARCHAR NOT NULL,   -- Excel column letter
    value_text     VARCHAR,            -- the cell as printed
    count_value    INTEGER NOT NULL,
    is_retired     BOOLEAN NOT NULL DEFAULT false
);

-- One row per bulletin read from a trading export (duplicates across exports are kept here, each
-- with its own provenance; bulletin_key identifies the bulletin so dbt keeps one). A record of the
-- national data standard listing several sections is one bulletin per section: source_part 1, 2, …
CREATE TABLE IF NOT EXISTS raw.trading_bulletins (
    load_id                VARCHAR NOT NULL,
    source_file            VARCHAR NOT NULL,
    source_sha256          VARCHAR NOT NULL,
    source_row             INTEGER NOT NULL,
    bulletin_key           VARCHAR NOT NULL,  -- deal id | bulletin type code | notice_send_time | candidate order
    project_code           VARCHAR,
    tender_project_code    VARCHAR,
    bid_section_code       VARCHAR,
    unified_deal_code      VARCHAR,
    bulletin_type          VARCHAR,           -- as published (Chinese label)
    trade_area             VARCHAR,           -- as published (Chinese label)
    notice_name            VARCHAR,
    notice_send_time       TIMESTAMP,         -- naive Asia/Shanghai local time
    region_code            VARCHAR,
    tenderer_name          VARCHAR,
    tenderer_code          VARCHAR,
    tender_agency_name     VARCHAR,
    tender_agency_code     VARCHAR,
    budget_amount_yuan     DECIMAL(20, 2),
    doc_get_start_time     TIMESTAMP,
    doc_get_end_time       TIMESTAMP,
    bid_doc_refer_end_time TIMESTAMP,
    bid_open_time          TIMESTAMP,
    bidder_count           INTEGER,
    win_candidate_name     VARCHAR,
    win_candidate_code     VARCHAR,
    win_candidate_order    INTEGER,
    publicity_start_time   TIMESTAMP,
    publicity_end_time     TIMESTAMP,
    win_bidder_name        VARCHAR,
    win_bidder_code        VARCHAR,
    bid_amount_yuan        DECIMAL(20, 2),
    contract_sign_time     TIMESTAMP,
    pm_name                VARCHAR,
    pm_code                VARCHAR,           -- personal data: never published unmasked
    contact_phone          VARCHAR,
    notice_content         VARCHAR,
    url                    VARCHAR,
    is_retired             BOOLEAN NOT NULL DEFAULT false,
    -- added with the national data standard (issue 12); last, so that old warehouses gain the same shape
    source_part            INTEGER,           -- section of a record listing several (1 otherwise)
    contact_person         VARCHAR,           -- personal data: never published
    agency_contact_person  VARCHAR,           -- personal data: never published
    agency_contact_phone   VARCHAR,           -- personal data: scanned, never published
    buyer_conditions       VARCHAR,           -- a listing's 受让方资格条件: scanned, never published
    other_conditions       VARCHAR,           -- a listing's 与转让相关的其他条件: scanned, never published
    procurement_method     VARCHAR            -- the method field's method word, else the title's own (spec procurement_methods)
);
-- Warehouses created before these columns existed gain them. Their rows carry bulletin keys of the
-- old form (the type as published, not its closed code) and no source_part: the files they came from
-- are marked changed, so the next load of the family supersedes their rows (every current row has a part; the
-- superseded old-form rows stay, retired, and do not mark the file again).
ALTER TABLE raw.trading_bulletins ADD COLUMN IF NOT EXISTS source_part INTEGER;
ALTER TABLE raw.trading_bulletins ADD COLUMN IF NOT EXISTS contact_person VARCHAR;
ALTER TABLE raw.trading_bulletins ADD COLUMN IF NOT EXISTS agency_contact_person VARCHAR;
ALTER TABLE raw.trading_bulletins ADD COLUMN IF NOT EXISTS agency_contact_phone VARCHAR;
ALTER TABLE raw.trading_bulletins ADD COLUMN IF NOT EXISTS buyer_conditions VARCHAR;
ALTER TABLE raw.trading_bulletins ADD COLUMN IF NOT EXISTS other_conditions VARCHAR;
ALTER TABLE raw.trading_bulletins ADD COLUMN IF NOT EXISTS procurement_method VARCHAR;
UPDATE raw.load_files SET source_sha256 = 'reload-' || source_sha256
WHERE family = 'trading' AND is_current AND NOT starts_with(source_sha256, 'reload-')
  AND source_file IN (SELECT DISTINCT source_file FROM raw.trading_bulletins WHERE source_part IS NULL AND NOT is_retired);

-- Registry: who must publish what.
CREATE TABLE IF NOT EXISTS raw.registry_regions (
    load_id VARCHAR NOT NULL, source_file VARCHAR NOT NULL, source_sha256 VARCHAR NOT NULL,
    source_row INTEGER NOT NULL,
    region_code VARCHAR, region_name VARCHAR, level VARCHAR, parent_code VARCHAR,
    is_retired BOOLEAN NOT NULL DEFAULT false
);
CREATE TABLE IF NOT EXISTS raw.registry_entities (
    load_id VARCHAR NOT NULL, source_file VARCHAR NOT NULL, source_sha256 VARCHAR NOT NULL,
    source_row INTEGER NOT NULL,
    fiscal_year INTEGER NOT NULL,          -- from a fiscal_year column, else entities_<year>.csv
    entity_code VARCHAR, entity_name VARCHAR, region_code VARCHAR, entity_kind VARCHAR,
    parent_entity_code VARCHAR, has_government_fund BOOLEAN, has_state_capital BOOLEAN,
    budget_approved_on DATE, final_approved_on DATE,
    is_retired BOOLEAN NOT NULL DEFAULT false
);
CREATE TABLE IF NOT EXISTS raw.registry_approvals (
    load_id VARCHAR NOT NULL, source_file VARCHAR NOT NULL, source_sha256 VARCHAR NOT NULL,
    source_row INTEGER NOT NULL,
    region_code VARCHAR, fiscal_year INTEGER, document VARCHAR, approved_on DATE,
    is_retired BOOLEAN NOT NULL DEFAULT false
);

-- Portal publication log: what was published, where, when.
CREATE TABLE IF NOT EXISTS raw.portal_publications (
    load_id VARCHAR NOT NULL, source_file VARCHAR NOT NULL, source_sha256 VARCHAR NOT NULL,
    source_row INTEGER NOT NULL,
    publisher_code VARCHAR, publisher_name VARCHAR, portal_column VARCHAR, title VARCHAR,
    published_at TIMESTAMP, url VARCHAR, attachment VARCHAR,
    is_retired BOOLEAN NOT NULL DEFAULT false
);
