-- A partition loaded and verified.
UPDATE {{migration}}.PARTITION_METADATA
SET STATUS = 'COMPLETED',
    ROWS_LOADED = :rows_loaded,
    ERROR_MESSAGE = NULL,
    STATUS_UPDATED_AT = CAST(:now AS TIMESTAMP_NTZ)
WHERE ID = :partition_id
