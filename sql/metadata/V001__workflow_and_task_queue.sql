-- V001: workflows, the task queue and its dependency edges.
-- Idempotent (IF NOT EXISTS): a version that failed part-way is completed by running it again.

-- Objects are created while their own schema is current: an AUTOINCREMENT column's sequence
-- then lives next to its table on the emulator too (deploy restores the session's schema).
USE SCHEMA {{migration}};

-- IDs are AUTOINCREMENT (no ORDER guarantee). Snowflake does not enforce UNIQUE on standard
-- tables; creating a workflow checks the name in the same statement (workflow_create.sql).
CREATE TABLE IF NOT EXISTS {{migration}}.WORKFLOW (
    ID NUMBER(38,0) AUTOINCREMENT START 1 INCREMENT 1 PRIMARY KEY,
    NAME VARCHAR NOT NULL UNIQUE,
    WORKFLOW_TYPE VARCHAR NOT NULL,          -- data-migration | data-validation
    SOURCE_PLATFORM VARCHAR NOT NULL,
    STATUS VARCHAR NOT NULL,                 -- pending | executing | completed
    AFFINITY VARCHAR,
    CONFIGURATION VARIANT,                   -- the validated, merged configuration
    CONNECTION_NAME VARCHAR,
    LEASE_OWNER VARCHAR,                     -- the orchestrator driving the workflow
    CLAIM_TOKEN VARCHAR,
    LEASE_EXPIRES_AT TIMESTAMP_NTZ,
    CREATED_AT TIMESTAMP_NTZ NOT NULL,
    STARTED_AT TIMESTAMP_NTZ,
    ENDED_AT TIMESTAMP_NTZ,
    LAST_ERROR VARCHAR
);

-- The queue. STATUS moves blocked -> pending -> executing -> completed | failed; a retryable
-- failure, an expired lease or a release moves executing back to pending. No primary key is
-- declared: IDs are AUTOINCREMENT and the emulator's index would only add conflicts.
CREATE TABLE IF NOT EXISTS {{migration}}.TASK_QUEUE (
    ID NUMBER(38,0) AUTOINCREMENT START 1 INCREMENT 1,
    WORKFLOW_ID NUMBER(38,0) NOT NULL,
    EXECUTOR_TYPE VARCHAR NOT NULL,          -- worker | orchestrator
    KIND VARCHAR NOT NULL,                   -- analyze | extract | load | ...
    NAME VARCHAR,                            -- for people: "extract partition 3 of DB.S.T"
    TABLE_ID NUMBER(38,0),                   -- TABLE_METADATA.ID the task works on, if any
    PARTITION_ID NUMBER(38,0),               -- PARTITION_METADATA.ID the task works on, if any
    PAYLOAD VARIANT,
    STATUS VARCHAR NOT NULL,
    PRIORITY NUMBER(38,0) NOT NULL,          -- lower runs first
    AFFINITY VARCHAR,                        -- copied from the workflow at push
    LEASE_OWNER VARCHAR,                     -- consumer holding (or last completing) the task
    CLAIM_TOKEN VARCHAR,                     -- fresh per claim; fences heartbeat/complete/fail
    LEASE_SECONDS NUMBER(38,0) NOT NULL,     -- lease length granted per claim and heartbeat
    LEASE_EXPIRES_AT TIMESTAMP_NTZ,
    VISIBLE_AT TIMESTAMP_NTZ,                -- not pullable before (retry backoff)
    ATTEMPTS NUMBER(38,0) NOT NULL,          -- claims so far
    FAILURES NUMBER(38,0) NOT NULL,          -- reported failures so far
    ABANDONMENTS NUMBER(38,0) NOT NULL,      -- expired leases so far
    MAX_RETRIES NUMBER(38,0) NOT NULL,       -- retryable failures allowed before failing for good
    MAX_ABANDONMENTS NUMBER(38,0) NOT NULL,  -- expired leases allowed before failing for good
    BACKOFF_BASE_SECONDS NUMBER(38,0) NOT NULL,
    BACKOFF_MAX_SECONDS NUMBER(38,0) NOT NULL,
    RESULT VARIANT,                          -- the JSON result of a completed task
    LAST_ERROR VARCHAR,
    FAILED_BECAUSE_OF_TASK_ID NUMBER(38,0),  -- set when a predecessor's failure cascaded here
    PUSH_TOKEN VARCHAR,                      -- identifies the push call that created the row
    PUSH_INDEX NUMBER(38,0),                 -- position of the task in that push
    CREATED_AT TIMESTAMP_NTZ NOT NULL,
    STARTED_AT TIMESTAMP_NTZ,                -- first claim
    LAST_CLAIMED_AT TIMESTAMP_NTZ,
    ENDED_AT TIMESTAMP_NTZ
);

-- Edges of the task DAG: SUCCESSOR_ID stays blocked until every PREDECESSOR_ID completed.
CREATE TABLE IF NOT EXISTS {{migration}}.TASK_DEPENDENCY (
    WORKFLOW_ID NUMBER(38,0) NOT NULL,
    PREDECESSOR_ID NUMBER(38,0) NOT NULL,
    SUCCESSOR_ID NUMBER(38,0) NOT NULL
);
