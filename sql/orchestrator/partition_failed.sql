-- A partition whose load failed for good, with the reason.
UPDATE {{migration}}.PARTITION_METADATA
SET STATUS = 'FAILED',
    ERROR_MESSAGE = CAST(:error_message AS VARCHAR),
    STATUS_UPDATED_AT = CAST(:now AS TIMESTAMP_NTZ)
WHERE ID = :partition_id
  AND STATUS <> 'COMPLETED'
