-- Workflows for `orchestrator status`: all, or the one named or numbered by :workflow.
SELECT
    w.ID, w.NAME, w.WORKFLOW_TYPE, w.STATUS, w.CREATED_AT, w.STARTED_AT, w.ENDED_AT, w.LAST_ERROR,
    (SELECT COUNT(*) FROM {{migration}}.TASK_QUEUE q WHERE q.WORKFLOW_ID = w.ID) AS TASKS,
    (SELECT COUNT(*) FROM {{migration}}.TASK_QUEUE q
        WHERE q.WORKFLOW_ID = w.ID AND q.STATUS = 'failed') AS FAILED_TASKS
FROM {{migration}}.WORKFLOW w
WHERE CAST(:workflow AS VARCHAR) IS NULL
   OR w.NAME = CAST(:workflow AS VARCHAR)
   OR CAST(w.ID AS VARCHAR) = CAST(:workflow AS VARCHAR)
ORDER BY w.ID
