-- Claim up to :capacity visible tasks for one consumer and return them. The claim is a
-- conditional UPDATE that stamps the rows with this call's fresh token; the rows are then
-- read back by that token, so a consumer never sees a task it did not win. A consumer claims
-- only tasks of its executor type: the trusted caller's own in a direct transaction, always
-- 'worker' in the procedure (a worker role cannot claim orchestrator tasks).
--
-- @procedure PULL_TASKS
-- @executor_type
-- @param consumer_id VARCHAR
-- @param affinity VARCHAR
-- @param capacity BIGINT
-- @variable now TIMESTAMP_NTZ = SYSDATE()
-- @variable op_token VARCHAR = UUID_STRING()
-- @returns ID BIGINT, WORKFLOW_ID BIGINT, KIND VARCHAR, NAME VARCHAR, TABLE_ID BIGINT, PARTITION_ID BIGINT, PAYLOAD VARIANT, CLAIM_TOKEN VARCHAR, ATTEMPTS BIGINT, LEASE_SECONDS BIGINT

-- @step claim
UPDATE {{migration}}.TASK_QUEUE
SET STATUS = 'executing',
    LEASE_OWNER = :consumer_id,
    CLAIM_TOKEN = :op_token,
    LEASE_EXPIRES_AT = DATEADD(second, LEASE_SECONDS, :now),
    ATTEMPTS = ATTEMPTS + 1,
    STARTED_AT = COALESCE(STARTED_AT, :now),
    LAST_CLAIMED_AT = :now
-- re-checked on the row itself: a concurrent claimer may have taken a candidate meanwhile
WHERE STATUS = 'pending'
  AND ID IN (
    SELECT c.ID
    FROM {{migration}}.TASK_QUEUE c
    WHERE c.STATUS = 'pending'
      AND c.EXECUTOR_TYPE = :executor_type
      -- backoff: a retried task stays invisible until VISIBLE_AT
      AND (c.VISIBLE_AT IS NULL OR c.VISIBLE_AT <= :now)
      -- affinity: equal, or either side unset, or the consumer's pattern with * matches
      -- (LIKE wildcards in the consumer's value are escaped so only * is a wildcard)
      AND (
        c.AFFINITY = :affinity
        OR c.AFFINITY IS NULL
        OR :affinity IS NULL
        OR (
          CONTAINS(:affinity, '*')
          AND c.AFFINITY LIKE REPLACE(REPLACE(REPLACE(REPLACE(:affinity, '\\', '\\\\'), '%', '\\%'), '_', '\\_'), '*', '%') ESCAPE '\\'
        )
      )
      -- a pending task has no unfinished predecessor; checked again as a safety net
      AND NOT EXISTS (
        SELECT 1
        FROM {{migration}}.TASK_DEPENDENCY d
        JOIN {{migration}}.TASK_QUEUE p
            ON p.ID = d.PREDECESSOR_ID
        WHERE d.SUCCESSOR_ID = c.ID
          AND p.STATUS <> 'completed'
      )
    QUALIFY ROW_NUMBER() OVER (ORDER BY c.PRIORITY, c.ID) <= :capacity
  );

-- @result
SELECT ID, WORKFLOW_ID, KIND, NAME, TABLE_ID, PARTITION_ID, PAYLOAD, CLAIM_TOKEN, ATTEMPTS, LEASE_SECONDS
FROM {{migration}}.TASK_QUEUE
WHERE CLAIM_TOKEN = :op_token
  AND STATUS = 'executing'
ORDER BY PRIORITY, ID;
