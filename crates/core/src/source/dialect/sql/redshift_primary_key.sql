-- Primary-key columns of one table in key order (informational constraints in Redshift).
-- Parameters: schema, table (catalog spelling).
SELECT CAST(k.column_name AS VARCHAR(128)) AS column_name
FROM information_schema.table_constraints AS tc
JOIN information_schema.key_column_usage AS k
  ON k.constraint_schema = tc.constraint_schema
 AND k.constraint_name = tc.constraint_name
 AND k.table_name = tc.table_name
WHERE tc.constraint_type = 'PRIMARY KEY'
  AND tc.table_schema = ?
  AND tc.table_name = ?
ORDER BY k.ordinal_position
