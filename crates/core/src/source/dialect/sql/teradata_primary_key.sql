-- Primary-key columns (IndexType K) in key order. Parameters: database, table.
SELECT TRIM(i.ColumnName) AS column_name
FROM DBC.IndicesV AS i
WHERE i.DatabaseName = ?
  AND i.TableName = ?
  AND i.IndexType = 'K'
ORDER BY i.ColumnPosition
