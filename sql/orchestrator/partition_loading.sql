-- A partition's extraction is done and its load starts: record what the extract reported.
-- A partition already completed (a repeated load) keeps its status.
UPDATE {{migration}}.PARTITION_METADATA
SET STATUS = CASE WHEN STATUS = 'COMPLETED' THEN STATUS ELSE 'LOADING' END,
    ROWS_EXTRACTED = :rows_extracted,
    BYTES_EXTRACTED = :bytes_extracted,
    FILE_COUNT = :file_count,
    FILES = PARSE_JSON(CAST(:files AS VARCHAR)),
    CHECKSUM = CAST(:checksum AS VARCHAR),
    STATUS_UPDATED_AT = CAST(:now AS TIMESTAMP_NTZ)
WHERE ID = :partition_id
