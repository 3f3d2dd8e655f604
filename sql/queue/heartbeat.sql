-- Extend the lease of one task by its LEASE_SECONDS, only for the holder of the claim.
-- A hung task whose consumer stops calling this loses its lease (see expire.sql). Tasks of
-- another executor type than the caller's do not exist for it (in the procedure: every task
-- that is not a worker's).
--
-- @procedure HEARTBEAT_TASK
-- @executor_type
-- @param task_id BIGINT
-- @param claim_token VARCHAR
-- @variable now TIMESTAMP_NTZ = SYSDATE()
-- @returns ID BIGINT, STATUS VARCHAR, BY_CALLER BIGINT

-- @step extend_lease
UPDATE {{migration}}.TASK_QUEUE
SET LEASE_EXPIRES_AT = DATEADD(second, LEASE_SECONDS, :now)
WHERE ID = :task_id
  AND CLAIM_TOKEN = :claim_token
  AND STATUS = 'executing'
  AND EXECUTOR_TYPE = :executor_type;

-- @result
SELECT
    ID,
    STATUS,
    CASE WHEN STATUS = 'executing' AND CLAIM_TOKEN = :claim_token THEN 1 ELSE 0 END AS BY_CALLER
FROM {{migration}}.TASK_QUEUE
WHERE ID = :task_id
  AND EXECUTOR_TYPE = :executor_type;
