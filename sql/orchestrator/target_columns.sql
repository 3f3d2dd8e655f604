-- The columns of an existing target table, as Snowflake stores their names. {{target_database}}
-- is the target database as it appears in SQL (plain or quoted).
SELECT COLUMN_NAME, DATA_TYPE
FROM {{target_database}}.INFORMATION_SCHEMA.COLUMNS
WHERE TABLE_SCHEMA = CAST(:schema_name AS VARCHAR)
  AND TABLE_NAME = CAST(:table_name AS VARCHAR)
ORDER BY ORDINAL_POSITION
