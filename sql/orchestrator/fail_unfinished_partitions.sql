-- When a workflow finishes, every partition that did not complete failed (for example its
-- extract failed for good, which the worker cannot record here); the error shown for it is
-- the one of the task that failed on it (DATA_MIGRATION_ERROR).
UPDATE {{migration}}.PARTITION_METADATA
SET STATUS = 'FAILED',
    STATUS_UPDATED_AT = CAST(:now AS TIMESTAMP_NTZ)
WHERE WORKFLOW_ID = :workflow_id
  AND STATUS <> 'COMPLETED'
  AND STATUS <> 'FAILED'
