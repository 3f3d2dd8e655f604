-- A partition loaded and verified, fenced: only a partition not completed yet is completed, so
-- of two loads of one partition only the first to commit counts (the other sees 0 rows updated
-- and rolls back its COPY).
UPDATE {{migration}}.PARTITION_METADATA
SET STATUS = 'COMPLETED',
    ROWS_LOADED = :rows_loaded,
    ERROR_MESSAGE = NULL,
    STATUS_UPDATED_AT = CAST(:now AS TIMESTAMP_NTZ)
WHERE ID = :partition_id
  AND STATUS <> 'COMPLETED'
