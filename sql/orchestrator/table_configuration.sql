-- The merged configuration and target of one table.
SELECT TABLE_CONFIGURATION, TARGET_IDENTIFIER, SOURCE_IDENTIFIER
FROM {{migration}}.TABLE_METADATA
WHERE ID = :table_id
