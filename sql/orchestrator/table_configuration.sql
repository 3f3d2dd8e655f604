-- The merged configuration, target, source and recorded analysis (NULL until planned) of one
-- table.
SELECT TABLE_CONFIGURATION, TARGET_IDENTIFIER, SOURCE_IDENTIFIER, ANALYSIS
FROM {{migration}}.TABLE_METADATA
WHERE ID = :table_id
