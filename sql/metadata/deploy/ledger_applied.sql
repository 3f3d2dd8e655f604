-- Versions already applied successfully, with the checksum they were applied with.
SELECT VERSION, CHECKSUM
FROM {{migration}}.SCHEMA_MIGRATION
WHERE SUCCESS = TRUE
ORDER BY VERSION
