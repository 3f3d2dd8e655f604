-- Loaded files into the ledger, from a JSON array of
-- {"file_name", "rows_parsed", "rows_loaded", "first_error", "copy_status"}.
INSERT INTO {{migration}}.LOADED_FILE (
    WORKFLOW_ID, TABLE_ID, PARTITION_ID, TASK_ID, STAGE_PATH, FILE_NAME, ROWS_PARSED,
    ROWS_LOADED, ERRORS_SEEN, FIRST_ERROR, COPY_STATUS, LOADED_AT
)
SELECT
    :workflow_id,
    :table_id,
    :partition_id,
    :task_id,
    CAST(:stage_path AS VARCHAR),
    f.value:file_name::VARCHAR,
    f.value:rows_parsed::BIGINT,
    f.value:rows_loaded::BIGINT,
    0,
    f.value:first_error::VARCHAR,
    f.value:copy_status::VARCHAR,
    CAST(:now AS TIMESTAMP_NTZ)
FROM TABLE(FLATTEN(INPUT => PARSE_JSON(CAST(:files AS VARCHAR)))) f
