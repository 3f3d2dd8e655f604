-- Record the outcome of an attempted migration version that the ledger already knows (an
-- earlier failed attempt). Runs under the migration lock, so no MERGE is needed.
UPDATE {{migration}}.SCHEMA_MIGRATION
SET DESCRIPTION = CAST(:description AS VARCHAR),
    CHECKSUM = CAST(:checksum AS VARCHAR),
    APPLIED_AT = CAST(:now AS TIMESTAMP_NTZ),
    EXECUTION_TIME_MS = CAST(:execution_time_ms AS BIGINT),
    SUCCESS = CAST(:success AS BOOLEAN),
    APPLIED_BY = CAST(:applied_by AS VARCHAR),
    LAST_ERROR = CAST(:last_error AS VARCHAR)
WHERE VERSION = CAST(:version AS BIGINT)
