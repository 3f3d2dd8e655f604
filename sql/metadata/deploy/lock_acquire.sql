-- Take the migration lock when it is free or its lease ran out; a second deployer's UPDATE
-- changes no row. Renewing is the same statement by the current owner.
UPDATE {{migration}}.SCHEMA_MIGRATION_LOCK
SET OWNER = CAST(:owner AS VARCHAR),
    ACQUIRED_AT = CAST(:now AS TIMESTAMP_NTZ),
    EXPIRES_AT = CAST(:expires_at AS TIMESTAMP_NTZ)
WHERE NAME = 'metadata'
  AND (OWNER IS NULL OR OWNER = CAST(:owner AS VARCHAR) OR EXPIRES_AT < CAST(:now AS TIMESTAMP_NTZ))
