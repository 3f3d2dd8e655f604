-- Columns of one table in table order. Parameter: table. SQLite reports the declared type text
-- (e.g. DECIMAL(10,2)), its parameters are split out in Rust (`catalog::parse_declared_type`).
SELECT name AS column_name,
       type AS data_type,
       NULL AS numeric_precision,
       NULL AS numeric_scale,
       NULL AS char_length,
       CASE WHEN "notnull" = 1 THEN 'NO' ELSE 'YES' END AS is_nullable,
       cid + 1 AS ordinal_position
FROM pragma_table_info(?)
ORDER BY cid
