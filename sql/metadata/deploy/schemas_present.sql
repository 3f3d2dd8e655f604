-- Which metadata schemas exist already: deploy creates the database and schemas only when
-- missing, so a role without CREATE DATABASE can run it against a prepared account.
SELECT SCHEMA_NAME
FROM {{database}}.INFORMATION_SCHEMA.SCHEMATA
WHERE SCHEMA_NAME IN (CAST(:migration_schema AS VARCHAR), CAST(:validation_schema AS VARCHAR))
