-- Give tasks back on a graceful shutdown: they return to pending at once, and the give-back
-- counts neither as a failure nor as an abandonment. Only the holder's claims are released.
-- :leases is a JSON array of {"task_id", "claim_token"}, all of the caller's executor type
-- (in the procedure: 'worker').
--
-- @procedure RELEASE_TASKS
-- @executor_type
-- @param leases VARCHAR
-- @variable now TIMESTAMP_NTZ = SYSDATE()
-- @variable op_token VARCHAR = UUID_STRING()
-- @returns ID BIGINT

-- The rows get this call's token, which fences the old claim and marks them for the result.
-- @step release
UPDATE {{migration}}.TASK_QUEUE q
SET STATUS = 'pending',
    CLAIM_TOKEN = :op_token,
    LEASE_OWNER = NULL,
    LEASE_EXPIRES_AT = NULL,
    VISIBLE_AT = :now
FROM (
    SELECT
        l.value:task_id::BIGINT AS TASK_ID,
        l.value:claim_token::VARCHAR AS CLAIM_TOKEN
    FROM TABLE(FLATTEN(INPUT => PARSE_JSON(:leases))) l
) r
WHERE q.ID = r.TASK_ID
  AND q.CLAIM_TOKEN = r.CLAIM_TOKEN
  AND q.STATUS = 'executing'
  AND q.EXECUTOR_TYPE = :executor_type;

-- @result
SELECT ID
FROM {{migration}}.TASK_QUEUE
WHERE CLAIM_TOKEN = :op_token
ORDER BY ID;
