-- Push a batch of tasks of one workflow in one statement, then the dependency edges between
-- them. Tasks with a predecessor start blocked; the others start pending. IDs come from the
-- AUTOINCREMENT column; the rows are found again by this call's PUSH_TOKEN.
--
-- :tasks is a JSON array, one object per task, in push order:
--   {"index", "executor_type", "kind", "name", "table_id", "partition_id", "payload",
--    "priority", "blocked", "lease_seconds", "max_retries", "max_abandonments",
--    "backoff_base_seconds", "backoff_max_seconds"}
-- :edges is a JSON array of {"predecessor_index", "successor_index"} (indexes into :tasks).
--
-- No procedure: only the owner of the metadata schema (the orchestrator) pushes tasks, as
-- direct statements; a worker must not be able to push tasks of its own.
-- @param workflow_id BIGINT
-- @param tasks VARCHAR
-- @param edges VARCHAR
-- @variable now TIMESTAMP_NTZ = SYSDATE()
-- @variable op_token VARCHAR = UUID_STRING()
-- @returns PUSH_INDEX BIGINT, ID BIGINT, STATUS VARCHAR

-- @step insert_tasks
INSERT INTO {{migration}}.TASK_QUEUE (
    WORKFLOW_ID, EXECUTOR_TYPE, KIND, NAME, TABLE_ID, PARTITION_ID, PAYLOAD, STATUS,
    PRIORITY, AFFINITY, LEASE_SECONDS, ATTEMPTS, FAILURES, ABANDONMENTS, MAX_RETRIES,
    MAX_ABANDONMENTS, BACKOFF_BASE_SECONDS, BACKOFF_MAX_SECONDS, PUSH_TOKEN, PUSH_INDEX,
    VISIBLE_AT, CREATED_AT
)
SELECT
    :workflow_id,
    t.value:executor_type::VARCHAR,
    t.value:kind::VARCHAR,
    t.value:name::VARCHAR,
    t.value:table_id::BIGINT,
    t.value:partition_id::BIGINT,
    t.value:payload,
    CASE WHEN t.value:blocked::BOOLEAN THEN 'blocked' ELSE 'pending' END,
    t.value:priority::BIGINT,
    -- tasks inherit the affinity of their workflow
    (SELECT w.AFFINITY FROM {{migration}}.WORKFLOW w WHERE w.ID = :workflow_id),
    t.value:lease_seconds::BIGINT,
    0,
    0,
    0,
    t.value:max_retries::BIGINT,
    t.value:max_abandonments::BIGINT,
    t.value:backoff_base_seconds::BIGINT,
    t.value:backoff_max_seconds::BIGINT,
    :op_token,
    t.value:index::BIGINT,
    :now,
    :now
FROM TABLE(FLATTEN(INPUT => PARSE_JSON(:tasks))) t
-- idempotent for this call's token: a retry of the operation inserts nothing twice
WHERE NOT EXISTS (
    SELECT 1
    FROM {{migration}}.TASK_QUEUE q
    WHERE q.PUSH_TOKEN = :op_token
);

-- @step insert_edges
INSERT INTO {{migration}}.TASK_DEPENDENCY (WORKFLOW_ID, PREDECESSOR_ID, SUCCESSOR_ID)
SELECT :workflow_id, p.ID, s.ID
FROM TABLE(FLATTEN(INPUT => PARSE_JSON(:edges))) e
JOIN {{migration}}.TASK_QUEUE p
    ON p.PUSH_TOKEN = :op_token
   AND p.PUSH_INDEX = e.value:predecessor_index::BIGINT
JOIN {{migration}}.TASK_QUEUE s
    ON s.PUSH_TOKEN = :op_token
   AND s.PUSH_INDEX = e.value:successor_index::BIGINT
WHERE NOT EXISTS (
    SELECT 1
    FROM {{migration}}.TASK_DEPENDENCY x
    WHERE x.PREDECESSOR_ID = p.ID
      AND x.SUCCESSOR_ID = s.ID
);

-- @result
SELECT PUSH_INDEX, ID, STATUS
FROM {{migration}}.TASK_QUEUE
WHERE PUSH_TOKEN = :op_token
ORDER BY PUSH_INDEX;
