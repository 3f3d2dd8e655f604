-- A claimed workflow whose stored configuration this build cannot read: completed at once with
-- the reason, so it does not block the daemon or stay executing forever.
UPDATE {{migration}}.WORKFLOW
SET STATUS = 'completed',
    ENDED_AT = CAST(:now AS TIMESTAMP_NTZ),
    LAST_ERROR = CAST(:error_message AS VARCHAR)
WHERE ID = :workflow_id
