-- Columns of one table in table order. Parameters: schema, table (catalog spelling).
-- Every output is cast to text/integer so native clients need no domain-type support.
SELECT CAST(c.column_name AS TEXT) AS column_name,
       -- arrays and user-defined types report a generic data_type: name the real type
       CAST(CASE
                WHEN c.data_type = 'ARRAY' THEN 'ARRAY'
                WHEN c.data_type = 'USER-DEFINED' AND t.typtype = 'e' THEN 'enum'
                WHEN c.data_type = 'USER-DEFINED' THEN c.udt_name
                ELSE c.data_type
            END AS TEXT) AS data_type,
       -- numeric_precision of integer and float types is binary (radix 2): only decimals count
       CAST(CASE WHEN c.data_type = 'numeric' THEN c.numeric_precision END AS INTEGER) AS numeric_precision,
       -- time and timestamp types report fractional-second digits as their scale
       CAST(CASE
                WHEN c.data_type = 'numeric' THEN c.numeric_scale
                ELSE c.datetime_precision
            END AS INTEGER) AS numeric_scale,
       CAST(c.character_maximum_length AS INTEGER) AS char_length,
       CAST(c.is_nullable AS TEXT) AS is_nullable,
       CAST(c.ordinal_position AS INTEGER) AS ordinal_position
FROM information_schema.columns AS c
JOIN pg_catalog.pg_namespace AS tn ON tn.nspname = c.udt_schema
JOIN pg_catalog.pg_type AS t ON t.typname = c.udt_name AND t.typnamespace = tn.oid
WHERE c.table_schema = CAST(? AS TEXT)
  AND c.table_name = CAST(? AS TEXT)
ORDER BY c.ordinal_position
