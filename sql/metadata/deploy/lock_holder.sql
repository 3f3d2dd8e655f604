-- Who holds the migration lock, for the error message of a deployer that waited too long.
SELECT OWNER
FROM {{migration}}.SCHEMA_MIGRATION_LOCK
WHERE NAME = 'metadata'
