-- Row count and size of the heap or clustered index (index_id 0 or 1) from the catalog:
-- no table scan. Parameters: schema, table, schema, table.
SELECT
    (SELECT CAST(COALESCE(SUM(p.rows), 0) AS BIGINT)
     FROM {database}.sys.partitions AS p
     JOIN {database}.sys.tables AS t ON t.object_id = p.object_id
     JOIN {database}.sys.schemas AS s ON s.schema_id = t.schema_id
     WHERE s.name = ? AND t.name = ? AND p.index_id IN (0, 1)) AS row_count,
    -- pages of 8 KB, in-row, row-overflow and LOB data alike
    (SELECT CAST(COALESCE(SUM(a.total_pages), 0) AS BIGINT) * 8192
     FROM {database}.sys.allocation_units AS a
     JOIN {database}.sys.partitions AS p ON p.partition_id = a.container_id
     JOIN {database}.sys.tables AS t ON t.object_id = p.object_id
     JOIN {database}.sys.schemas AS s ON s.schema_id = t.schema_id
     WHERE s.name = ? AND t.name = ? AND p.index_id IN (0, 1)) AS size_bytes
