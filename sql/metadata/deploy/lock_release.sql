-- Give the migration lock back; only its owner can.
UPDATE {{migration}}.SCHEMA_MIGRATION_LOCK
SET OWNER = NULL,
    EXPIRES_AT = NULL
WHERE NAME = 'metadata'
  AND OWNER = CAST(:owner AS VARCHAR)
