-- The TABLE_METADATA rows of a workflow with their configuration (matched back to the
-- workflow's table positions by the caller: IDs carry no order).
SELECT ID, TABLE_CONFIGURATION
FROM {{migration}}.TABLE_METADATA
WHERE WORKFLOW_ID = :workflow_id
