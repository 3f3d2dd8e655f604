-- V005: the registry of daemon sessions. Idempotent.
--
-- Snowflake keeps the session of a killed client, with its open transaction and the locks that
-- transaction holds, until the session expires (hours without a heartbeat). Every daemon writes
-- one row per session that may hold locks, right after its login, so that a daemon restarted on
-- the same host can end the sessions of its dead predecessors at once (SYSTEM$ABORT_SESSION)
-- instead of leaving the task queue locked. See sql/sessions/.

USE SCHEMA {{migration}};

CREATE TABLE IF NOT EXISTS {{migration}}.DAEMON_SESSION (
    SESSION_ID VARCHAR NOT NULL,             -- CURRENT_SESSION() of the registered session
    CONSUMER_ID VARCHAR NOT NULL,            -- the daemon's queue consumer id (LEASE_OWNER)
    HOST VARCHAR NOT NULL,                   -- where the daemon runs
    PID NUMBER(38,0) NOT NULL,               -- its process id on that host
    STARTED_AT TIMESTAMP_NTZ NOT NULL
);
