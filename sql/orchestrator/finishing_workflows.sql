-- Executing data-migration workflows whose every task is terminal (completed or failed): the
-- product page's "Completed" predicate.
SELECT w.ID
FROM {{migration}}.WORKFLOW w
WHERE w.STATUS = 'executing'
  AND w.WORKFLOW_TYPE = 'data-migration'
  AND NOT EXISTS (
    SELECT 1
    FROM {{migration}}.TASK_QUEUE q
    WHERE q.WORKFLOW_ID = w.ID
      AND q.STATUS NOT IN ('completed', 'failed')
  )
ORDER BY w.ID
