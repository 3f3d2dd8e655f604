-- V004: the data-validation schema's result table (filled by validation workflows).
-- Idempotent.

-- Objects are created while their own schema is current: an AUTOINCREMENT column's sequence
-- then lives next to its table on the emulator too (deploy restores the session's schema).
USE SCHEMA {{validation}};

CREATE TABLE IF NOT EXISTS {{validation}}.VALIDATION_RESULT (
    ID NUMBER(38,0) AUTOINCREMENT START 1 INCREMENT 1,
    WORKFLOW_ID NUMBER(38,0) NOT NULL,
    TASK_ID NUMBER(38,0),
    SOURCE_IDENTIFIER VARCHAR NOT NULL,
    TARGET_IDENTIFIER VARCHAR,
    VALIDATION_LEVEL VARCHAR NOT NULL,       -- schema | metrics | rows
    PARTITION_NUMBER NUMBER(38,0),
    STATUS VARCHAR NOT NULL,                 -- passed | failed | error
    DETAILS VARIANT,                         -- per-level comparison details, mismatching rows
    ERROR_MESSAGE VARCHAR,
    CREATED_AT TIMESTAMP_NTZ NOT NULL
);
