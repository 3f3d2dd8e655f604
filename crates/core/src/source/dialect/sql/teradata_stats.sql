-- Row count (exact COUNT(*): statistics may be missing or stale) and permanent space in bytes
-- summed over all AMPs. Parameters: database, table.
LOCKING ROW FOR ACCESS
SELECT CAST((SELECT COUNT(*) FROM {table}) AS BIGINT) AS row_count,
       CAST((SELECT COALESCE(SUM(s.CurrentPerm), 0)
             FROM DBC.TableSizeV AS s
             WHERE s.DatabaseName = ? AND s.TableName = ?) AS BIGINT) AS size_bytes
