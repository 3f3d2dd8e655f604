-- V003: the progress and error views of the product page, all filterable by WORKFLOW_ID.
-- CREATE OR REPLACE VIEW is idempotent.

-- Objects are created while their own schema is current: an AUTOINCREMENT column's sequence
-- then lives next to its table on the emulator too (deploy restores the session's schema).
USE SCHEMA {{migration}};

-- The first error of each failed partition, and of each table whose table-level task (for
-- example analyze) failed, with PARTITION_NUMBER NULL. The error is the partition's own: the
-- earliest failed task that worked on that very partition, not the table's first error.
CREATE OR REPLACE VIEW {{migration}}.DATA_MIGRATION_ERROR AS
WITH FIRST_FAILED_TASK AS (
    SELECT
        q.WORKFLOW_ID,
        q.TABLE_ID,
        q.PARTITION_ID,
        q.ID AS TASK_ID,
        q.KIND AS TASK_KIND,
        q.NAME AS TASK_NAME,
        q.STARTED_AT AS TASK_START_TIME,
        q.ENDED_AT AS TASK_END_TIME,
        q.PAYLOAD AS TASK_PAYLOAD,
        q.LAST_ERROR
    FROM {{migration}}.TASK_QUEUE q
    WHERE q.STATUS = 'failed'
      AND q.TABLE_ID IS NOT NULL
    -- a failure cascaded from a predecessor only repeats the cause, so it ranks after the
    -- partition's own failures; then the earliest wins
    QUALIFY ROW_NUMBER() OVER (
        PARTITION BY q.WORKFLOW_ID, q.TABLE_ID, q.PARTITION_ID
        ORDER BY CASE WHEN q.FAILED_BECAUSE_OF_TASK_ID IS NULL THEN 0 ELSE 1 END, q.ENDED_AT, q.ID
    ) = 1
)
SELECT
    t.WORKFLOW_ID,
    t.ID AS TABLE_ID,
    t.SOURCE_IDENTIFIER AS TABLE_NAME,
    p.PARTITION_NUMBER,
    p.BOUNDS AS PARTITION_BOUNDS,
    p.ESTIMATED_ROWS AS PARTITION_ROWS,
    f.TASK_ID,
    f.TASK_KIND,
    f.TASK_NAME,
    f.TASK_START_TIME,
    f.TASK_END_TIME,
    f.TASK_PAYLOAD,
    COALESCE(f.LAST_ERROR, p.ERROR_MESSAGE) AS ERROR_MESSAGE
FROM {{migration}}.TABLE_METADATA t
JOIN {{migration}}.PARTITION_METADATA p
    ON p.TABLE_ID = t.ID
LEFT JOIN FIRST_FAILED_TASK f
    ON f.PARTITION_ID = p.ID
-- failed: marked so, or one of its tasks failed for good while the status was not yet updated
WHERE p.STATUS = 'FAILED'
   OR f.TASK_ID IS NOT NULL
UNION ALL
SELECT
    t.WORKFLOW_ID,
    t.ID AS TABLE_ID,
    t.SOURCE_IDENTIFIER AS TABLE_NAME,
    NULL AS PARTITION_NUMBER,
    NULL AS PARTITION_BOUNDS,
    NULL AS PARTITION_ROWS,
    f.TASK_ID,
    f.TASK_KIND,
    f.TASK_NAME,
    f.TASK_START_TIME,
    f.TASK_END_TIME,
    f.TASK_PAYLOAD,
    f.LAST_ERROR AS ERROR_MESSAGE
FROM {{migration}}.TABLE_METADATA t
JOIN FIRST_FAILED_TASK f
    ON f.TABLE_ID = t.ID
   AND f.PARTITION_ID IS NULL;

-- One row per table: partitions per phase and row counts. A partition counts as failed when
-- it is marked FAILED or when one of its tasks failed for good.
CREATE OR REPLACE VIEW {{migration}}.TABLE_PROGRESS AS
WITH PARTITION_PHASE AS (
    SELECT
        p.ID,
        p.TABLE_ID,
        p.ROWS_EXTRACTED,
        p.ROWS_LOADED,
        p.STATUS_UPDATED_AT,
        CASE
            WHEN p.STATUS = 'COMPLETED' THEN 'COMPLETED'
            WHEN p.STATUS = 'FAILED' OR f.PARTITION_ID IS NOT NULL THEN 'FAILED'
            ELSE p.STATUS
        END AS PHASE
    FROM {{migration}}.PARTITION_METADATA p
    LEFT JOIN (
        SELECT DISTINCT q.PARTITION_ID
        FROM {{migration}}.TASK_QUEUE q
        WHERE q.STATUS = 'failed'
          AND q.PARTITION_ID IS NOT NULL
    ) f
        ON f.PARTITION_ID = p.ID
)
SELECT
    t.WORKFLOW_ID,
    t.ID AS TABLE_ID,
    t.SOURCE_IDENTIFIER AS TABLE_NAME,
    t.TARGET_IDENTIFIER AS TARGET_TABLE_NAME,
    t.HAS_BEEN_ANALYZED,
    COUNT(pp.ID) AS TOTAL_PARTITIONS,
    COUNT(CASE WHEN pp.PHASE = 'EXTRACTING' THEN 1 END) AS PARTITIONS_IN_EXTRACTION_PHASE,
    COUNT(CASE WHEN pp.PHASE = 'LOADING' THEN 1 END) AS PARTITIONS_IN_LOADING_PHASE,
    COUNT(CASE WHEN pp.PHASE = 'COMPLETED' THEN 1 END) AS LOADED_PARTITIONS,
    COUNT(CASE WHEN pp.PHASE = 'FAILED' THEN 1 END) AS FAILED_PARTITIONS,
    t.ESTIMATED_ROWS AS TOTAL_ROWS,
    SUM(pp.ROWS_EXTRACTED) AS EXTRACTED_ROWS,
    SUM(pp.ROWS_LOADED) AS LOADED_ROWS,
    COALESCE(MAX(pp.STATUS_UPDATED_AT), t.UPDATED_AT, t.CREATED_AT) AS LAST_UPDATED
FROM {{migration}}.TABLE_METADATA t
LEFT JOIN PARTITION_PHASE pp
    ON pp.TABLE_ID = t.ID
GROUP BY
    t.WORKFLOW_ID, t.ID, t.SOURCE_IDENTIFIER, t.TARGET_IDENTIFIER, t.HAS_BEEN_ANALYZED,
    t.ESTIMATED_ROWS, t.UPDATED_AT, t.CREATED_AT;

-- TABLE_PROGRESS plus one example error per table: the earliest in DATA_MIGRATION_ERROR.
CREATE OR REPLACE VIEW {{migration}}.TABLE_PROGRESS_WITH_EXAMPLE_ERROR AS
SELECT
    tp.WORKFLOW_ID,
    tp.TABLE_ID,
    tp.TABLE_NAME,
    tp.TARGET_TABLE_NAME,
    tp.HAS_BEEN_ANALYZED,
    tp.TOTAL_PARTITIONS,
    tp.PARTITIONS_IN_EXTRACTION_PHASE,
    tp.PARTITIONS_IN_LOADING_PHASE,
    tp.LOADED_PARTITIONS,
    tp.FAILED_PARTITIONS,
    tp.TOTAL_ROWS,
    tp.EXTRACTED_ROWS,
    tp.LOADED_ROWS,
    tp.LAST_UPDATED,
    e.ERROR_MESSAGE AS EXAMPLE_ERROR_MESSAGE
FROM {{migration}}.TABLE_PROGRESS tp
LEFT JOIN (
    SELECT de.TABLE_ID, de.ERROR_MESSAGE
    FROM {{migration}}.DATA_MIGRATION_ERROR de
    QUALIFY ROW_NUMBER() OVER (
        PARTITION BY de.TABLE_ID
        ORDER BY de.TASK_END_TIME NULLS LAST, de.PARTITION_NUMBER NULLS FIRST
    ) = 1
) e
    ON e.TABLE_ID = tp.TABLE_ID;
