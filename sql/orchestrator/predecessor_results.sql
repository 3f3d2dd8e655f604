-- The predecessors of a task with their kind, status, JSON result and ATTEMPTS: a plan reads its
-- analyze, a load reads its extract. ATTEMPTS of a completed task is the number of the claim
-- that completed it (no claim follows a completion), which names the extract's attempt folder.
SELECT p.ID, p.KIND, p.STATUS, p.RESULT, p.ATTEMPTS
FROM {{migration}}.TASK_DEPENDENCY d
JOIN {{migration}}.TASK_QUEUE p
    ON p.ID = d.PREDECESSOR_ID
WHERE d.SUCCESSOR_ID = :task_id
ORDER BY p.ID
