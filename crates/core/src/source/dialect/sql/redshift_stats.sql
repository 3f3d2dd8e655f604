-- Row count and size from SVV_TABLE_INFO (estimates: tbl_rows includes rows marked deleted
-- until VACUUM, size is in 1 MB blocks). An empty table has no row there: 0, 0.
-- Parameters: schema, table (catalog spelling).
SELECT CAST(COALESCE(MAX(tbl_rows), 0) AS BIGINT) AS row_count,
       CAST(COALESCE(MAX(size), 0) AS BIGINT) * 1048576 AS size_bytes
FROM svv_table_info
WHERE "schema" = ?
  AND "table" = ?
