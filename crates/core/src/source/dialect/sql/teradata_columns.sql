-- Columns of one table in table order. Parameters: database (the workflow's schemaName), table.
SELECT TRIM(c.ColumnName) AS column_name,
       -- two-letter type codes: I, I8, D, N, CV, TS, SZ, ...
       TRIM(c.ColumnType) AS data_type,
       CAST(c.DecimalTotalDigits AS INTEGER) AS numeric_precision,
       -- fraction digits for TIME/TIMESTAMP types
       CAST(c.DecimalFractionalDigits AS INTEGER) AS numeric_scale,
       -- ColumnLength is in bytes, UNICODE (CharType 2) stores two bytes per character
       CAST(CASE WHEN c.CharType = 2 THEN c.ColumnLength / 2 ELSE c.ColumnLength END AS INTEGER) AS char_length,
       CASE WHEN c.Nullable = 'Y' THEN 'YES' ELSE 'NO' END AS is_nullable,
       -- ColumnId starts at 1025: number the columns instead
       CAST(ROW_NUMBER() OVER (ORDER BY c.ColumnId) AS INTEGER) AS ordinal_position
FROM DBC.ColumnsV AS c
WHERE c.DatabaseName = ?
  AND c.TableName = ?
ORDER BY c.ColumnId
