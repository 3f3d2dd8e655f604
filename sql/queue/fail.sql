-- Report the failure of one task, only for the holder of the claim. A retryable failure with
-- retries left returns the task to pending, invisible for an exponential backoff of
-- min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2^(earlier failures)); any other failure is
-- terminal and cascades to the blocked successors. Tasks of another executor type than the
-- caller's do not exist for it (in the procedure: every task that is not a worker's).
--
-- @procedure FAIL_TASK
-- @executor_type
-- @param task_id BIGINT
-- @param claim_token VARCHAR
-- @param error_message VARCHAR
-- @param retryable BOOLEAN
-- @variable now TIMESTAMP_NTZ = SYSDATE()
-- @returns ID BIGINT, STATUS VARCHAR, BY_CALLER BIGINT, FAILURES BIGINT, RETRY_DELAY_SECONDS BIGINT

-- In SET, FAILURES is the value before this failure (SQL reads the old row).
-- @step fail
UPDATE {{migration}}.TASK_QUEUE
SET FAILURES = FAILURES + 1,
    LAST_ERROR = :error_message,
    STATUS = CASE WHEN :retryable AND FAILURES < MAX_RETRIES THEN 'pending' ELSE 'failed' END,
    VISIBLE_AT = CASE
        WHEN :retryable AND FAILURES < MAX_RETRIES
        THEN DATEADD(second, LEAST(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * POWER(2, LEAST(FAILURES, 30)))::BIGINT, :now)
        ELSE VISIBLE_AT
    END,
    ENDED_AT = CASE WHEN :retryable AND FAILURES < MAX_RETRIES THEN NULL ELSE :now END,
    LEASE_OWNER = CASE WHEN :retryable AND FAILURES < MAX_RETRIES THEN NULL ELSE LEASE_OWNER END,
    LEASE_EXPIRES_AT = NULL
WHERE ID = :task_id
  AND CLAIM_TOKEN = :claim_token
  AND STATUS = 'executing'
  AND EXECUTOR_TYPE = :executor_type;

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

-- The claim token stays on the row, so BY_CALLER tells the caller's own failure from a
-- refused one. RETRY_DELAY_SECONDS is the backoff just applied (FAILURES is now incremented).
-- @result
SELECT
    ID,
    STATUS,
    CASE WHEN STATUS IN ('pending', 'failed') AND CLAIM_TOKEN = :claim_token THEN 1 ELSE 0 END AS BY_CALLER,
    FAILURES,
    CASE
        WHEN STATUS = 'pending'
        THEN LEAST(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * POWER(2, LEAST(FAILURES - 1, 30)))::BIGINT
    END AS RETRY_DELAY_SECONDS
FROM {{migration}}.TASK_QUEUE
WHERE ID = :task_id
  AND EXECUTOR_TYPE = :executor_type;
