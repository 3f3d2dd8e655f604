-- V002: per-table and per-partition bookkeeping, the ledger of loaded files, the result stage
-- and the Parquet file format. Idempotent. IDs are AUTOINCREMENT: insert without ID.

-- Objects are created while their own schema is current: an AUTOINCREMENT column's sequence
-- then lives next to its table on the emulator too (deploy restores the session's schema).
USE SCHEMA {{migration}};

CREATE TABLE IF NOT EXISTS {{migration}}.TABLE_METADATA (
    ID NUMBER(38,0) AUTOINCREMENT START 1 INCREMENT 1,
    WORKFLOW_ID NUMBER(38,0) NOT NULL,
    SOURCE_IDENTIFIER VARCHAR NOT NULL,      -- normalized source name, e.g. DB.SCHEMA.TABLE
    TARGET_IDENTIFIER VARCHAR,
    TABLE_CONFIGURATION VARIANT,             -- the merged per-table configuration
    ANALYSIS VARIANT,                        -- result of the analyze task
    ESTIMATED_ROWS NUMBER(38,0),
    HAS_BEEN_ANALYZED BOOLEAN NOT NULL DEFAULT FALSE,
    CREATED_AT TIMESTAMP_NTZ NOT NULL,
    UPDATED_AT TIMESTAMP_NTZ
);

-- STATUS: EXTRACTING -> LOADING -> COMPLETED, or FAILED.
CREATE TABLE IF NOT EXISTS {{migration}}.PARTITION_METADATA (
    ID NUMBER(38,0) AUTOINCREMENT START 1 INCREMENT 1,
    WORKFLOW_ID NUMBER(38,0) NOT NULL,
    TABLE_ID NUMBER(38,0) NOT NULL,
    PARTITION_NUMBER NUMBER(38,0) NOT NULL,  -- 0 = lower edge, 1..N interior, N+1 = upper edge
    BOUNDS VARIANT,                          -- structured predicate bounds: columns, lower, upper, inclusivity
    STATUS VARCHAR NOT NULL,
    ESTIMATED_ROWS NUMBER(38,0),
    ROWS_EXTRACTED NUMBER(38,0),
    ROWS_LOADED NUMBER(38,0),
    BYTES_EXTRACTED NUMBER(38,0),
    FILE_COUNT NUMBER(38,0),
    FILES VARIANT,                           -- staged file names of the latest extraction
    CHECKSUM VARCHAR,                        -- content checksum of the latest extraction
    SYNC_DATA VARIANT,                       -- watermark / checksum state for incremental runs
    ERROR_MESSAGE VARCHAR,
    STATUS_UPDATED_AT TIMESTAMP_NTZ,
    CREATED_AT TIMESTAMP_NTZ NOT NULL
);

-- One row per staged file loaded by COPY INTO, with COPY's own counts.
CREATE TABLE IF NOT EXISTS {{migration}}.LOADED_FILE (
    ID NUMBER(38,0) AUTOINCREMENT START 1 INCREMENT 1,
    WORKFLOW_ID NUMBER(38,0) NOT NULL,
    TABLE_ID NUMBER(38,0),
    PARTITION_ID NUMBER(38,0),
    TASK_ID NUMBER(38,0),
    STAGE_PATH VARCHAR NOT NULL,
    FILE_NAME VARCHAR NOT NULL,
    ROWS_PARSED NUMBER(38,0),
    ROWS_LOADED NUMBER(38,0),
    ERRORS_SEEN NUMBER(38,0),
    FIRST_ERROR VARCHAR,
    COPY_STATUS VARCHAR NOT NULL,            -- LOADED | LOAD_SKIPPED | PARTIALLY_LOADED | LOAD_FAILED
    LOADED_AT TIMESTAMP_NTZ NOT NULL
);

CREATE STAGE IF NOT EXISTS {{migration}}.TASK_RESULTS
    ENCRYPTION = (TYPE = 'SNOWFLAKE_SSE')
    DIRECTORY = (ENABLE = TRUE);

CREATE FILE FORMAT IF NOT EXISTS {{migration}}.PARQUET_FILE_FORMAT
    TYPE = PARQUET
    BINARY_AS_TEXT = FALSE
    USE_LOGICAL_TYPE = TRUE;
