-- The partitions of a planned table, from a JSON array of
-- {"partition_number", "bounds", "estimated_rows"}. Each starts EXTRACTING.
INSERT INTO {{migration}}.PARTITION_METADATA (
    WORKFLOW_ID, TABLE_ID, PARTITION_NUMBER, BOUNDS, STATUS, ESTIMATED_ROWS, STATUS_UPDATED_AT,
    CREATED_AT
)
SELECT
    :workflow_id,
    :table_id,
    p.value:partition_number::BIGINT,
    p.value:bounds,
    'EXTRACTING',
    p.value:estimated_rows::BIGINT,
    CAST(:now AS TIMESTAMP_NTZ),
    CAST(:now AS TIMESTAMP_NTZ)
FROM TABLE(FLATTEN(INPUT => PARSE_JSON(CAST(:partitions AS VARCHAR)))) p
