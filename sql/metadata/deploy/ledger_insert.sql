-- Record the outcome of a migration version attempted for the first time.
INSERT INTO {{migration}}.SCHEMA_MIGRATION
    (VERSION, DESCRIPTION, CHECKSUM, APPLIED_AT, EXECUTION_TIME_MS, SUCCESS, APPLIED_BY, LAST_ERROR)
VALUES (
    CAST(:version AS BIGINT),
    CAST(:description AS VARCHAR),
    CAST(:checksum AS VARCHAR),
    CAST(:now AS TIMESTAMP_NTZ),
    CAST(:execution_time_ms AS BIGINT),
    CAST(:success AS BOOLEAN),
    CAST(:applied_by AS VARCHAR),
    CAST(:last_error AS VARCHAR)
)
