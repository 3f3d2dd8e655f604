-- Columns of one table in table order. Parameters: schema, table (catalog spelling).
SELECT CAST(c.column_name AS VARCHAR(128)) AS column_name,
       CAST(c.data_type AS VARCHAR(128)) AS data_type,
       CAST(CASE WHEN c.data_type = 'numeric' THEN c.numeric_precision END AS INTEGER) AS numeric_precision,
       -- time and timestamp types report fractional-second digits as their scale
       CAST(CASE
                WHEN c.data_type = 'numeric' THEN c.numeric_scale
                ELSE c.datetime_precision
            END AS INTEGER) AS numeric_scale,
       CAST(c.character_maximum_length AS INTEGER) AS char_length,
       CAST(c.is_nullable AS VARCHAR(3)) AS is_nullable,
       CAST(c.ordinal_position AS INTEGER) AS ordinal_position
FROM information_schema.columns AS c
WHERE c.table_schema = ?
  AND c.table_name = ?
ORDER BY c.ordinal_position
