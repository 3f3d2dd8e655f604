-- Complete one task with its JSON result, only for the holder of the claim, then unblock the
-- successors whose predecessors have now all completed. Tasks of another executor type than
-- the caller's do not exist for it (in the procedure: every task that is not a worker's).
--
-- @procedure COMPLETE_TASK
-- @executor_type
-- @param task_id BIGINT
-- @param claim_token VARCHAR
-- @param result_json VARCHAR
-- @variable now TIMESTAMP_NTZ = SYSDATE()
-- @returns ID BIGINT, STATUS VARCHAR, BY_CALLER BIGINT

-- @step complete
UPDATE {{migration}}.TASK_QUEUE
SET STATUS = 'completed',
    RESULT = PARSE_JSON(:result_json),
    LEASE_EXPIRES_AT = NULL,
    ENDED_AT = :now
WHERE ID = :task_id
  AND CLAIM_TOKEN = :claim_token
  AND STATUS = 'executing'
  AND EXECUTOR_TYPE = :executor_type;

-- Harmless when the step above changed nothing: the task is then not newly completed. The
-- successors may be of any executor type (a worker's extract unblocks the orchestrator's load):
-- only a successor whose predecessors have all completed is unblocked.
-- @step unblock_successors
UPDATE {{migration}}.TASK_QUEUE s
SET STATUS = 'pending',
    VISIBLE_AT = :now
WHERE s.STATUS = 'blocked'
  AND s.ID IN (
    SELECT d.SUCCESSOR_ID
    FROM {{migration}}.TASK_DEPENDENCY d
    WHERE d.PREDECESSOR_ID = :task_id
  )
  -- and no other predecessor is still unfinished
  AND NOT EXISTS (
    SELECT 1
    FROM {{migration}}.TASK_DEPENDENCY d
    JOIN {{migration}}.TASK_QUEUE p
        ON p.ID = d.PREDECESSOR_ID
    WHERE d.SUCCESSOR_ID = s.ID
      AND p.STATUS <> 'completed'
  );

-- A completed task keeps its claim token, so a repeated completion by the same holder (after
-- a lost answer) is recognised as done rather than refused.
-- @result
SELECT
    ID,
    STATUS,
    CASE WHEN STATUS = 'completed' AND CLAIM_TOKEN = :claim_token THEN 1 ELSE 0 END AS BY_CALLER
FROM {{migration}}.TASK_QUEUE
WHERE ID = :task_id
  AND EXECUTOR_TYPE = :executor_type;
