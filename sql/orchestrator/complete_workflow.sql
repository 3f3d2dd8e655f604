-- Completes a workflow, re-checking in the same statement that every task is terminal.
UPDATE {{migration}}.WORKFLOW
SET STATUS = 'completed',
    ENDED_AT = CAST(:now AS TIMESTAMP_NTZ)
WHERE ID = :workflow_id
  AND STATUS = 'executing'
  AND NOT EXISTS (
    SELECT 1
    FROM {{migration}}.TASK_QUEUE q
    WHERE q.WORKFLOW_ID = :workflow_id
      AND q.STATUS NOT IN ('completed', 'failed')
  )
