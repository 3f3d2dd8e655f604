-- Take back every lease that ran out: the task returns to pending and its abandonment count
-- grows; a task abandoned more than MAX_ABANDONMENTS times fails for good, and that failure
-- cascades to its blocked successors.
--
-- No procedure: only the owner of the metadata schema (the orchestrator) expires leases, as
-- direct statements.
-- @variable now TIMESTAMP_NTZ = SYSDATE()
-- @variable op_token VARCHAR = UUID_STRING()
-- @returns ID BIGINT, STATUS VARCHAR, ABANDONMENTS BIGINT

-- In SET, ABANDONMENTS is the value before this expiry. The rows get this call's token, which
-- fences the lost holder and marks them for the result.
-- @step expire
UPDATE {{migration}}.TASK_QUEUE
SET ABANDONMENTS = ABANDONMENTS + 1,
    STATUS = CASE WHEN ABANDONMENTS < MAX_ABANDONMENTS THEN 'pending' ELSE 'failed' END,
    LAST_ERROR = 'lease of consumer ' || COALESCE(LEASE_OWNER, '?') || ' expired',
    ENDED_AT = CASE WHEN ABANDONMENTS < MAX_ABANDONMENTS THEN NULL ELSE :now END,
    CLAIM_TOKEN = :op_token,
    LEASE_OWNER = NULL,
    LEASE_EXPIRES_AT = NULL,
    VISIBLE_AT = :now
WHERE STATUS = 'executing'
  AND LEASE_EXPIRES_AT < :now;

-- Fail, for good, every blocked task with a failed predecessor. Repeated until it changes no
-- row, so the failure reaches successors of successors.
-- @step cascade_failure repeat
UPDATE {{migration}}.TASK_QUEUE s
SET STATUS = 'failed',
    FAILED_BECAUSE_OF_TASK_ID = f.FAILED_PREDECESSOR_ID,
    LAST_ERROR = 'predecessor task ' || f.FAILED_PREDECESSOR_ID || ' failed',
    ENDED_AT = :now
FROM (
    SELECT d.SUCCESSOR_ID, MIN(p.ID) AS FAILED_PREDECESSOR_ID
    FROM {{migration}}.TASK_DEPENDENCY d
    JOIN {{migration}}.TASK_QUEUE p
        ON p.ID = d.PREDECESSOR_ID
       AND p.STATUS = 'failed'
    JOIN {{migration}}.TASK_QUEUE b
        ON b.ID = d.SUCCESSOR_ID
       AND b.STATUS = 'blocked'
    GROUP BY d.SUCCESSOR_ID
) f
WHERE s.ID = f.SUCCESSOR_ID
  AND s.STATUS = 'blocked';

-- @result
SELECT ID, STATUS, ABANDONMENTS
FROM {{migration}}.TASK_QUEUE
WHERE CLAIM_TOKEN = :op_token
ORDER BY ID;
