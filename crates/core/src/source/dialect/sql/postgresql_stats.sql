-- Row count (exact: a full scan, so the boundary query's bucket arithmetic is exact) and total
-- size in bytes including indexes and TOAST. Parameters: schema, table (catalog spelling).
SELECT CAST((SELECT COUNT(*) FROM {table}) AS BIGINT) AS row_count,
       CAST(COALESCE((SELECT pg_total_relation_size(c.oid)
                      FROM pg_catalog.pg_class AS c
                      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
                      WHERE n.nspname = CAST(? AS TEXT)
                        AND c.relname = CAST(? AS TEXT)), 0) AS BIGINT) AS size_bytes
