-- Columns of one table in table order. Parameters: schema, table.
SELECT c.COLUMN_NAME AS column_name,
       c.DATA_TYPE AS data_type,
       CAST(c.NUMERIC_PRECISION AS INT) AS numeric_precision,
       -- decimals report their scale, time, datetime2 and datetimeoffset their fraction digits
       CAST(COALESCE(c.NUMERIC_SCALE, c.DATETIME_PRECISION) AS INT) AS numeric_scale,
       -- characters for (n)char/(n)varchar, bytes for binary types, -1 for (max)
       CAST(c.CHARACTER_MAXIMUM_LENGTH AS INT) AS char_length,
       c.IS_NULLABLE AS is_nullable,
       CAST(c.ORDINAL_POSITION AS INT) AS ordinal_position
FROM {database}.INFORMATION_SCHEMA.COLUMNS AS c
WHERE c.TABLE_SCHEMA = ?
  AND c.TABLE_NAME = ?
ORDER BY c.ORDINAL_POSITION
