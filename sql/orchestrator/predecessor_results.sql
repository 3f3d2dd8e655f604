-- The predecessors of a task with their kind, status and JSON result: a plan reads its
-- analyze, a load reads its extract.
SELECT p.ID, p.KIND, p.STATUS, p.RESULT
FROM {{migration}}.TASK_DEPENDENCY d
JOIN {{migration}}.TASK_QUEUE p
    ON p.ID = d.PREDECESSOR_ID
WHERE d.SUCCESSOR_ID = :task_id
ORDER BY p.ID
