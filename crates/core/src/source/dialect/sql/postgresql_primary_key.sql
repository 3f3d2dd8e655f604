-- Primary-key columns of one table in key order. Parameters: schema, table (catalog spelling).
SELECT CAST(a.attname AS TEXT) AS column_name
FROM pg_catalog.pg_index AS i
JOIN pg_catalog.pg_class AS c ON c.oid = i.indrelid
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
-- indkey (an int2vector, unnested as smallint[]) lists the attribute numbers in key order
CROSS JOIN LATERAL unnest(CAST(i.indkey AS SMALLINT[])) WITH ORDINALITY AS k(attnum, position)
JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid AND a.attnum = k.attnum
WHERE i.indisprimary
  AND n.nspname = CAST(? AS TEXT)
  AND c.relname = CAST(? AS TEXT)
ORDER BY k.position
