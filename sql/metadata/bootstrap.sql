-- Objects every deployment needs before the versioned migrations can run: the metadata
-- database and schemas, the migration ledger and the migration lock. Run on every deploy;
-- every statement is idempotent. `{{database}}`, `{{migration}}` and `{{validation}}` are
-- replaced by the CUSTOM_* names (see metadata::MetadataNames).

CREATE DATABASE IF NOT EXISTS {{database}};

CREATE SCHEMA IF NOT EXISTS {{migration}};

CREATE SCHEMA IF NOT EXISTS {{validation}};

-- One row per migration version that was attempted. SUCCESS = FALSE marks a version whose
-- last attempt failed part-way; the next deploy runs it again (its statements are idempotent).
CREATE TABLE IF NOT EXISTS {{migration}}.SCHEMA_MIGRATION (
    VERSION NUMBER(38,0) NOT NULL PRIMARY KEY,
    DESCRIPTION VARCHAR NOT NULL,
    CHECKSUM VARCHAR NOT NULL,
    APPLIED_AT TIMESTAMP_NTZ NOT NULL,
    EXECUTION_TIME_MS NUMBER(38,0),
    SUCCESS BOOLEAN NOT NULL,
    APPLIED_BY VARCHAR,
    LAST_ERROR VARCHAR
);

-- A lease-style lock: a deployer owns the row while OWNER is its token and EXPIRES_AT is in
-- the future. A crashed deployer's lease simply runs out.
CREATE TABLE IF NOT EXISTS {{migration}}.SCHEMA_MIGRATION_LOCK (
    NAME VARCHAR NOT NULL PRIMARY KEY,
    OWNER VARCHAR,
    ACQUIRED_AT TIMESTAMP_NTZ,
    EXPIRES_AT TIMESTAMP_NTZ
);

-- MERGE rather than INSERT ... WHERE NOT EXISTS: MERGE locks the table in Snowflake, so two
-- deployers starting together still create a single lock row.
MERGE INTO {{migration}}.SCHEMA_MIGRATION_LOCK l
USING (SELECT 'metadata' AS NAME) s
    ON l.NAME = s.NAME
WHEN NOT MATCHED THEN INSERT (NAME, OWNER, ACQUIRED_AT, EXPIRES_AT) VALUES (s.NAME, NULL, NULL, NULL);
